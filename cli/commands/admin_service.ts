/**
 * `admin service write-units|daemon|status|forget-unit`: stowage as a systemd service. The
 * decisions (unit text, health, metrics, status, schedule) are pure in core/service/; this file
 * wires the daemon to sd_notify, the status server, the results store and the backup command.
 */
import type { AdminCommand } from "./admin.ts";
import type { LoadedConfig, Runtime } from "../runtime.ts";
import { globals, setExitCode, usageError } from "../mod.ts";
import { formatBytes, formatDuration, printJson, table, tableWidth } from "../output.ts";
import { formatAge } from "../points_view.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { log } from "../log.ts";
import { runDaemon, skippedUnits } from "../../app/daemon.ts";
import { StowageError } from "../../core/errors.ts";
import { VERSION } from "../../core/version.ts";
import type { StowageEvent } from "../../core/events.ts";
import type { LogFn } from "../../core/service/daemon.ts";
import { describeEvent } from "../../core/service/event_log.ts";
import { healthVerdict } from "../../core/service/health.ts";
import { checkListenPolicy, isLoopback, parseListen } from "../../core/service/listen.ts";
import type { ResultsDoc } from "../../core/service/results.ts";
import { runOutcome } from "../../core/service/status.ts";
import {
  checkSchedule,
  DEFAULT_SCHEDULE,
  DEFAULT_VERIFY_SCHEDULE,
  readWritePaths,
  RELOAD_HINTS,
  renderUnits,
  stateDirectoryName,
} from "../../core/service/units.ts";
import { UNIT_TEMPLATES } from "../../units/mod.ts";

const ROOT = new URL("../../", import.meta.url);

type ServiceCommand = ReturnType<AdminCommand["command"]>;

export function registerAdminService(admin: AdminCommand, rt: Runtime) {
  const service = admin
    .command("service")
    .description(
      "Run stowage under systemd: unit files, the notify/watchdog daemon, the status endpoint.",
    );
  registerServiceWriteUnits(service, rt);
  registerServiceDaemon(service, rt);
  registerServiceStatus(service, rt);
  registerServiceForgetUnit(service, rt);
}

function registerServiceWriteUnits(service: ServiceCommand, rt: Runtime) {
  service
    .command("write-units")
    .description(
      "Write stowage.service, stowage.timer, stowage-backup.service and the restore drill's stowage-verify.timer and .service from the templates in units/.",
    )
    .option("-o, --output-dir <dir>", "where to write the units", "/etc/systemd/system")
    .option(
      "--schedule <calendar>",
      "OnCalendar= of stowage.timer (systemd calendar syntax)",
      DEFAULT_SCHEDULE,
    )
    .option(
      "--verify-schedule <calendar>",
      "OnCalendar= of stowage-verify.timer, the restore drill (docs/verify.md)",
      DEFAULT_VERIFY_SCHEDULE,
    )
    .option("--binary <path>", "the stowage executable for ExecStart= (default: this one)")
    .option(
      "--interval-minutes <n>",
      "make the daemon run backups itself every N minutes (then leave the timer disabled)",
    )
    .option(
      "--read-write-path <path...>",
      "more paths the services may write (hooks' dump directories, a custom Docker data root)",
    )
    .option("-n, --dry-run", "print the units instead of writing them")
    .option("--json", "print one JSON document")
    .addHelpText(
      "after",
      "\nSee docs/service.md.",
    )
    .action(async (opts, cmd) => await writeUnits(rt, opts, await rt.loadConfig(globals(cmd))));
}

