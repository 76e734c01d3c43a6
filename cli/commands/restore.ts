/**
 * `stowage restore`: a wizard on a terminal, fully scriptable with flags. The command parses the
 * flags, asks what only a person can decide through the wizard (cli/restore_wizard.ts), drives
 * the restore use case (app/restore.ts: open, prepare, plan, run) and renders points, plan and
 * report (cli/restore_view.ts).
 */
import { style } from "../style.ts";
import { isInternalUnit } from "../../core/backup/plan.ts";
import { Option } from "@commander-js/extra-typings";
import type { Program } from "../mod.ts";
import { globals, setExitCode, usageError } from "../mod.ts";
import type { Runtime } from "../runtime.ts";
import { printJson } from "../output.ts";
import { eventRenderer } from "../render.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { type ErrorCode, StowageError } from "../../core/errors.ts";
import { shownName } from "../../core/text.ts";
import {
  parseWhen,
  type PointSelector,
  type RestorePoint,
  selectPoint,
  unitsIn,
} from "../../core/restore/points.ts";
import {
  type Part,
  PARTS,
  type RestoreOptions,
  type RestorePlan,
} from "../../core/restore/plan.ts";
import { pointsOf } from "../../core/restore/load.ts";
import { refuseTamperedPoint } from "../../core/restore/trust.ts";
import { pointsOfHost } from "../../core/restore/host.ts";
import { openRestore, prepareRestore, runRestore, type Snapshots } from "../../app/restore.ts";
import type { LoadedConfig } from "../../core/config/loaded.ts";
import type { BackupRepository } from "../../core/ports.ts";
import { type DumpRestoreReport, dumpsOf, restoreDumps } from "../../app/restore_dumps.ts";
import { RestoreWizard } from "../restore_wizard.ts";
import { absolute, checkToDir, parseBackupId, readEnvFile } from "../parse.ts";
import { listPoints, planSummary, renderPlan, renderReport } from "../restore_view.ts";

interface Flags {
  unit?: string;
  latest?: boolean;
  backupId?: string;
  before?: string;
  only?: string[];
  volume?: string[];
  toDir?: string;
  start?: boolean;
  stop?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  pinImages?: boolean;
  envFile?: string;
  recreateNetworks?: boolean;
  keepNetworks?: boolean;
  allowPrivileged?: boolean;
  list?: boolean;
  json?: boolean;
  allowIncomplete?: boolean;
  host?: string;
  from?: string;
  database?: string;
}

export function registerRestore(program: Program, rt: Runtime) {
  program
    .command("restore")
    .description(
      "Bring a unit back from a restore point: volumes, networks, compose files or the container.",
    )
    .option("-u, --unit <name>", "the unit (compose project or standalone container name)")
    .option("--host <name>", "only restore points this host made (another host's, on a new server)")
    .option(
      "--from <copy>",
      "restore from the copy of this name (config copies:) instead of the primary repository",
    )
    .addOption(new Option("--latest", "the newest backup").conflicts(["backupId", "before"]))
    .addOption(
      new Option("--backup-id <id>", "a restore point by its backup id (e.g. 2025-01-31T23-59-59Z)")
        .conflicts(["before"]),
    )
    .option(
      "--before <time>",
      "the newest backup made before this time (backup id, ISO time or date; UTC)",
    )
    .option(
      "--only <part...>",
      "restore only these parts: recipe, volumes (incl. bind folders), networks (repeatable); or dumps alone (database dumps, docs/dumps.md)",
    )
    .option("--database <name>", "with --only dumps: only this database's dump")
    .option("--volume <name...>", "restore only these volumes or bind folders (repeatable)")
    .option(
      "--to-dir <dir>",
      "files only: recipe files and volume contents under DIR, no Docker calls",
    )
    .option("--start", "start the unit afterwards (compose up -d for stacks) and report what runs")
    .option(
      "--stop",
      "stop the unit's running containers for the restore and start them again after",
    )
    .option("-y, --yes", "do not ask: needed to run without a terminal")
    .option("-n, --dry-run", "print the whole plan and change nothing")
    .option("--pin-images", "rewrite image references to the digests recorded at backup time")
    .option("--env-file <file>", "KEY=VALUE file with values for redacted variables")
    .addOption(
      new Option("--recreate-networks", "replace an existing network whose configuration differs")
        .conflicts(["keepNetworks"]),
    )
    .option("--keep-networks", "keep an existing network whose configuration differs")
    .option(
      "--allow-incomplete",
      "with --backup-id: restore what an incomplete restore point holds (docs/restore.md)",
    )
    .option(
      "--allow-privileged",
      "recreate a standalone container with the privileged settings it was saved with (needs --yes)",
    )
    .option("--list", "list the unit's restore points (or the units, without --unit) and exit")
    .option("--json", "print one JSON document on stdout")
    .addHelpText(
      "after",
      `
Without a terminal, --yes is required (and --unit with --latest, --backup-id or --before).
Before a volume with data is replaced it is saved as a pre-restore snapshot; restore it with
--backup-id <the id printed>. See docs/restore.md. Exit codes: docs/exit-codes.md.`,
    )
    .action(async (opts, cmd) => {
      await restoreAction(rt, opts as Flags, globals(cmd));
    });
}

