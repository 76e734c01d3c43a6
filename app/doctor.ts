/**
 * `stowage doctor`: every check of the host, config, tools, password file, repository and the
 * leftovers of crashed runs (a held lock; containers a dead run left stopped, started again under
 * the lock). Returns the checks and the verdict; the command renders them.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import { errorMessage, isStowageError } from "../core/errors.ts";
import {
  type Check,
  type DoctorReport,
  resticCacheCheck,
  restorePointsCheck,
  secretFileCheck,
  verdict,
  volumeKindsCheck,
} from "../core/doctor.ts";
import { discoverUnits } from "../core/discovery.ts";
import { findLayerWrites, layerWritesChecks } from "../core/layer_writes.ts";
import { dumpsCheck } from "../core/backup/dumps.ts";
import { nullSink } from "../core/events.ts";
import { parseSnapshot } from "../core/tags.ts";
import type { BackupRepository } from "../core/ports.ts";
import { type DependencyStatus, inspectDependencies } from "../core/deps.ts";
import { redactLocation } from "../core/secrets.ts";
import { backendName } from "../core/backend.ts";
import { notifyCheck } from "../core/notify/doctor.ts";
import { lockAndRecover } from "./host_lock.ts";
import { copyCheck } from "../core/copies/doctor.ts";
import { newestCopied, planCopy } from "../core/copies/plan.ts";
import type { SnapshotInfo } from "../core/model.ts";
import type { Services } from "./services.ts";
import { decideUnits, describeDecision } from "../core/fs_snapshot/run.ts";
import { planUnit } from "../core/backup/plan.ts";
import type { Unit } from "../core/model.ts";

export type DoctorServices = Pick<
  Services,
  | "clock"
  | "runner"
  | "engine"
  | "repository"
  | "locks"
  | "journal"
  | "fileMode"
  | "probeWritableDir"
  | "results"
  | "fsSnapshots"
  | "copyRepository"
  | "hostname"
>;

const fail = (name: string, e: unknown): Check => ({
  name,
  status: "fail",
  detail: errorMessage(e),
  hint: isStowageError(e) ? e.hint : undefined,
});

/** restic and the compose tool through core/deps.ts: the same probes and minimum versions as show-deps. */
async function toolChecks(svc: DoctorServices, cfg: LoadedConfig["config"]): Promise<Check[]> {
  const statuses = await inspectDependencies({ runner: svc.runner }, {
    resticBinary: cfg.repository.restic_binary,
    composeCommand: cfg.docker.compose_command,
    repositoryLocation: cfg.repository.location,
  });
  const toCheck = (
    id: DependencyStatus["id"],
    name: string,
    missing: "fail" | "warn",
    hint: string,
  ): Check => {
    const d = statuses.find((x) => x.id === id)!;
    if (d.state === "ok") {
      return { name, status: "ok", detail: `${d.found ?? d.name} ${d.version ?? ""}`.trim() };
    }
    return { name, status: missing, detail: d.detail ?? `${d.name} is ${d.state}`, hint };
  };
  return [
    toCheck(
      "compose",
      "compose tool",
      "warn",
      "Needed only for `restore --start`: stowage admin system install-deps.",
    ),
    toCheck(
      "restic",
      "restic",
      "fail",
      "Install restic 0.14 or newer: stowage admin system install-deps.",
    ),
  ];
}

/** One copy (config `copies:`) against the primary's snapshots: caught up, behind, unreadable. */
async function copyState(
  svc: DoctorServices,
  loaded: LoadedConfig,
  name: string,
  primary: SnapshotInfo[],
): Promise<Check> {
  try {
    const { repo } = await svc.copyRepository(loaded, name);
    if (!(await repo.exists())) return copyCheck(name, { missing: true });
    const host = svc.hostname;
    const copy = (await repo.snapshots({ host })).map(parseSnapshot);
    const policy = loaded.config.copies.find((c) => c.name === name)?.retention ??
      loaded.config.retention;
    const plan = planCopy({ primary, copy, host, policies: [policy] });
    return copyCheck(name, { plan, newest: newestCopied(copy, host), now: svc.clock.now() });
  } catch (e) {
    return copyCheck(name, {
      error: errorMessage(e),
      hint: isStowageError(e) ? e.hint : undefined,
    });
  }
}