function registerServiceDaemon(service: ServiceCommand, rt: Runtime) {
  service
    .command("daemon")
    .description(
      "Run as the systemd service: sd_notify READY/STATUS/WATCHDOG, the status endpoint, optional interval backups.",
    )
    .option(
      "--interval-minutes <n>",
      "run a backup every N minutes (default: only watch runs the systemd timer starts)",
    )
    .option(
      "-u, --unit <name...>",
      "with --interval-minutes: back up only these units (default: every unit)",
    )
    .option(
      "--status-listen <host:port>",
      "serve /health, /status and /metrics here (default: config status.listen; off when unset)",
    )
    .option(
      "--allow-remote-status",
      "allow a non-loopback status address (needs status.token_file)",
    )
    .addHelpText(
      "after",
      "\nSIGTERM or SIGINT interrupts a running backup safely (its containers are started again) and exits 0.\nWithout NOTIFY_SOCKET (not run by systemd) nothing is sent to systemd. See docs/service.md.",
    )
    .action(async (opts, cmd) => {
      const loaded = await rt.loadConfig(globals(cmd));
      const interval = parseMinutes(opts.intervalMinutes);
      const listen = opts.statusListen ?? loaded.config.status.listen;
      const tokenFile = loaded.config.status.token_file;
      const addr = listen
        ? checkListenPolicy({ listen, allowRemote: !!opts.allowRemoteStatus, tokenFile })
        : undefined;
      const token = addr && tokenFile ? await rt.app.statusServer.readToken(tokenFile) : undefined;
      if (opts.unit && !interval) {
        throw usageError(
          "--unit only applies with --interval-minutes",
          "The systemd timer's runs take their units from stowage-backup.service.",
        );
      }
      await runDaemon(rt.app, loaded, {
        intervalMinutes: interval,
        units: opts.unit,
        addr,
        token,
        signal: rt.signal,
        log: logFn,
        onEvent: eventLogger(),
      });
    });
}

function registerServiceStatus(service: ServiceCommand, rt: Runtime) {
  service
    .command("status")
    .description(
      "Show the last backup result of every unit and whether /health would pass (reads the results store).",
    )
    .option("--json", "print one JSON document")
    .option(
      "--check",
      `exit ${EXIT_CODES.unhealthy} when a unit's last backup failed or is older than status.freshness_hours`,
    )
    .action(async (opts, cmd) => {
      const loaded = await rt.loadConfig(globals(cmd));
      const results = await rt.app.results.read(loaded.paths.resultsFile);
      const health = healthVerdict({
        results,
        now: rt.clock.now(),
        freshnessHours: loaded.config.status.freshness_hours,
        ignoredUnits: skippedUnits(loaded),
        verifyMaxAgeHours: loaded.config.status.verify_max_age_hours,
      });
      if (opts.check && !health.healthy) setExitCode(EXIT_CODES.unhealthy);
      if (opts.json) {
        return printJson(rt, {
          resultsFile: loaded.paths.resultsFile,
          health,
          units: Object.values(results.units),
          runs: results.runs,
        });
      }
      rt.write(
        renderStatus(results, health.healthy, health.reason, rt.clock.now(), tableWidth(rt)),
      );
    });
}

function registerServiceForgetUnit(service: ServiceCommand, rt: Runtime) {
  service
    .command("forget-unit")
    .description(
      "Drop a unit that no longer exists on this host from the results, so /health stops waiting for it.",
    )
    .argument("<unit>", "unit name as shown by `admin service status`")
    .option("--json", "print one JSON document")
    .action(async (unit, opts, cmd) => {
      const loaded = await rt.loadConfig(globals(cmd));
      const found = await rt.app.results.forgetUnit(loaded.paths.resultsFile, unit);
      if (!found) {
        throw new StowageError(
          "unit.notfound",
          `Cannot forget unit '${unit}': it has no recorded results`,
          "Run `stowage admin service status` to see the recorded units.",
        );
      }
      if (opts.json) return printJson(rt, { ok: true, forgotten: unit });
      rt.write(`Forgot the results of '${unit}'.\n`);
    });
}

interface WriteUnitsOptions {
  outputDir: string;
  schedule: string;
  verifySchedule: string;
  binary?: string;
  intervalMinutes?: string;
  readWritePath?: string[];
  dryRun?: true;
  json?: true;
}

interface UnitFile {
  path: string;
  content: string;
}

async function writeUnits(rt: Runtime, opts: WriteUnitsOptions, loaded: LoadedConfig) {
  const schedule = checkSchedule(opts.schedule);
  await checkScheduleWithSystemd(rt, schedule);
  const verifySchedule = checkSchedule(opts.verifySchedule);
  await checkScheduleWithSystemd(rt, verifySchedule);
  const interval = parseMinutes(opts.intervalMinutes);
  const outputDir = opts.outputDir.replace(/\/+$/, "") || "/";
  const stowageArgv = await stowageCommand(rt, loaded, opts.binary);
  const units = unitsFor(rt, opts, loaded, { stowageArgv, schedule, verifySchedule, interval });
  const hints = interval ? RELOAD_HINTS.filter((h) => !h.includes("stowage.timer")) : RELOAD_HINTS;
  const files = units.map((u) => ({ path: `${outputDir}/${u.name}`, content: u.content }));
  if (!opts.dryRun) {
    for (const f of files) await rt.app.writeFile(f.path, f.content, 0o644);
  }
  if (opts.json) {
    return printJson(rt, {
      ok: true,
      dryRun: !!opts.dryRun,
      outputDir,
      schedule,
      files,
      next: hints,
    });
  }
  renderWrittenUnits(rt, files, { dryRun: !!opts.dryRun, hints, interval });
}

