import type { Program } from "../mod.ts";
import { globals, setExitCode } from "../mod.ts";
import type { LoadedConfig, Runtime } from "../runtime.ts";
import { printJson } from "../output.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { errorMessage, isStowageError } from "../../core/errors.ts";
import {
  type Check,
  type DoctorReport,
  restorePointsCheck,
  secretFileCheck,
  verdict,
  volumeKindsCheck,
} from "../../core/doctor.ts";
import { discoverUnits } from "../../core/discovery.ts";
import { findLayerWrites, layerWritesChecks } from "../../core/layer_writes.ts";
import { recoverFromJournal } from "../../core/backup/recover.ts";
import { FileRestartJournal } from "../../adapters/journal.ts";
import { acquireHostLock, lockHolder } from "../../adapters/lock.ts";
import { nullSink } from "../../core/events.ts";
import { parseSnapshot } from "../../core/tags.ts";
import type { BackupRepository } from "../../core/ports.ts";
import { backendName } from "../../core/backend.ts";
import { type DependencyStatus, inspectDependencies } from "../../core/deps.ts";
import { redactLocation } from "../../core/secrets.ts";

const fail = (name: string, e: unknown): Check => ({
  name,
  status: "fail",
  detail: errorMessage(e),
  hint: isStowageError(e) ? e.hint : undefined,
});

async function statOrUndefined(path: string) {
  try {
    return await Deno.stat(path);
  } catch {
    return undefined;
  }
}

/** restic and the compose tool through core/deps.ts: the same probes and minimum versions as show-deps. */
async function toolChecks(rt: Runtime, cfg: LoadedConfig["config"]): Promise<Check[]> {
  const statuses = await inspectDependencies({ runner: rt.runner }, {
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
  rt: Runtime,
  configFlag: string | undefined,
): Promise<DoctorReport> {
  const checks: Check[] = [];
  let loaded: LoadedConfig;
  try {
    loaded = await rt.loadConfig({ config: configFlag });
    checks.push({
      name: "config",
      status: "ok",
      detail: loaded.path
        ? `${loaded.path} is valid`
        : `no config file (${rt.paths.configFile}); using the embedded default`,
    });
  } catch (e) {
    checks.push(fail("config", e));
    return verdict(checks);
  }
  const cfg = loaded.config;

  const engine = rt.engine(loaded);
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
    } catch (e) {
      checks.push(fail("volume kinds", e));
    }
  }
  const [composeCheck, resticCheck] = await toolChecks(rt, cfg);
  checks.push(composeCheck);

  const isDefaultPw = !cfg.repository.password_file;
  const pwPath = cfg.repository.password_file ?? loaded.paths.passwordFile;
  const pwStat = await statOrUndefined(pwPath);
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
    } else if (await (repo = await rt.repository(loaded, { prepare: false })).exists()) {
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
  const holder = await lockHolder(loaded.paths.lockFile);
  if (holder) {
    checks.push({
      name: "backup lock",
      status: "ok",
      detail: `a backup is running (pid ${holder.pid} since ${holder.since})`,
    });
  } else {
    const journal = new FileRestartJournal(loaded.paths.journalFile);
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
        using _lock = await acquireHostLock(loaded.paths.lockFile, {
          clock: rt.clock,
          command: "doctor",
        });
        const r = await recoverFromJournal(journal, engine, nullSink, "doctor");
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

export function registerDoctor(program: Program, rt: Runtime) {
  program
    .command("doctor")
    .description(
      "Check dependencies, config, password file, repository and leftovers of crashed runs. Exit 0 when healthy.",
    )
    .option("--json", "print the checks as one JSON document")
    .action(async (opts, cmd) => {
      const report = await runDoctor(rt, globals(cmd).config);
      if (opts.json) printJson(rt, report);
      else {
        for (const c of report.checks) {
          rt.write(
            `${
              c.status === "ok" ? "ok  " : c.status === "warn" ? "warn" : "FAIL"
            }  ${c.name}: ${c.detail}\n`,
          );
          if (c.hint && c.status !== "ok") rt.write(`      hint: ${c.hint}\n`);
        }
        rt.write(report.healthy ? "\nhealthy\n" : "\nNOT healthy\n");
      }
      setExitCode(report.healthy ? 0 : EXIT_CODES.unhealthy);
    });
}
