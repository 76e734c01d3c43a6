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
import { lockAndRecover } from "./host_lock.ts";
import type { Services } from "./services.ts";

export type DoctorServices = Pick<
  Services,
  "clock" | "runner" | "engine" | "repository" | "locks" | "journal" | "fileMode"
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

export async function runDoctor(
  svc: DoctorServices,
  opts: {
    /** Reads and validates the config; a failure is the "config" check. */
    loadConfig(): Promise<LoadedConfig>;
    /** Where the config would be when none is given, for the message. */
    defaultConfigFile: string;
  },
): Promise<DoctorReport> {
  const checks: Check[] = [];
  let loaded: LoadedConfig;
  try {
    loaded = await opts.loadConfig();
    checks.push({
      name: "config",
      status: "ok",
      detail: loaded.path
        ? `${loaded.path} is valid`
        : `no config file (${opts.defaultConfigFile}); using the embedded default`,
    });
  } catch (e) {
    checks.push(fail("config", e));
    return verdict(checks);
  }
  const cfg = loaded.config;

  const engine = svc.engine(loaded);
  let engineOk = false;
  try {
    const v = await engine.version();
    engineOk = true;
    checks.push({
      name: "docker engine",
      status: "ok",
      detail: `Docker ${v.Version}, API ${v.ApiVersion}`,
    });
  } catch (e) {
    checks.push(fail("docker engine", e));
  }
  if (engineOk) {
    try {
      const state = await engine.gatherState();
      const units = discoverUnits(state, { unsafePaths: cfg.backup.unsafe_paths });
      checks.push(volumeKindsCheck(units));
      checks.push(...layerWritesChecks(await findLayerWrites(engine, units)));
      checks.push(dumpsCheck(units, cfg));
    } catch (e) {
      checks.push(fail("volume kinds", e));
    }
  }
  const [composeCheck, resticCheck] = await toolChecks(svc, cfg);
  checks.push(composeCheck);

  const isDefaultPw = !cfg.repository.password_file;
  const pwPath = cfg.repository.password_file ?? loaded.paths.passwordFile;
  const pwStat = await svc.fileMode(pwPath);
  checks.push(secretFileCheck("repository password file", pwPath, pwStat, !isDefaultPw));

  // The backend named first: "REST server rest:http://...: does not answer" reads in one line.
  const loc = redactLocation(cfg.repository.location ?? loaded.paths.repository);
  const backend = backendName(cfg.repository.location ?? loaded.paths.repository);
  const where = `${backend} ${loc}`;
  checks.push(resticCheck);
  let repo: BackupRepository;
  try {
    if (!pwStat && isDefaultPw) {
      checks.push({
        name: "repository",
        status: "warn",
        detail: `${backend}: ${loc} is not initialised yet`,
        hint: "`stowage admin repo init` or the first backup creates it.",
      });
    } else if (await (repo = await svc.repository(loaded, { prepare: false })).exists()) {
      const snaps = (await repo.snapshots({ tags: ["stowage"] })).map(parseSnapshot);
      const units = new Set(snaps.map((s) => s.unit));
      checks.push({
        name: "repository",
        status: "ok",
        detail: `${where}: ${snaps.length} snapshots of ${units.size} unit(s)`,
      });
      checks.push(restorePointsCheck(snaps));
      const locks = await repo.locks();
      if (locks.length) {
        checks.push({
          name: "repository locks",
          status: "warn",
          detail: `${locks.length} lock(s) present`,
          hint:
            "A backup may be running; stale ones are cleared by the next backup or `restic unlock`.",
        });
      }
    } else {
      checks.push({
        name: "repository",
        status: isDefaultPw ? "warn" : "fail",
        detail: `${backend}: no repository at ${loc}`,
        hint: "Create it with `stowage admin repo init`.",
      });
    }
  } catch (e) {
    checks.push({ ...fail("repository", e), detail: `${where}: ${errorMessage(e)}` });
  }

  // Leftovers of a crashed run: a held lock, or containers a dead run left stopped.
  const holder = await svc.locks.holder(loaded.paths.lockFile);
  if (holder) {
    checks.push({
      name: "backup lock",
      status: "ok",
      detail: `a backup is running (pid ${holder.pid} since ${holder.since})`,
    });
  } else {
    const journal = svc.journal(loaded.paths.journalFile);
    const entries = await journal.read().catch(() => []);
    if (entries.length === 0) {
      checks.push({
        name: "restart journal",
        status: "ok",
        detail: "no containers left stopped by a crashed run",
      });
    } else if (!engineOk) {
      checks.push({
        name: "restart journal",
        status: "fail",
        detail: `a crashed run left ${entries.flatMap((e) => e.containers).join(", ")} stopped`,
        hint: "Start the Docker Engine; the next stowage command starts them.",
      });
    } else {
      try {
        using host = await lockAndRecover(svc, loaded, engine, nullSink, { command: "doctor" });
        const r = host.recovered;
        checks.push({
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
        checks.push(fail("restart journal", e));
      }
    }
  }
  return verdict(checks);
}