/** The unit files' text, from the templates, the flags and the config. */
function unitsFor(
  rt: Runtime,
  opts: WriteUnitsOptions,
  loaded: LoadedConfig,
  { stowageArgv, schedule, verifySchedule, interval }: {
    stowageArgv: string[];
    schedule: string;
    verifySchedule: string;
    interval: number | undefined;
  },
) {
  const env: Record<string, string> = {};
  const stateEnv = rt.env("STOWAGE_STATE_DIR");
  if (stateEnv) env.STOWAGE_STATE_DIR = stateEnv;
  for (const p of opts.readWritePath ?? []) {
    if (!p.startsWith("/")) {
      throw usageError(
        `Cannot use --read-write-path '${p}': it is not an absolute path`,
        "Give the full path, e.g. /srv/dumps.",
      );
    }
  }
  return renderUnits(UNIT_TEMPLATES, {
    stowage: stowageArgv,
    schedule,
    verifySchedule,
    readWritePaths: readWritePaths(loaded.config, loaded.paths, {
      dockerHost: rt.env("DOCKER_HOST"),
      extra: opts.readWritePath,
    }),
    stateDirectory: stateDirectoryName(loaded.paths.stateDir),
    environment: env,
    version: VERSION,
    daemonArgs: [
      ...(interval ? ["--interval-minutes", String(interval)] : []),
      // The config (validated: a token file is set) already asks for a network address; a
      // unit without the flag would fail and restart forever.
      ...(remoteStatus(loaded.config.status.listen) ? ["--allow-remote-status"] : []),
    ],
  });
}

function renderWrittenUnits(
  rt: Runtime,
  files: UnitFile[],
  { dryRun, hints, interval }: { dryRun: boolean; hints: string[]; interval: number | undefined },
) {
  if (dryRun) {
    for (const f of files) rt.write(`# ----- ${f.path}\n${f.content}\n`);
    rt.write(`# (dry run: nothing written)\n`);
    return;
  }
  for (const f of files) rt.write(`Wrote ${f.path}\n`);
  rt.write(`\nNext:\n${hints.map((h) => `  ${h}`).join("\n")}\n`);
  if (interval) {
    rt.write(
      `The daemon runs backups every ${interval} min itself; leave stowage.timer disabled.\n`,
    );
  }
}

function remoteStatus(listen: string | undefined): boolean {
  return listen !== undefined && !isLoopback(parseListen(listen).hostname);
}

function parseMinutes(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 525600) {
    throw usageError(
      `--interval-minutes expects a whole number of minutes from 1 to 525600, got '${value}'`,
      "e.g. --interval-minutes 60",
    );
  }
  return n;
}

/** `systemd-analyze calendar` checks the meaning of the expression, where it is installed. */
async function checkScheduleWithSystemd(rt: Runtime, schedule: string) {
  let res;
  try {
    res = await rt.runner.run("systemd-analyze", ["calendar", "--", schedule], {
      timeoutMs: 10_000,
    });
  } catch (e) {
    if (e instanceof StowageError && e.code === "dependency.missing") return; // the pure check ran already
    throw e;
  }
  if (res.code !== 0) {
    const why = (res.stderr.trim().split("\n").pop() ?? "").replace(
      /^Failed to parse calendar specification '.*?': /,
      "",
    );
    throw usageError(
      `Cannot use schedule '${schedule}': systemd does not accept it (${why || "invalid"})`,
      "Use a calendar expression such as '*-*-* 02:00:00' or 'daily' (see `man systemd.time`).",
    );
  }
}