export interface DoctorProgress {
  running(name: string): void;
  done(check: Check): void;
}

export async function runDoctor(
  svc: DoctorServices,
  opts: {
    /** Reads and validates the config; a failure is the "config" check. */
    loadConfig(): Promise<LoadedConfig>;
    /** Where the config would be when none is given, for the message. */
    defaultConfigFile: string;
    /**
     * Told as the checks run, so a terminal can show each one as soon as it ends: `running`
     * names the check about to run, `done` gives each finished check in report order.
     */
    progress?: DoctorProgress;
  },
): Promise<DoctorReport> {
  const progress = opts.progress;
  const checks: Check[] = [];
  const run: DoctorRun = {
    svc,
    add: (...cs: Check[]) => {
      for (const c of cs) {
        checks.push(c);
        progress?.done(c);
      }
    },
    running: (name: string) => progress?.running(name),
  };
  const loaded = await configCheck(run, opts);
  if (!loaded) return verdict(checks);
  const { engine, engineOk } = await engineChecks(run, loaded);
  const password = await toolAndPasswordChecks(run, loaded);
  await repositoryChecks(run, loaded, password);
  await notifyChecks(run, loaded);
  await leftoverChecks(run, loaded, engine, engineOk);
  return verdict(checks);
}

/** What each group of checks reports through: `add` in report order, `running` before a slow one. */
interface DoctorRun {
  svc: DoctorServices;
  add(...cs: Check[]): void;
  running(name: string): void;
}

type DoctorEngine = ReturnType<DoctorServices["engine"]>;

interface PasswordFileState {
  isDefault: boolean;
  stat: Awaited<ReturnType<DoctorServices["fileMode"]>>;
}

/** The config loads and is valid; without it no other check runs. */
async function configCheck(
  { add, running }: DoctorRun,
  opts: { loadConfig(): Promise<LoadedConfig>; defaultConfigFile: string },
): Promise<LoadedConfig | undefined> {
  running("config");
  try {
    const loaded = await opts.loadConfig();
    add({
      name: "config",
      status: "ok",
      detail: loaded.path
        ? `${loaded.path} is valid`
        : `no config file (${opts.defaultConfigFile}); using the embedded default`,
    });
    return loaded;
  } catch (e) {
    add(fail("config", e));
    return undefined;
  }
}

/** The Docker Engine answers; then what discovery finds on it (volume kinds, layer writes...). */
async function engineChecks(
  { svc, add, running }: DoctorRun,
  loaded: LoadedConfig,
): Promise<{ engine: DoctorEngine; engineOk: boolean }> {
  const cfg = loaded.config;
  running("docker engine");
  const engine = svc.engine(loaded);
  let engineOk = false;
  try {
    const v = await engine.version();
    engineOk = true;
    add({
      name: "docker engine",
      status: "ok",
      detail: `Docker ${v.Version}, API ${v.ApiVersion}`,
    });
  } catch (e) {
    add(fail("docker engine", e));
  }
  if (engineOk) {
    running("volume kinds, layer writes and filesystem snapshots");
    try {
      const state = await engine.gatherState();
      const units = discoverUnits(state, { unsafePaths: cfg.backup.unsafe_paths });
      add(volumeKindsCheck(units));
      add(...layerWritesChecks(await findLayerWrites(engine, units)));
      add(await fsSnapshotsCheck(svc, loaded, units));
      add(dumpsCheck(units, cfg));
    } catch (e) {
      add(fail("volume kinds", e));
    }
  }
  return { engine, engineOk };
}

