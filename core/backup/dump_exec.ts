/**
 * Database dumps, the effects (docs/dumps.md): each database of each dump target is dumped inside
 * its own container through the Engine's exec API (no TTY), its stdout streamed straight into a
 * restic `--stdin` snapshot tagged `type=dump`, and checked (exit code, size, completion marker)
 * before restic may commit it: the stream source's `done` rejects otherwise, and the restic
 * adapter then interrupts restic so no snapshot of a broken dump exists.
 */
import { StowageError } from "../errors.ts";
import type {
  BackupOptions,
  BackupRepository,
  BackupSummary,
  DockerEngine,
  StreamSource,
} from "../ports.ts";
import { DATABASE_NAME } from "../tags.ts";
import type { PlanItem, UnitPlan } from "./plan.ts";
import type { BackupDeps, BackupRequest, Saver } from "./run.ts";
import {
  DumpCheck,
  dumpCommand,
  type DumpCredentials,
  dumpCredentials,
  dumpFileName,
  type DumpTarget,
  envRecord,
  listDatabasesCommand,
  MysqlRowCounter,
  parseDatabaseList,
  passwordFromFile,
  PgRowCounter,
  readSecretFileCommand,
  stderrTail,
} from "./dumps.ts";
import { type SavedDump, verifyDumps } from "./dump_verify.ts";

export type DumpEngineApi = Pick<DockerEngine, "inspectContainer" | "exec" | "execStream">;

/** The unit's dump problems as one error message, or undefined when there are none. */
export function dumpProblems(plan: UnitPlan): string | undefined {
  const p = plan.dumps?.problems ?? [];
  return p.length ? `cannot dump as configured: ${p.join("; ")}` : undefined;
}

/** Dumps every database of every target; throws on the first that fails its check. */
export async function saveDumps(
  deps: BackupDeps,
  req: BackupRequest,
  plan: UnitPlan,
  saver: Saver,
) {
  const verify = req.config.backup.verify_dumps;
  for (const target of plan.dumps?.targets ?? []) {
    if (req.signal.aborted) throw req.signal.reason;
    const creds = await resolveCredentials(deps.engine, target, req.signal);
    const saved: SavedDump[] = [];
    for (const database of await listDatabases(deps.engine, target, creds, req.signal)) {
      if (req.signal.aborted) throw req.signal.reason;
      saved.push(await dumpOne(deps, plan, saver, target, creds, database, verify));
    }
    if (verify) {
      const checked = await verifyDumps(deps, target, creds, saved, req.signal);
      deps.sink.emit({
        type: "log",
        level: "info",
        unit: plan.unit.name,
        message:
          `dumps of ${target.service} verified: ${checked.databases} database(s) loaded into a throwaway container, ${checked.tables} table(s) with the row counts of the dump`,
      });
    }
  }
}

/** The credentials from the container's own environment; a `*_FILE` is read inside it. */
export async function resolveCredentials(
  engine: DumpEngineApi,
  target: Pick<DumpTarget, "container" | "engine">,
  signal?: AbortSignal,
): Promise<DumpCredentials> {
  const info = await engine.inspectContainer(target.container);
  const creds = dumpCredentials(target.engine, envRecord(info.Config.Env));
  if (creds.password === undefined && creds.passwordFile) {
    const cmd = readSecretFileCommand(creds.passwordFile);
    const r = await engine.exec(target.container, cmd.argv, { env: cmd.env, signal });
    if (r.exitCode !== 0) {
      throw new StowageError(
        "backup.failed",
        `Cannot dump ${target.engine} in container '${target.container}': its password file ${creds.passwordFile} cannot be read (${
          stderrTail(r.stderr) || `exit ${r.exitCode}`
        })`,
        "Fix the *_PASSWORD_FILE variable or the secret it names.",
      );
    }
    return { user: creds.user, password: passwordFromFile(r.stdout) };
  }
  return creds;
}

/** The databases to dump, each name checked (a name stowage cannot store fails, never skipped). */
export async function listDatabases(
  engine: DumpEngineApi,
  target: Pick<DumpTarget, "container" | "engine">,
  creds: DumpCredentials,
  signal?: AbortSignal,
): Promise<string[]> {
  const cmd = listDatabasesCommand(target.engine, creds.password, creds.user);
  const r = await engine.exec(target.container, cmd.argv, { env: cmd.env, signal });
  if (r.exitCode !== 0) {
    throw new StowageError(
      "backup.failed",
      `Cannot dump ${target.engine} in container '${target.container}': listing its databases failed (${
        stderrTail(r.stderr) || `exit ${r.exitCode}`
      })`,
      "Check the credentials in the container's environment (POSTGRES_USER/POSTGRES_PASSWORD, MARIADB_ROOT_PASSWORD) and that the server accepts them, or save this service cold only (label stowage.dump-mode=cold, or units.UNIT.services.SERVICE.mode: cold; docs/dumps.md).",
    );
  }
  const names = parseDatabaseList(target.engine, r.stdout);
  for (const n of names) {
    if (!DATABASE_NAME.safeParse(n).success) {
      throw new StowageError(
        "backup.failed",
        `Cannot dump database ${
          JSON.stringify(n.slice(0, 80))
        } in container '${target.container}': stowage dumps only plain names ([a-zA-Z0-9_$-])`,
        "Rename the database, or set the service's dump mode to cold (docs/dumps.md).",
      );
    }
  }
  return names;
}