/** The argv that starts stowage in a unit: the given binary, the compiled one, or deno + this checkout. */
async function stowageCommand(
  rt: Runtime,
  loaded: LoadedConfig,
  binary: string | undefined,
): Promise<string[]> {
  let argv: string[];
  if (binary !== undefined) {
    if (!binary.startsWith("/")) {
      throw usageError(
        `Cannot use --binary '${binary}': it is not an absolute path`,
        "systemd needs the full path, e.g. /usr/local/bin/stowage.",
      );
    }
    let info: Deno.FileInfo | undefined;
    try {
      info = await Deno.stat(binary);
    } catch {
      info = undefined;
    }
    if (!info?.isFile || info.mode === null || (info.mode & 0o111) === 0) {
      throw usageError(
        `Cannot use --binary '${binary}': it is not an executable file`,
        "Point it at the installed stowage program (`deno task compile` builds one).",
      );
    }
    argv = [binary];
  } else if (Deno.build.standalone) {
    argv = [Deno.execPath()];
  } else {
    argv = await denoRunCommand();
  }
  // The units must read the same config this command read.
  if (loaded.path && loaded.path !== rt.paths.configFile) argv.push("--config", loaded.path);
  return argv;
}

/** `deno task stowage` as an absolute command line, so units work from a checkout too. */
async function denoRunCommand(): Promise<string[]> {
  const root = ROOT.pathname.replace(/\/$/, "");
  let task = "deno run -P=stowage --unstable-net --quiet main.ts";
  try {
    const cfg = JSON.parse(await Deno.readTextFile(`${root}/deno.json`)) as {
      tasks?: Record<string, string>;
    };
    if (cfg.tasks?.stowage) task = cfg.tasks.stowage;
  } catch { /* the default above matches deno.json */ }
  const words = task.split(/\s+/).filter(Boolean);
  const out: string[] = [];
  for (const [i, w] of words.entries()) {
    if (i === 0 && w === "deno") out.push(Deno.execPath());
    else if (w.endsWith(".ts") && !w.startsWith("/")) out.push(`${root}/${w}`);
    else out.push(w);
    if (w === "run") {
      out.push(`--config=${root}/deno.json`, "--no-prompt");
      if (!words.includes("--quiet")) out.push("--quiet");
    }
  }
  return out;
}

function renderStatus(
  results: ResultsDoc,
  healthy: boolean,
  reason: string,
  now: Date,
  width?: number,
): string {
  const units = Object.values(results.units).sort((a, b) => a.unit.localeCompare(b.unit));
  if (units.length === 0) return "No backup has been recorded yet.\n";
  const rows = [["UNIT", "LAST", "FINISHED", "LAST GOOD", "DOWNTIME", "ADDED", "FAILURES"]];
  for (const u of units) {
    rows.push([
      u.unit,
      u.last.outcome === "failed" ? "FAILED" : u.last.outcome,
      // Relative ages keep the table narrow; --json has the timestamps.
      formatAge(now.getTime() - Date.parse(u.last.finishedAt)),
      u.lastSuccess ? formatAge(now.getTime() - Date.parse(u.lastSuccess.finishedAt)) : "never",
      u.last.downtimeMs === undefined ? "-" : formatDuration(u.last.downtimeMs),
      formatBytes(u.last.bytesAdded),
      String(u.failuresTotal),
    ]);
  }
  const run = results.runs.at(-1);
  const last = run ? `Last run ${run.backupId}: ${runOutcome(run)}\n` : "";
  let out = table(rows, width) + "\n" + last + `Health: ${healthy ? "ok" : "FAILING"}: ${reason}\n`;
  for (const u of units) if (u.last.error) out += `${u.unit}: ${u.last.error}\n`;
  return out;
}

/** Engine events of the daemon's runs as log records with unit/operation/backup id fields. */
function eventLogger(): (e: StowageEvent) => void {
  let backupId: string | undefined;
  return (e) => {
    if (e.type === "run.start") backupId = e.backupId;
    const rec = describeEvent(e);
    if (!rec) return;
    const props = { unit: rec.unit, operation: rec.operation, backupId };
    if (rec.level === "debug") log.debug(rec.message, props);
    else if (rec.level === "info") log.info(rec.message, props);
    else if (rec.level === "warning") log.warn(rec.message, props);
    else log.error(rec.message, props);
  };
}

const logFn: LogFn = (level, message, fields = {}) => {
  const props = { ...fields };
  if (level === "debug") log.debug(message, props);
  else if (level === "info") log.info(message, props);
  else if (level === "warning") log.warn(message, props);
  else log.error(message, props);
};