async function restoreAction(rt: Runtime, flags: Flags, g: { config?: string; logLevel?: string }) {
  const dumpsOnly = isDumpsOnly(flags);
  const parts = dumpsOnly ? [] : parseParts(flags.only);
  const interactive = rt.stdinIsTerminal && !flags.yes && !flags.json;
  if (flags.toDir && (flags.start || flags.stop)) {
    throw usageError(
      "--to-dir restores files only and cannot be combined with --start or --stop",
      "Drop --start/--stop, or drop --to-dir to restore into Docker.",
    );
  }
  if (flags.toDir !== undefined) await checkToDir(flags.toDir);
  // Read before the repository is opened: a bad file fails at once.
  const secrets = flags.envFile !== undefined ? await readEnvFile(flags.envFile) : {};
  const selector = parseSelector(flags);
  checkConfirmation(rt, flags, interactive, selector);

  const loaded = await rt.loadConfig(g);
  const prompts = interactive ? await RestoreWizard.load(rt) : undefined;
  // With copies, the wizard asks where to read from (the primary may be what died).
  const copies = loaded.config.copies.map((c) => c.name);
  const from = flags.from ??
    (prompts && copies.length && !flags.list ? await prompts.source(copies) : undefined);
  const { repo, snapshots } = await openRestore(rt.app, loaded, { from });

  if (flags.list) return listPoints(rt, snapshots, flags);
  if (flags.allowIncomplete && !flags.backupId && !interactive) {
    throw usageError(
      "--allow-incomplete needs --backup-id",
      "--latest and --before only pick complete restore points; name the incomplete one by its id.",
    );
  }
  const point = await choosePoint(rt, flags, snapshots, selector, prompts);
  if (dumpsOnly) return await restoreDumpsAction(rt, flags, loaded, repo, point, prompts);

  const options: RestoreOptions = {
    parts,
    volumes: flags.volume ?? [],
    toDir: flags.toDir ? absolute(flags.toDir) : undefined,
    start: !!flags.start,
    stop: !!flags.stop,
    pinImages: !!flags.pinImages,
    networks: flags.recreateNetworks ? "recreate" : flags.keepNetworks ? "keep" : "refuse",
    secrets,
    allowPrivileged: !!flags.allowPrivileged,
    unsafePaths: loaded.config.backup.unsafe_paths,
  };
  if (prompts && !flags.only && !flags.volume) await prompts.what(point, options);
  if (prompts && !flags.toDir) await prompts.where(options, point);
  if (prompts && !flags.start && !options.toDir && point.kind === "backup") {
    options.start = await prompts.confirm("Start the unit after the restore?", true);
  }

  const session = await prepareRestore(rt.app, loaded, repo, point, options, {
    allowIncomplete: flags.allowIncomplete,
    onIncomplete: (problems) =>
      rt.writeErr(
        `warning: restoring incomplete restore point ${point.backupId}: ${problems.join("; ")}\n`,
      ),
  });
  let plan = await session.plan();
  // On a terminal, conflicts a person can settle are asked about, then the plan is made again.
  while (prompts && plan.conflicts.length > 0 && await prompts.settle(plan.conflicts, options)) {
    plan = await session.plan();
  }
  if (plan.conflicts.length > 0 && !flags.dryRun) throw conflictError(plan);
  if (plan.container?.privileged.length && !flags.yes && !flags.dryRun) {
    throw usageError(
      `Cannot recreate container '${plan.container.name}' with ${
        plan.container.privileged.join(", ")
      } without --yes`,
      "Read the plan (--dry-run), then pass --allow-privileged --yes.",
    );
  }
  if (flags.dryRun) return showDryRun(rt, flags, plan);
  if (prompts) await confirmPlan(rt, prompts, plan);

  const { report, plan: ran } = await runRestore(rt.app, loaded, session, plan, {
    sink: eventRenderer(rt, { json: !!flags.json }),
    signal: rt.signal,
    conflict: conflictError,
  });
  renderOutcome(rt, flags, report, ran);
}

/**
 * Without a terminal (or with --json) nothing is asked: the flags must name the unit and the
 * point, and --yes must confirm, before anything is read.
 */