async function dumpOne(
  deps: BackupDeps,
  plan: UnitPlan,
  { record, opts, report }: Saver,
  target: DumpTarget,
  creds: DumpCredentials,
  database: string,
  countRows: boolean,
): Promise<SavedDump> {
  const item: PlanItem = {
    type: "dump",
    item: `${target.service}/${database}`,
    paths: [],
    excludes: [],
    retention: {},
  };
  deps.sink.emit({ type: "snapshot.start", unit: plan.unit.name, kind: "dump", item: item.item });
  const t0 = deps.clock.now();
  const counter = !countRows
    ? undefined
    : target.engine === "postgres"
    ? new PgRowCounter()
    : new MysqlRowCounter();
  const { summary, bytes } = await streamDump(deps, target, creds, database, {
    ...opts(item, { dump: { engine: target.engine, service: target.service, database } }),
    shortId: true,
  }, counter ? (chunk) => counter.push(chunk) : undefined);
  record(item, summary);
  const durationMs = deps.clock.now().getTime() - t0.getTime();
  const rec = report.snapshots.at(-1);
  if (rec) rec.durationMs = durationMs;
  deps.sink.emit({
    type: "log",
    level: "info",
    unit: plan.unit.name,
    message: `dump of ${item.item} checked: ${bytes} bytes in ${durationMs} ms`,
  });
  return { database, snapshotId: summary.snapshotId, rows: counter?.rows };
}

/**
 * Dumps one database inside its container straight into a restic `--stdin` snapshot with the
 * given options (tags), checked before restic may commit it (backup, and restore's safety dump).
 */
export async function streamDump(
  deps: { engine: DumpEngineApi; repo: BackupRepository },
  target: Pick<DumpTarget, "container" | "engine" | "service">,
  creds: DumpCredentials,
  database: string,
  opts: BackupOptions,
  observe?: (chunk: Uint8Array) => void,
): Promise<{ summary: BackupSummary; bytes: number }> {
  const cmd = dumpCommand(target.engine, database, creds.user, creds.password);
  const exec = await deps.engine.execStream(target.container, cmd.argv, {
    env: cmd.env,
    signal: opts.signal,
  });
  const source = checkedSource(exec.stdout, exec.finished, new DumpCheck(target.engine), {
    what: `${target.engine} database '${database}' in container '${target.container}'`,
    observe,
  });
  const summary = await deps.repo.backupStream(
    dumpFileName(target.service, database),
    source.source,
    opts,
  );
  return { summary, bytes: source.check.bytes };
}

/**
 * A dump's stdout as a stream source: every chunk passes the check on its way to restic, and
 * `done` resolves only when the exec ended with code 0 and the check holds.
 */
export function checkedSource(
  stdout: ReadableStream<Uint8Array>,
  finished: Promise<{ exitCode: number; stderr: string }>,
  check: DumpCheck,
  ctx: { what: string; observe?: (chunk: Uint8Array) => void },
): { source: StreamSource; check: DumpCheck } {
  let resolve!: () => void, reject!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  done.catch(() => {});
  const reader = stdout.getReader();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = await reader.read();
        if (!r.done) {
          check.push(r.value);
          ctx.observe?.(r.value);
          controller.enqueue(r.value);
          return;
        }
        controller.close();
        const { exitCode, stderr } = await finished;
        const why = check.verdict(exitCode, stderr);
        if (why) {
          reject(
            new StowageError(
              "backup.failed",
              `The dump of ${ctx.what} failed its check: ${why}`,
              "Nothing of it was saved and this backup is not a complete restore point; fix the cause and run the backup again.",
            ),
          );
        } else resolve();
      } catch (e) {
        reject(
          new StowageError(
            "backup.failed",
            `The dump of ${ctx.what} broke off: ${e instanceof Error ? e.message : String(e)}`,
            "Nothing of it was saved and this backup is not a complete restore point.",
          ),
        );
        controller.error(e);
      }
    },
    cancel(reason) {
      reject(reason ?? new Error("cancelled"));
      return reader.cancel(reason);
    },
  });
  return { source: { stream, done }, check };
}
