import type { Program } from "../mod.ts";
import { globals, setExitCode, usageError } from "../mod.ts";
import type { LoadedConfig, Runtime } from "../runtime.ts";
import { formatBytes, formatDuration, printJson, table } from "../output.ts";
import { eventRenderer } from "../render.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import type { Scope } from "../../core/model.ts";
import { SCOPES } from "../../core/model.ts";
import type { EventSink } from "../../core/ports.ts";
import type { RunReport } from "../../core/report.ts";
import { runBackup, selectUnits } from "../../core/backup/run.ts";
import { discoverUnits } from "../../core/discovery.ts";
import { recoverFromJournal } from "../../core/backup/recover.ts";
import { acquireHostLock, describeHolder } from "../../adapters/lock.ts";
import { FileRestartJournal } from "../../adapters/journal.ts";
import { LocalHostFiles } from "../../adapters/host_files.ts";
import { buildDryRun, renderDryRun } from "./dry_run.ts";
import { refreshAutomaticBundle } from "./disaster_recovery.ts";
import { recordRun } from "../../adapters/results_store.ts";
import { errorMessage } from "../../core/errors.ts";
import { backupHooks } from "../../core/hooks/mod.ts";

export function parseScope(value: string | undefined): Scope | undefined {
  if (value === undefined) return undefined;
  if (!SCOPES.includes(value as Scope)) {
    throw usageError(`Unknown scope '${value}'`, "Use minimal, standard or full.");
  }
  return value as Scope;
}

export function parseSeconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw usageError(
      `${flag} expects a whole number of seconds, got '${value}'`,
      `e.g. ${flag} 600`,
    );
  }
  return n;
}

/**
 * One backup run as the CLI and the daemon perform it: host lock, crash recovery, the run, the
 * persisted result. The daemon calls this too, so both paths behave the same.
 */
export async function backupCommandRun(
  rt: Runtime,
  loaded: LoadedConfig,
  opts: {
    units?: string[];
    scope?: Scope;
    signal: AbortSignal;
    sink: EventSink;
    waitSeconds?: number;
  },
): Promise<RunReport> {
  const engine = rt.engine(loaded);
  // A mistyped --unit fails before the lock is taken or the repository prepared (a password
  // file generated, a repository created).
  if (opts.units?.length) {
    selectUnits(
      discoverUnits(await engine.gatherState(), { unsafePaths: loaded.config.backup.unsafe_paths }),
      opts.units,
    );
  }
  const repo = await rt.repository(loaded, { prepare: true });
  using _lock = await acquireHostLock(loaded.paths.lockFile, {
    waitSeconds: opts.waitSeconds,
    signal: opts.signal,
    clock: rt.clock,
    command: "backup",
    units: opts.units,
    // Queued behind another run: say what for and how long, rather than sit silent.
    onWait: (holder) =>
      opts.sink.emit({
        type: "log",
        level: "info",
        message: `waiting for ${describeHolder(holder)} to finish, up to ${opts.waitSeconds} s`,
      }),
  });
  const journal = new FileRestartJournal(loaded.paths.journalFile);
  await recoverFromJournal(journal, engine, opts.sink, "backup");
  if (!(await repo.exists())) {
    await repo.init();
    const where = loaded.config.repository.location ?? loaded.paths.repository;
    const pw = loaded.config.repository.password_file ?? loaded.paths.passwordFile;
    opts.sink.emit({
      type: "log",
      level: "info",
      message:
        `Created the repository at ${where}; its password is in ${pw} (keep a copy: stowage disaster-recovery).`,
    });
  }
  const report = await runBackup(
    {
      engine,
      repo,
      clock: rt.clock,
      sink: opts.sink,
      files: new LocalHostFiles(rt.runner),
      journal,
      host: rt.hostname,
      hooks: backupHooks({ config: loaded.config, engine, sink: opts.sink, signal: opts.signal }),
    },
    { config: loaded.config, units: opts.units, scope: opts.scope, signal: opts.signal },
  );
  if (loaded.config.backup.update_recovery_bundle && !report.interrupted) {
    // Once per run, not per unit. A missing bundle password fails the run loudly; it never
    // falls back to writing anything in plaintext.
    try {
      report.recoveryBundle = { path: (await refreshAutomaticBundle(rt, loaded)).path };
    } catch (e) {
      report.recoveryBundle = { error: errorMessage(e) };
      report.ok = false;
      opts.sink.emit({
        type: "log",
        level: "error",
        message: `recovery bundle not written: ${errorMessage(e)}`,
      });
    }
  }
  // The status endpoint reports timer-started runs from this file.
  await recordRun(loaded.paths.resultsFile, report).catch((e) =>
    opts.sink.emit({
      type: "log",
      level: "warning",
      message: `could not record the run's result: ${errorMessage(e)}`,
    })
  );
  return report;
}