function checkConfirmation(
  rt: Runtime,
  flags: Flags,
  interactive: boolean,
  selector: PointSelector | undefined,
) {
  if (!interactive && !flags.list && !flags.dryRun && !flags.yes) {
    throw new StowageError(
      "not.terminal",
      rt.stdinIsTerminal
        ? "Cannot restore without confirmation: --json asks no questions and --yes was not given"
        : "Cannot restore without confirmation: stdin is not a terminal and --yes was not given",
      "Run it on a terminal for the wizard, or pass --unit NAME --latest (or --backup-id/--before) --yes.",
    );
  }
  if (!interactive && !flags.list && (!flags.unit || !selector)) {
    throw usageError(
      `Cannot restore without ${
        !flags.unit ? "--unit" : "a restore point"
      } when not asking on a terminal`,
      "Pass --unit NAME and one of --latest, --backup-id ID or --before TIME.",
    );
  }
}

/** The unit and its restore point, from the flags or the wizard; a tampered point is refused. */
async function choosePoint(
  rt: Runtime,
  flags: Flags,
  snapshots: Snapshots,
  selector: PointSelector | undefined,
  prompts: RestoreWizard | undefined,
): Promise<RestorePoint> {
  const unit = flags.unit ?? await prompts!.unit(
    unitsIn(snapshots).filter((u) => !isInternalUnit(u)),
    snapshots,
  );
  // A point holding a snapshot with invalid tags is refused before anything is read from it.
  if (selector && "backupId" in selector) {
    refuseTamperedPoint(snapshots, unit, selector.backupId);
  }
  const points = pointsOfHost(pointsOf(snapshots, unit), unit, flags.host);
  const point = selector
    ? selectPoint(points, unit, selector, rt.hostname, { allowIncomplete: flags.allowIncomplete })
    : await prompts!.point(points, rt.clock.now(), !!flags.allowIncomplete);
  refuseTamperedPoint(snapshots, unit, point.backupId);
  return point;
}

/** `--only dumps`: load (or write out) the point's database dumps, each after a safety dump. */
async function restoreDumpsAction(
  rt: Runtime,
  flags: Flags,
  loaded: LoadedConfig,
  repo: BackupRepository,
  point: RestorePoint,
  prompts: RestoreWizard | undefined,
) {
  const planned = dumpsOf(point, flags.database);
  const names = planned.map((d) => `${d.dump!.service}/${d.dump!.database}`);
  if (flags.dryRun) {
    if (flags.json) printJson(rt, { ok: true, dryRun: true, dumps: names });
    else {
      rt.write(
        `Would ${
          flags.toDir ? "write" : "load"
        } ${names.length} database dump(s) of restore point ${point.backupId}${
          flags.toDir ? ` under ${absolute(flags.toDir)}` : ", each after a safety dump of it"
        }:\n${names.map((n) => `  ${n}`).join("\n")}\n`,
      );
    }
    return;
  }
  if (
    prompts && !flags.toDir &&
    !(await prompts.confirm(
      `Load ${
        names.join(", ")
      } from ${point.backupId} into the running database(s)? Each is dumped as it is now first.`,
      false,
    ))
  ) {
    throw cancelled();
  }
  const report = await restoreDumps(rt.app, loaded, repo, point, {
    database: flags.database,
    toDir: flags.toDir ? absolute(flags.toDir) : undefined,
    sink: eventRenderer(rt, { json: !!flags.json }),
    signal: rt.signal,
  });
  if (flags.json) printJson(rt, { ok: true, dumps: report });
  else rt.write(renderDumpRestore(report, !!flags.toDir));
}

/** `--dry-run`: the plan, and the conflict exit code when it has conflicts. */
function showDryRun(rt: Runtime, flags: Flags, plan: RestorePlan) {
  if (flags.json) {
    printJson(rt, { ok: plan.conflicts.length === 0, dryRun: true, plan: planSummary(plan) });
  } else rt.write(renderPlan(plan, style(rt, "stdout")));
  if (plan.conflicts.length > 0) setExitCode(EXIT_CODES["restore.conflict"]);
}

/** The wizard's last question: the plan, then yes or no (no when something is overwritten). */
async function confirmPlan(rt: Runtime, prompts: RestoreWizard, plan: RestorePlan) {
  rt.writeErr(renderPlan(plan, style(rt, "stderr")));
  const yes = await prompts.confirm(
    plan.overwrites.length
      ? `Overwrite the ${plan.overwrites.length} item(s) listed above and restore?`
      : "Restore now?",
    plan.overwrites.length === 0,
  );
  if (!yes) throw cancelled();
}

const cancelled = () =>
  new StowageError(
    "interrupted",
    "Restore cancelled; nothing was changed",
    "Run `stowage restore` again when ready.",
  );

