/**
 * `restore --only dumps` (docs/dumps.md): a restore point's database dumps loaded back into the
 * unit's running database containers, each database first dumped as it is now into a
 * `type=pre-restore` snapshot (so the load can be undone), or, with `--to-dir`, written as `.sql`
 * files and nothing else. Takes the host lock like every restore into Docker.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import { StowageError } from "../core/errors.ts";
import type { SnapshotInfo } from "../core/model.ts";
import type { BackupRepository, EventSink } from "../core/ports.ts";
import type { RestorePoint } from "../core/restore/points.ts";
import { backupIdFor, buildTags, isoSeconds } from "../core/tags.ts";
import { dumpFileName, type DumpTarget, loadCommand, stderrTail } from "../core/backup/dumps.ts";
import { listDatabases, resolveCredentials, streamDump } from "../core/backup/dump_exec.ts";
import { COMPOSE_LABELS } from "../core/compose_labels.ts";
import { lockAndRecover } from "./host_lock.ts";
import type { Services } from "./services.ts";

export type DumpRestoreServices = Pick<
  Services,
  "engine" | "clock" | "hostname" | "locks" | "journal"
>;

export interface DumpRestoreReport {
  backupId: string;
  /** Databases loaded (or written with --to-dir), as `service/database`. */
  databases: string[];
  /** --to-dir: the files written. */
  files: string[];
  /** The safety dumps' backup id: `restore --backup-id` it with `--only dumps` to undo. */
  safetyBackupId?: string;
}

/** The dump snapshots of a point, optionally only the named database. */
export function dumpsOf(point: RestorePoint, database?: string): SnapshotInfo[] {
  const all = point.snapshots.filter((s) => s.dump && !s.invalid);
  const picked = database === undefined ? all : all.filter((s) => s.dump!.database === database);
  if (picked.length === 0) {
    throw new StowageError(
      "snapshot.notfound",
      database === undefined
        ? `Restore point ${point.backupId} of unit '${point.unit}' holds no database dump`
        : `Restore point ${point.backupId} of unit '${point.unit}' holds no dump of database '${database}'${
          all.length ? `; it has ${[...new Set(all.map((s) => s.dump!.database))].join(", ")}` : ""
        }`,
      "Databases are dumped when they are detected or labelled stowage.dump (docs/dumps.md).",
    );
  }
  const key = (s: SnapshotInfo) => `${s.dump!.service}/${s.dump!.database}`;
  return picked.sort((a, b) => key(a).localeCompare(key(b)));
}

export async function restoreDumps(
  svc: DumpRestoreServices,
  loaded: LoadedConfig,
  repo: BackupRepository,
  point: RestorePoint,
  opts: { database?: string; toDir?: string; sink: EventSink; signal: AbortSignal },
): Promise<DumpRestoreReport> {
  const dumps = dumpsOf(point, opts.database);
  const names = dumps.map((s) => `${s.dump!.service}/${s.dump!.database}`);
  if (opts.toDir !== undefined) {
    // restic writes each dump at dumps/<service>/<database>.sql under the folder.
    for (const s of dumps) await repo.restore(s.id, opts.toDir, { signal: opts.signal });
    return {
      backupId: point.backupId,
      databases: names,
      files: dumps.map((s) => `${opts.toDir}/${dumpFileName(s.dump!.service, s.dump!.database)}`),
    };
  }

  const engine = svc.engine(loaded);
  using _host = await lockAndRecover(svc, loaded, engine, opts.sink, {
    command: "restore",
    signal: opts.signal,
  });
  // Every target container first, so nothing is loaded when one is missing.
  const containers = new Map<string, string>();
  for (const s of dumps) {
    const service = s.dump!.service;
    if (!containers.has(service)) {
      containers.set(service, await runningContainer(engine, point.unit, service));
    }
  }

  const load: DumpLoad = {
    svc,
    engine,
    repo,
    point,
    sink: opts.sink,
    signal: opts.signal,
    safetyId: backupIdFor(svc.clock.now()),
    time: isoSeconds(svc.clock.now()),
    safetyTaken: false,
  };
  for (const s of dumps) {
    const { engine: kind, service } = s.dump!;
    const target = { container: containers.get(service)!, engine: kind, service };
    const creds = await resolveCredentials(engine, target, opts.signal);
    await saveBeforeLoad(load, s, target, creds);
    await loadDump(load, s, target, creds);
  }
  return {
    backupId: point.backupId,
    databases: names,
    files: [],
    ...(load.safetyTaken ? { safetyBackupId: load.safetyId } : {}),
  };
}