export function registerBackup(program: Program, rt: Runtime) {
  program
    .command("backup")
    .description(
      "Back up units (compose stacks and standalone containers): stop, save, start again.",
    )
    .option("-u, --unit <name...>", "only these units (repeatable); default: every unit")
    .option(
      "-s, --scope <scope>",
      "minimal (volumes), standard (+ binds, recipe, networks) or full (+ Docker daemon config)",
    )
    .option("-n, --dry-run", "show the plan and change nothing (same as `stowage dry-run`)")
    .option("-w, --wait <seconds>", "wait up to this long for another running backup to finish")
    .option("--json", "print one JSON summary document on stdout")
    .addHelpText(
      "after",
      "\nExit codes: 0 every unit ok, 12 a unit failed, 11 another backup is running, 130 interrupted.\nSee docs/exit-codes.md.",
    )
    .action(async (opts, cmd) => {
      const scope = parseScope(opts.scope);
      const waitSeconds = parseSeconds(opts.wait, "--wait");
      const loaded = await rt.loadConfig(globals(cmd));
      if (opts.dryRun) {
        const doc = await buildDryRun(rt, loaded, { units: opts.unit, scope });
        if (opts.json) printJson(rt, doc);
        else rt.write(renderDryRun(doc));
        return;
      }
      const sink = eventRenderer(rt, { json: !!opts.json });
      const report = await backupCommandRun(rt, loaded, {
        units: opts.unit,
        scope,
        signal: rt.signal,
        sink,
        waitSeconds,
      });
      if (opts.json) printJson(rt, report);
      else rt.write(renderReport(report));
      setExitCode(
        report.interrupted ? EXIT_CODES.interrupted : report.ok ? 0 : EXIT_CODES["backup.failed"],
      );
    });
}

export function renderReport(r: RunReport): string {
  const rows = [["UNIT", "RESULT", "DOWNTIME", "READ", "ADDED", "SNAPSHOTS", "DURATION"]];
  for (const u of r.units) {
    rows.push([
      u.unit,
      u.outcome === "failed" ? "FAILED" : u.outcome,
      u.downtimeMs === undefined ? "-" : formatDuration(u.downtimeMs),
      formatBytes(u.bytesRead),
      formatBytes(u.bytesAdded),
      String(u.snapshots.length),
      formatDuration(u.durationMs),
    ]);
  }
  let out = `\nBackup ${r.backupId} (${r.scope}) on ${r.host}: ${
    r.interrupted ? "INTERRUPTED" : r.ok ? "ok" : "FAILED"
  } in ${formatDuration(r.durationMs)}\n\n${table(rows)}`;
  for (const u of r.units) {
    if (u.error) out += `\n${u.unit}: ${u.error}`;
    for (const w of u.warnings) out += `\n${u.unit}: warning: ${w}`;
    for (const v of u.volumes ?? []) out += `\n${u.unit}: volume ${v.name} (${v.kind}): ${v.how}`;
    for (const d of u.snapshots.filter((d) => d.files)) {
      out += `\n${u.unit}: ${d.type} ${d.item}: ${
        d.parent ? `compared with ${d.parent}` : "no parent, read in full"
      }, ${d.files!.unmodified} unchanged, ${d.files!.changed} changed, ${
        d.files!.new
      } new file(s)`;
    }
    for (const n of u.notes ?? []) out += `\n${u.unit}: retention: ${n}`;
    for (const g of u.gaps) out += `\n${u.unit}: not backed up: ${g.item} (${g.reason})`;
  }
  if (r.recoveryBundle?.path) out += `\nrecovery bundle: ${r.recoveryBundle.path}`;
  if (r.recoveryBundle?.error) out += `\nrecovery bundle NOT written: ${r.recoveryBundle.error}`;
  return out + "\n";
}