/** The report (or JSON), and on failure its error with the exit code of its kind. */
function renderOutcome(
  rt: Runtime,
  flags: Flags,
  report: Awaited<ReturnType<typeof runRestore>>["report"],
  plan: RestorePlan,
) {
  if (flags.json) printJson(rt, { ok: report.ok, dryRun: false, plan: planSummary(plan), report });
  else rt.write(renderReport(report, plan, style(rt, "stdout")));
  if (!report.ok && report.error) {
    if (!flags.json) {
      rt.writeErr(`stowage: ${report.error.message}\n`);
      for (const d of report.error.details ?? []) rt.writeErr(`  ${d}\n`);
      if (report.error.hint) rt.writeErr(`hint: ${report.error.hint}\n`);
    }
    setExitCode(EXIT_CODES[report.error.code as ErrorCode] ?? EXIT_CODES["restore.failed"]);
  }
}

// ---------------------------------------------------------------------------------------------
// Flags

/** `--only dumps` restores database dumps and nothing else (app/restore_dumps.ts). */
function isDumpsOnly(flags: Flags): boolean {
  const parts = (flags.only ?? []).flatMap((s) => s.split(",")).map((s) => s.trim());
  if (!parts.includes("dumps")) {
    if (flags.database !== undefined) {
      throw usageError("--database needs --only dumps", "Pass --only dumps --database NAME.");
    }
    return false;
  }
  if (parts.some((p) => p !== "dumps") || flags.volume || flags.start || flags.stop) {
    throw usageError(
      "--only dumps restores database dumps alone",
      "Restore the unit's other parts in a run of their own, without dumps in --only.",
    );
  }
  return true;
}

function renderDumpRestore(r: DumpRestoreReport, toDir: boolean): string {
  const lines = r.databases.map((d, i) =>
    toDir ? `  wrote ${r.files[i]}` : `  loaded ${d} from ${r.backupId}`
  );
  if (r.safetyBackupId) {
    lines.push(
      `  the databases as they were before are saved under backup id ${r.safetyBackupId}`,
    );
  }
  return `Restored ${r.databases.length} database dump(s) of restore point ${r.backupId}:\n${
    lines.join("\n")
  }\n`;
}

function parseParts(only: string[] | undefined): Part[] {
  const out: Part[] = [];
  for (const raw of (only ?? []).flatMap((s) => s.split(","))) {
    const p = raw.trim() === "volume"
      ? "volumes"
      : raw.trim() === "network"
      ? "networks"
      : raw.trim();
    if (!PARTS.includes(p as Part)) {
      throw usageError(
        `Unknown part '${raw}' for --only`,
        "Use recipe, volumes or networks (repeatable).",
      );
    }
    if (!out.includes(p as Part)) out.push(p as Part);
  }
  return out;
}

function parseSelector(flags: Flags): PointSelector | undefined {
  const given =
    [flags.latest, flags.backupId, flags.before].filter((x) => x !== undefined && x !== false)
      .length;
  if (given > 1) {
    throw usageError(
      "Give only one of --latest, --backup-id and --before",
      "They all choose the restore point.",
    );
  }
  if (flags.latest) return { latest: true };
  if (flags.backupId !== undefined) return { backupId: parseBackupId(flags.backupId) };
  if (flags.before) return { before: parseWhen(checkCalendarDate(flags.before)) };
  return undefined;
}

/**
 * `Date` rolls 2025-02-30 over to March 2: a date that does not exist is a typo, not a time.
 * Returns the text when its date part (if any) is a real day.
 */
function checkCalendarDate(text: string): string {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!m) return text;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) {
    throw usageError(
      `Cannot read --before '${shownName(text)}': ${m[1]}-${m[2]}-${
        m[3]
      } is not a day of the calendar`,
      "Give a backup id (2025-01-31T23-59-59Z), an ISO time (2025-01-31T23:59:59Z) or a date (2025-01-31).",
    );
  }
  return text;
}

function conflictError(plan: RestorePlan): StowageError {
  const hints = [...new Set(plan.conflicts.map((c) => c.resolve).filter(Boolean))];
  const hint = hints.length
    ? `Resolve with ${
      hints.map((h) => h!.replace("|", " or ")).join(", ")
    }, or run on a terminal to decide each one.`
    : "Nothing was changed. Free the items named above, or restore into a directory with --to-dir.";
  return new StowageError(
    plan.conflicts.some((c) => c.kind === "missing") &&
      plan.conflicts.every((c) => c.kind === "missing")
      ? "snapshot.notfound"
      : "restore.conflict",
    `Cannot restore '${plan.unit}' from ${plan.backupId}: ${plan.conflicts.length} conflict(s)`,
    hint,
    { details: plan.conflicts.map((c) => c.message) },
  );
}