/** The compose tool, the password file, restic and its cache directory, in that report order. */
async function toolAndPasswordChecks(
  { svc, add, running }: DoctorRun,
  loaded: LoadedConfig,
): Promise<PasswordFileState> {
  const cfg = loaded.config;
  running("compose tool and restic");
  const [composeCheck, resticCheck] = await toolChecks(svc, cfg);
  add(composeCheck);

  const isDefaultPw = !cfg.repository.password_file;
  const pwPath = cfg.repository.password_file ?? loaded.paths.passwordFile;
  const pwStat = await svc.fileMode(pwPath);
  add(secretFileCheck("repository password file", pwPath, pwStat, !isDefaultPw));

  add(resticCheck);
  const cacheDir = loaded.paths.resticCacheDir;
  add(resticCacheCheck(cacheDir, await svc.probeWritableDir(cacheDir)));
  return { isDefault: isDefaultPw, stat: pwStat };
}

/** The repository opens: its snapshots and restore points, the copies, and locks left in it. */
async function repositoryChecks(
  { svc, add, running }: DoctorRun,
  loaded: LoadedConfig,
  password: PasswordFileState,
) {
  const cfg = loaded.config;
  const { isDefault: isDefaultPw, stat: pwStat } = password;
  // The backend named first: "REST server rest:http://...: does not answer" reads in one line.
  const loc = redactLocation(cfg.repository.location ?? loaded.paths.repository);
  const backend = backendName(cfg.repository.location ?? loaded.paths.repository);
  const where = `${backend} ${loc}`;
  let repo: BackupRepository;
  running("repository");
  try {
    if (!pwStat && isDefaultPw) {
      add({
        name: "repository",
        status: "warn",
        detail: `${backend}: ${loc} is not initialised yet`,
        hint: "`stowage admin repo init` or the first backup creates it.",
      });
    } else if (await (repo = await svc.repository(loaded, { prepare: false })).exists()) {
      const snaps = (await repo.snapshots({ tags: ["stowage"] })).map(parseSnapshot);
      const units = new Set(snaps.map((s) => s.unit));
      add({
        name: "repository",
        status: "ok",
        detail: `${where}: ${snaps.length} snapshots of ${units.size} unit(s)`,
      });
      add(restorePointsCheck(snaps));
      for (const copy of cfg.copies) add(await copyState(svc, loaded, copy.name, snaps));
      const locks = await repo.locks();
      if (locks.length) {
        add({
          name: "repository locks",
          status: "warn",
          detail: `${locks.length} lock(s) present`,
          hint:
            "A backup may be running; stale ones are cleared when a backup's command fails on one, or by `stowage admin repo unlock`.",
        });
      }
    } else {
      add({
        name: "repository",
        status: isDefaultPw ? "warn" : "fail",
        detail: `${backend}: no repository at ${loc}`,
        hint: "Create it with `stowage admin repo init`.",
      });
    }
  } catch (e) {
    add({ ...fail("repository", e), detail: `${where}: ${errorMessage(e)}` });
  }
}

/** With notifications configured: whether the last ones were delivered. */
async function notifyChecks({ svc, add, running }: DoctorRun, loaded: LoadedConfig) {
  const cfg = loaded.config;
  if (cfg.notify.length > 0) {
    running("notifications");
    try {
      const results = await svc.results.read(loaded.paths.resultsFile);
      const check = notifyCheck(cfg.notify, results.notify);
      if (check) add(check);
    } catch (e) {
      add({ ...fail("notifications", e), status: "warn" });
    }
  }
}

/** Leftovers of a crashed run: a held lock, or containers a dead run left stopped. */
async function leftoverChecks(
  run: DoctorRun,
  loaded: LoadedConfig,
  engine: DoctorEngine,
  engineOk: boolean,
) {
  const { svc, add, running } = run;
  running("restart journal");
  const holder = await svc.locks.holder(loaded.paths.lockFile);
  if (holder) {
    add({
      name: "backup lock",
      status: "ok",
      detail: `a backup is running (pid ${holder.pid} since ${holder.since})`,
    });
    return;
  }
  await journalCheck(run, loaded, engine, engineOk);
  await fsSnapshotsLeftCheck(run, loaded, engine);
}