/** One `--only dumps` load: where the dumps go, and the safety dumps taken so far. */
interface DumpLoad {
  svc: DumpRestoreServices;
  engine: ReturnType<DumpRestoreServices["engine"]>;
  repo: BackupRepository;
  point: RestorePoint;
  sink: EventSink;
  signal: AbortSignal;
  /** The backup id every safety dump of this load is saved under. */
  safetyId: string;
  time: string;
  safetyTaken: boolean;
}

type Credentials = Awaited<ReturnType<typeof resolveCredentials>>;
type DumpSnapshot = ReturnType<typeof dumpsOf>[number];
type Target = Pick<DumpTarget, "container" | "engine" | "service">;

/** The safety dump: the database as it is now, when it exists, as a `pre-restore` snapshot. */
async function saveBeforeLoad(
  load: DumpLoad,
  s: DumpSnapshot,
  target: Target,
  creds: Credentials,
) {
  const { engine: kind, service, database } = s.dump!;
  const existing = await listDatabases(load.engine, target, creds, load.signal);
  if (!existing.includes(database)) return;
  load.sink.emit({
    type: "log",
    level: "info",
    unit: load.point.unit,
    message: `saving ${service}/${database} as it is now before loading the dump`,
  });
  await streamDump({ engine: load.engine, repo: load.repo }, target, creds, database, {
    tags: buildTags({
      unit: load.point.unit,
      type: "pre-restore",
      backupId: load.safetyId,
      timestamp: load.time,
      scope: load.point.scope ?? "standard",
      dump: { engine: kind, service, database },
    }),
    host: load.svc.hostname,
    time: load.svc.clock.now(),
    signal: load.signal,
  });
  load.safetyTaken = true;
}

/** Streams the dump from the repository into the database client inside the container. */
async function loadDump(load: DumpLoad, s: DumpSnapshot, target: Target, creds: Credentials) {
  const { engine: kind, service, database } = s.dump!;
  const { point } = load;
  load.sink.emit({
    type: "log",
    level: "info",
    unit: point.unit,
    message: `loading the dump of ${service}/${database} from ${point.backupId}`,
  });
  const src = await load.repo.dumpStream!(s.id, `/${dumpFileName(service, database)}`, load.signal);
  const cmd = loadCommand(kind, database, creds.user, creds.password);
  const r = await load.engine.execWithStdin(target.container, cmd.argv, src.stream, {
    env: cmd.env,
    signal: load.signal,
  });
  await src.done;
  if (r.exitCode !== 0) {
    throw new StowageError(
      "restore.failed",
      `Loading the dump of ${service}/${database} into container '${target.container}' failed (exit ${r.exitCode}): ${
        stderrTail(r.stderr)
      }`,
      load.safetyTaken
        ? `The state before the load is saved under backup id ${load.safetyId}: restore --unit ${point.unit} --backup-id ${load.safetyId} --only dumps --yes brings it back.`
        : "Check the database server's log.",
    );
  }
}

/** The running container of a unit's service (a standalone unit: the container itself). */
async function runningContainer(
  engine: ReturnType<DumpRestoreServices["engine"]>,
  unit: string,
  service: string,
): Promise<string> {
  const list = await engine.listContainers({
    label: [`${COMPOSE_LABELS.project}=${unit}`, `${COMPOSE_LABELS.service}=${service}`],
  });
  const c = list.find((c) => c.State.Running) ??
    (unit === service ? await engine.inspectContainer(service).catch(() => undefined) : undefined);
  if (!c || !c.State.Running) {
    throw new StowageError(
      "restore.failed",
      `Cannot load the dumps of service '${service}' of unit '${unit}': no running container of it`,
      `Start the unit first (restore --unit ${unit} --latest --start, or docker-compose up -d), then restore --only dumps.`,
    );
  }
  return c.Name.replace(/^\//, "");
}