/** Containers a crashed run left stopped: started again under the host lock when Docker answers. */
async function journalCheck(
  { svc, add }: DoctorRun,
  loaded: LoadedConfig,
  engine: DoctorEngine,
  engineOk: boolean,
) {
  const journal = svc.journal(loaded.paths.journalFile);
  const entries = await journal.read().catch(() => []);
  if (entries.length === 0) {
    add({
      name: "restart journal",
      status: "ok",
      detail: "no containers left stopped by a crashed run",
    });
  } else if (!engineOk) {
    add({
      name: "restart journal",
      status: "fail",
      detail: `a crashed run left ${entries.flatMap((e) => e.containers).join(", ")} stopped`,
      hint: "Start the Docker Engine; the next stowage command starts them.",
    });
  } else {
    try {
      using host = await lockAndRecover(svc, loaded, engine, nullSink, { command: "doctor" });
      const r = host.recovered;
      add({
        name: "restart journal",
        status: r.failed.length ? "fail" : "warn",
        detail: `a crashed run had left ${
          entries.map((e) => e.unit).join(", ")
        } stopped; started ${r.started.join(", ") || "nothing"}` +
          (r.failed.length
            ? `; could not start ${
              r.failed.map((f) => `${f.container} (${f.error})`).join(", ")
            }`
            : ""),
        hint: r.failed.length ? "Start them by hand with docker start." : undefined,
      });
    } catch (e) {
      add(fail("restart journal", e));
    }
  }
}

/** Filesystem snapshots a crashed run left: deleted under the host lock. */
async function fsSnapshotsLeftCheck(
  { svc, add }: DoctorRun,
  loaded: LoadedConfig,
  engine: DoctorEngine,
) {
  const snapshotsLeft = await svc.fsSnapshots?.(loaded.paths.journalFile).entries()
    .catch(() => []);
  if (!snapshotsLeft?.length) return;
  try {
    using host = await lockAndRecover(svc, loaded, engine, nullSink, { command: "doctor" });
    const r = host.snapshotsLeft;
    add({
      name: "filesystem snapshots left",
      status: r?.failed.length ? "fail" : "warn",
      detail:
        `a crashed run had left filesystem snapshots; deleted ${
          r?.removed.join(", ") || "nothing"
        }` +
        (r?.failed.length
          ? `; could not delete ${r.failed.map((f) => `${f.snapshot} (${f.error})`).join(", ")}`
          : ""),
      hint: r?.failed.length
        ? "Delete them by hand (btrfs subvolume delete) once nothing reads them."
        : undefined,
    });
  } catch (e) {
    add(fail("filesystem snapshots left", e));
  }
}

/** Per folder of every unit: the filesystem snapshot a backup would take, or why none (issue 18). */
async function fsSnapshotsCheck(
  svc: DoctorServices,
  loaded: LoadedConfig,
  units: Unit[],
): Promise<Check> {
  const name = "filesystem snapshots";
  const mode = loaded.config.backup.fs_snapshots;
  try {
    const plans = units.map((u) => planUnit(u, loaded.config)).filter((p) => !p.skip);
    const decisions = await decideUnits(
      svc.fsSnapshots?.(loaded.paths.journalFile),
      plans.map((p) => ({
        unit: p.unit.name,
        stops: p.stop.length > 0,
        items: p.items.filter((i) => i.type === "volume" || i.type === "bind"),
      })),
      mode,
    );
    const lines = [...decisions].flatMap(([unit, ds]) =>
      ds.map((d) => `${unit}/${d.item}: ${describeDecision(d)}`)
    );
    const none = [...decisions.values()].flat().filter((d) => d.method === "none").length;
    const snap = [...decisions.values()].flat().length - none;
    const summary =
      `backup.fs_snapshots: ${mode}; ${snap} folder(s) can be snapshotted, ${none} cannot`;
    const bad = mode === "require" && none > 0;
    return {
      name,
      status: bad ? "warn" : "ok",
      detail: [summary, ...lines].join("; "),
      ...(bad
        ? {
          hint:
            "With require, these units fail before any stop: put their data on btrfs (docs/backup.md).",
        }
        : {}),
    };
  } catch (e) {
    return { name, status: "warn", detail: `could not examine the folders: ${errorMessage(e)}` };
  }
}
