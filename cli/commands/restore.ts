/**
 * `stowage restore`: a wizard on a terminal, fully scriptable with flags. The command gathers the
 * choices, asks what only a person can decide (on a terminal), prints or confirms the plan, and
 * hands it to the executor in core/restore/run.ts.
 */
import { isInternalUnit } from "../../core/backup/plan.ts";
import process from "node:process";
import { Option } from "@commander-js/extra-typings";
import type { Program } from "../mod.ts";
import { globals, setExitCode, usageError } from "../mod.ts";
import type { Runtime } from "../runtime.ts";
import { formatBytes, formatDuration, printJson, table } from "../output.ts";
import { eventRenderer } from "../render.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { type ErrorCode, errorMessage, StowageError } from "../../core/errors.ts";
import { shownName } from "../../core/text.ts";
import { backupIdTime } from "../../core/tags.ts";
import {
  isUsable,
  missingFromRecipe,
  parseWhen,
  type PointSelector,
  requireComplete,
  type RestorePoint,
  selectPoint,
  unitsIn,
} from "../../core/restore/points.ts";
import {
  contentsOf,
  INCOMPLETE_NOTE,
  pointJson,
  pointLine,
  sizeOf,
  statusOf,
  whenOf,
} from "../points_view.ts";
import {
  type Conflict,
  type HostView,
  type Part,
  PARTS,
  planRestore,
  type RestoreInput,
  type RestoreOptions,
  type RestorePlan,
  selectData,
} from "../../core/restore/plan.ts";
import {
  detectCompose,
  gatherHost,
  loadDocuments,
  loadSnapshots,
  pointsOf,
  probeInto,
} from "../../core/restore/load.ts";
import { executeRestore, type RestoreReport } from "../../core/restore/run.ts";
import { parseEnvFile } from "../../core/restore/env_file.ts";
import { bareUnit, restoreHooks } from "../../core/restore/hooks.ts";
import { LocalRestoreFiles } from "../../adapters/restore_files.ts";
import { acquireHostLock } from "../../adapters/lock.ts";
import { FileRestartJournal } from "../../adapters/journal.ts";
import { recoverFromJournal } from "../../core/backup/recover.ts";
import { invalidSnapshots, refuseTamperedPoint } from "../../core/restore/trust.ts";
import { pointsOfHost } from "../../core/restore/host.ts";

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
}

export function registerRestore(program: Program, rt: Runtime) {
  program
    .command("restore")
    .description(
      "Bring a unit back from a restore point: volumes, networks, compose files or the container.",
    )
    .option("-u, --unit <name>", "the unit (compose project or standalone container name)")
    .option("--host <name>", "only restore points this host made (another host's, on a new server)")
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
      "restore only these parts: recipe, volumes (incl. bind folders), networks (repeatable)",
    )
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
Examples:
  stowage restore                                   # the wizard (on a terminal)
  stowage restore --unit shop --latest --start --yes
  stowage restore --unit shop --backup-id 2025-01-31T23-59-59Z --only volumes --stop --yes
  stowage restore --unit shop --latest --to-dir /tmp/shop --yes
  stowage restore --unit shop --list

Without a terminal, --yes is required (and --unit with --latest, --backup-id or --before).
Before a volume with data is replaced it is saved as a pre-restore snapshot; restore it with
--backup-id <the id printed>. See docs/restore.md. Exit codes: docs/exit-codes.md.`,
    )
    .action(async (opts, cmd) => {
      await restoreAction(rt, opts as Flags, globals(cmd));
    });
}

async function restoreAction(rt: Runtime, flags: Flags, g: { config?: string; logLevel?: string }) {
  const parts = parseParts(flags.only);
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
  if (!interactive && !flags.list && !flags.dryRun) {
    if (!flags.yes) {
      throw new StowageError(
        "not.terminal",
        rt.stdinIsTerminal
          ? "Cannot restore without confirmation: --json asks no questions and --yes was not given"
          : "Cannot restore without confirmation: stdin is not a terminal and --yes was not given",
        "Run it on a terminal for the wizard, or pass --unit NAME --latest (or --backup-id/--before) --yes.",
      );
    }
  }
  if (!interactive && !flags.list && (!flags.unit || !selector)) {
    throw usageError(
      `Cannot restore without ${
        !flags.unit ? "--unit" : "a restore point"
      } when not asking on a terminal`,
      "Pass --unit NAME and one of --latest, --backup-id ID or --before TIME.",
    );
  }

  const loaded = await rt.loadConfig(g);
  const repo = await rt.repository(loaded);
  const snapshots = await loadSnapshots(repo);

  if (flags.list) return listPoints(rt, snapshots, flags);
  if (flags.allowIncomplete && !flags.backupId && !interactive) {
    throw usageError(
      "--allow-incomplete needs --backup-id",
      "--latest and --before only pick complete restore points; name the incomplete one by its id.",
    );
  }

  const prompts = interactive ? await Prompts.load() : undefined;
  const unit = flags.unit ?? await prompts!.unit(
    unitsIn(snapshots).filter((u) => !isInternalUnit(u)),
    snapshots,
  );
  // A point holding a snapshot with invalid tags is refused before anything is read from it.
  if (selector && "backupId" in selector) {
    refuseTamperedPoint(snapshots, unit, selector.backupId.trim());
  }
  const points = pointsOfHost(pointsOf(snapshots, unit), unit, flags.host);
  const point = selector
    ? selectPoint(points, unit, selector, rt.hostname, { allowIncomplete: flags.allowIncomplete })
    : await prompts!.point(points, rt.clock.now(), !!flags.allowIncomplete);
  refuseTamperedPoint(snapshots, unit, point.backupId);

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

  const docs = await loadDocuments(repo, point);
  // A point written before completion markers existed is checked against its own recipe.
  const missing = point.status === "unverified" ? missingFromRecipe(point, docs.recipe) : [];
  requireComplete(point, missing.map((m) => `missing ${m}`), {
    allowIncomplete: flags.allowIncomplete,
  });
  if (point.status === "incomplete" || missing.length > 0) {
    rt.writeErr(
      `warning: restoring incomplete restore point ${point.backupId}: ${
        [...point.problems, ...missing.map((m) => `missing ${m}`)].join("; ")
      }\n`,
    );
  }
  const files = new LocalRestoreFiles();
  const engine = options.toDir ? undefined : rt.engine(loaded);
  const composeCommand = options.toDir || !options.start
    ? undefined
    : await detectCompose(rt.runner, loaded.config.docker.compose_command);
  const base = { point, recipe: docs.recipe, networks: docs.networks };
  // Unknown --volume names fail here, before the host is looked at.
  if (options.volumes.length) selectData(point, docs.recipe, options.volumes);

  const makePlan = async (): Promise<RestorePlan> => {
    const input: RestoreInput = { ...base, options };
    if (engine) input.host = await gatherHost(engine, files, input, composeCommand);
    else {
      // --to-dir: no Docker; only the folders and files below the directory are looked at.
      const view: HostView = { containers: [], volumes: [], networks: [], paths: {}, files: {} };
      await probeInto(view, files, input);
      input.host = view;
    }
    return planRestore(input);
  };
  let plan = await makePlan();
  // On a terminal, conflicts a person can settle are asked about, then the plan is made again.
  while (prompts && plan.conflicts.length > 0 && await prompts.settle(plan.conflicts, options)) {
    plan = await makePlan();
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

  if (flags.dryRun) {
    if (flags.json) {
      printJson(rt, { ok: plan.conflicts.length === 0, dryRun: true, plan: planSummary(plan) });
    } else rt.write(renderPlan(plan));
    if (plan.conflicts.length > 0) setExitCode(EXIT_CODES["restore.conflict"]);
    return;
  }
  if (prompts) {
    rt.writeErr(renderPlan(plan));
    if (
      !(await prompts.confirm(
        plan.overwrites.length
          ? `Overwrite the ${plan.overwrites.length} item(s) listed above and restore?`
          : "Restore now?",
        plan.overwrites.length === 0,
      ))
    ) {
      throw new StowageError(
        "interrupted",
        "Restore cancelled; nothing was changed",
        "Run `stowage restore` again when ready.",
      );
    }
  }

  const sink = eventRenderer(rt, { json: !!flags.json });
  using _lock = engine
    ? await acquireHostLock(loaded.paths.lockFile, {
      clock: rt.clock,
      command: "restore",
      signal: rt.signal,
    })
    : undefined;
  const journal = engine ? new FileRestartJournal(loaded.paths.journalFile) : undefined;
  if (engine && journal) {
    // With the lock held: start what a crashed run left stopped, then plan again on that state.
    const recovered = await recoverFromJournal(journal, engine, sink, "restore");
    if (recovered.units.length > 0) {
      plan = await makePlan();
      if (plan.conflicts.length > 0) throw conflictError(plan);
    }
  }
  const report = await executeRestore(
    {
      repo,
      engine,
      runner: rt.runner,
      files,
      clock: rt.clock,
      sink,
      host: rt.hostname,
      journal,
      // Hooks run around restores into Docker; --to-dir only writes files and runs none.
      hooks: engine
        ? restoreHooks({
          config: loaded.config,
          engine,
          sink,
          signal: rt.signal,
          unit: docs.recipe?.unit ?? bareUnit(plan.unit, plan.kind),
        })
        : undefined,
      stopTimeoutSeconds: loaded.config.backup.stop_timeout,
      startTimeoutSeconds: loaded.config.backup.start_timeout,
      signal: rt.signal,
    },
    plan,
    options.secrets,
  );
  if (flags.json) printJson(rt, { ok: report.ok, dryRun: false, plan: planSummary(plan), report });
  else rt.write(renderReport(report, plan));
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
  if (flags.backupId !== undefined) {
    const id = flags.backupId.trim();
    // Only the shape: a well-formed id that names no backup gets the nearest ids from the lookup.
    if (!backupIdTime(id)) {
      throw usageError(
        `Cannot use --backup-id '${shownName(flags.backupId)}': not a backup id`,
        "A backup id is the UTC start time of a run, like 2025-01-31T23-59-59Z (`stowage restore --list` shows them).",
      );
    }
    return { backupId: id };
  }
  if (flags.before) return { before: parseWhen(checkCalendarDate(flags.before)) };
  return undefined;
}

async function readEnvFile(path: string): Promise<Record<string, string>> {
  let text: string;
  const bad = (why: string) =>
    new StowageError(
      "usage",
      `Cannot read --env-file '${shownName(path)}': ${why}`,
      "Give a readable KEY=VALUE file (keep it 0600).",
    );
  try {
    // A FIFO or device would block the read for good.
    if (!(await Deno.stat(path)).isFile) throw bad("it is not a regular file");
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof StowageError) throw e;
    throw bad(e instanceof Deno.errors.NotFound ? "no such file" : "not readable");
  }
  return parseEnvFile(text, `--env-file '${path}'`);
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

/**
 * --to-dir is checked before anything is read or planned: a dry run must fail where the real
 * run would (an existing file there), and an empty or control-character path is a mistake.
 */
async function checkToDir(dir: string): Promise<void> {
  const bad = (why: string, hint = "Name a directory (it is created when missing).") =>
    usageError(`Cannot restore into --to-dir '${shownName(dir)}': ${why}`, hint);
  if (dir.trim() === "") throw bad("the path is empty");
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(dir)) throw bad("it contains a control character");
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    if (e instanceof Deno.errors.NotADirectory) throw bad("a part of the path is a file");
    if (e instanceof Deno.errors.FilesystemLoop) throw bad("its symbolic links loop");
    throw bad(`it cannot be checked (${errorMessage(e)})`);
  }
  if (!info.isDirectory) throw bad("it exists and is not a directory");
}

function absolute(p: string): string {
  return p.startsWith("/") ? p : `${Deno.cwd()}/${p}`.replace(/\/\.\/?/g, "/");
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

// ---------------------------------------------------------------------------------------------
// --list

/** Reads nothing more than the one snapshot listing the caller already made. */
function listPoints(
  rt: Runtime,
  snapshots: Parameters<typeof unitsIn>[0],
  flags: Flags,
) {
  const now = rt.clock.now();
  if (!flags.unit) {
    const units = unitsIn(snapshots).filter((u) => !isInternalUnit(u)).map((u) => {
      const points = pointsOf(snapshots, u);
      const latest = points.find((p) => p.kind === "backup" && isUsable(p));
      return {
        unit: u,
        restorePoints: points.length,
        incomplete: points.filter((p) => p.status === "incomplete").length,
        latest: latest?.backupId ?? null,
        latestAgeSeconds: latest
          ? Math.round((now.getTime() - Date.parse(latest.time)) / 1000)
          : null,
        latestWhen: latest ? whenOf(latest, now) : null,
      };
    });
    if (flags.json) printJson(rt, { units });
    else if (units.length === 0) rt.write("No backups in the repository.\n");
    else {
      rt.write(table([
        ["UNIT", "POINTS", "INCOMPLETE", "LATEST COMPLETE"],
        ...units.map((u) => [
          u.unit,
          String(u.restorePoints),
          String(u.incomplete),
          u.latestWhen ?? "none",
        ]),
      ]));
    }
    return;
  }
  const points = pointsOf(snapshots, flags.unit);
  const ignored = invalidSnapshots(snapshots, flags.unit).map((s) => ({
    snapshot: s.shortId,
    backupId: s.backupId ?? null,
    reason: s.invalid!,
  }));
  const refused = (p: RestorePoint) => ignored.some((i) => i.backupId === p.backupId);
  if (flags.json) {
    printJson(rt, {
      unit: flags.unit,
      restorePoints: points.map((p) => ({ ...pointJson(p, now), refused: refused(p) })),
      ignored,
    });
    return;
  }
  rt.write(table([
    ["WHEN (BACKUP ID)", "STATUS", "HOST", "SCOPE", "CONTENTS", "SIZE"],
    ...points.map((p) => [
      whenOf(p, now),
      refused(p) ? "REFUSED (invalid tags)" : statusOf(p),
      p.host,
      p.kind === "pre-restore" ? "-" : p.scope ?? "?",
      contentsOf(p),
      sizeOf(p),
    ]),
  ]));
  if (points.some((p) => p.status === "incomplete")) rt.write(`\n${INCOMPLETE_NOTE}\n`);
  for (const i of ignored) {
    rt.write(
      `ignored snapshot ${i.snapshot}${
        i.backupId ? ` (backup id ${i.backupId})` : ""
      }: invalid tags: ${i.reason}\n`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The wizard

class Prompts {
  private constructor(private readonly p: typeof import("@inquirer/prompts")) {}

  static async load(): Promise<Prompts> {
    return new Prompts(await import("@inquirer/prompts"));
  }

  // Prompts draw on stderr so stdout stays clean for output.
  private ctx = { output: process.stderr };

  private async ask<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof Error && (e.name === "ExitPromptError" || e.name === "AbortPromptError")) {
        throw new StowageError(
          "interrupted",
          "Restore cancelled; nothing was changed",
          "Run `stowage restore` again when ready.",
        );
      }
      throw e;
    }
  }

  unit(units: string[], snapshots: Parameters<typeof unitsIn>[0]): Promise<string> {
    if (units.length === 0) {
      throw new StowageError(
        "unit.notfound",
        "Cannot restore: the repository holds no stowage backups",
        "Run `stowage backup` first, or check --config.",
      );
    }
    return this.ask(() =>
      this.p.select({
        message: "Which unit?",
        choices: units.map((u) => {
          const points = pointsOf(snapshots, u);
          const latest = points.find((p) => p.kind === "backup" && isUsable(p));
          return {
            name: `${u}  (${points.length} restore point(s), latest complete ${
              latest?.backupId ?? "none"
            })`,
            value: u,
          };
        }),
      }, this.ctx)
    );
  }

  /** Incomplete points are shown but cannot be chosen unless --allow-incomplete was given. */
  point(points: RestorePoint[], now: Date, allowIncomplete: boolean): Promise<RestorePoint> {
    return this.ask(() =>
      this.p.select({
        message: "Which restore point? (newest first)",
        choices: points.map((p) => ({
          name: pointLine(p, now),
          value: p,
          disabled: p.status === "incomplete" && !allowIncomplete
            ? "(incomplete: --backup-id ID --allow-incomplete)"
            : false,
        })),
        default: points.find((p) => p.kind === "backup" && isUsable(p)),
        pageSize: 12,
      }, this.ctx)
    );
  }

  async what(point: RestorePoint, options: RestoreOptions) {
    const available: Part[] = point.kind === "pre-restore"
      ? ["volumes"]
      : PARTS.filter((p) =>
        p === "volumes"
          ? point.volumes.length + point.binds.length > 0
          : p === "recipe"
          ? !!point.recipe
          : !!point.networks
      );
    const choice = await this.ask(() =>
      this.p.select<"everything" | Part>({
        message: "What to restore?",
        choices: [
          { name: "everything", value: "everything" },
          ...available.map((p) => ({ name: p, value: p })),
        ],
      }, this.ctx)
    );
    options.parts = choice === "everything" ? [] : [choice];
    if (choice === "volumes" && point.volumes.length + point.binds.length > 1) {
      const all = [...point.volumes, ...point.binds].map((d) => d.name);
      const picked = await this.ask(() =>
        this.p.checkbox({
          message: "Which volumes and bind folders?",
          choices: all.map((n) => ({ name: n, value: n, checked: true })),
          required: true,
        }, this.ctx)
      );
      options.volumes = picked.length === all.length ? [] : picked;
    }
  }

  async where(options: RestoreOptions, point: RestorePoint) {
    const choice = await this.ask(() =>
      this.p.select({
        message: "Where to?",
        choices: [
          {
            name: "their original places (Docker volumes, networks, compose directory)",
            value: "original",
          },
          { name: "a directory (files only, Docker is not touched)", value: "dir" },
        ],
      }, this.ctx)
    );
    if (choice === "dir") {
      const dir = await this.ask(() =>
        this.p.input({
          message: "Directory:",
          default: `./restore-${point.unit}-${point.backupId}`,
          required: true,
        }, this.ctx)
      );
      await checkToDir(dir);
      options.toDir = absolute(dir);
    }
  }

  confirm(message: string, def: boolean): Promise<boolean> {
    return this.ask(() => this.p.confirm({ message, default: def }, this.ctx));
  }

  /** Asks about conflicts a person can decide; false when none of them can be settled here. */
  async settle(conflicts: Conflict[], options: RestoreOptions): Promise<boolean> {
    let changed = false;
    for (const c of conflicts) process.stderr.write(`conflict: ${c.message}\n`);
    if (conflicts.some((c) => c.kind === "network") && options.networks === "refuse") {
      const choice = await this.ask(() =>
        this.p.select({
          message: "A network exists with a different configuration. What to do?",
          choices: [
            {
              name: "recreate it as saved (this unit's containers are reconnected)",
              value: "recreate" as const,
            },
            { name: "keep it as it is", value: "keep" as const },
            { name: "cancel", value: "cancel" as const },
          ],
        }, this.ctx)
      );
      if (choice === "cancel") {
        throw new StowageError(
          "interrupted",
          "Restore cancelled; nothing was changed",
          "Run `stowage restore` again when ready.",
        );
      }
      options.networks = choice;
      changed = true;
    }
    if (conflicts.some((c) => c.kind === "in-use") && !options.stop) {
      if (
        !(await this.confirm(
          "Stop the unit's running containers for the restore (they are started again afterwards)?",
          true,
        ))
      ) {
        throw new StowageError(
          "interrupted",
          "Restore cancelled; nothing was changed",
          "Stop the containers yourself or pass --stop.",
        );
      }
      options.stop = true;
      changed = true;
    }
    const missing = [
      ...new Set(
        conflicts.filter((c) => c.kind === "secret").flatMap((c) =>
          c.message.replace(/.*redacted /, "").split(", ")
        ),
      ),
    ];
    for (const name of missing) {
      if (options.secrets[name] !== undefined) continue;
      options.secrets[name] = await this.ask(() =>
        this.p.password(
          { message: `Value for ${name} (redacted in the backup):`, mask: "*" },
          this.ctx,
        )
      );
      changed = true;
    }
    return changed;
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** The plan without file contents or the container body (they may hold secrets). */
export function planSummary(plan: RestorePlan) {
  return {
    ...plan,
    files: plan.files.map(({ content: _c, ...f }) => f),
    container: plan.container
      ? {
        name: plan.container.name,
        image: plan.container.body.Image,
        replace: plan.container.replace,
        start: plan.container.start,
        networks: [
          ...Object.keys(
            (plan.container.body.NetworkingConfig as
              | { EndpointsConfig?: Record<string, unknown> }
              | undefined)?.EndpointsConfig ?? {},
          ),
          ...plan.container.connect.map((c) => c.network),
        ],
        missing: plan.container.missing,
      }
      : undefined,
  };
}

export function renderPlan(plan: RestorePlan): string {
  const out: string[] = [];
  out.push(
    `Restore of '${plan.unit}' (${plan.kind}) from ${plan.backupId}  (${
      plan.time.replace(".000Z", "Z")
    }, host ${plan.host}, ${
      plan.pointKind === "pre-restore" ? "pre-restore snapshots" : `scope ${plan.scope ?? "?"}`
    })`,
  );
  if (plan.toDir) out.push(`  into ${plan.toDir} (files only; Docker is not touched)`);
  if (plan.stop.length) out.push(`  stop first: ${plan.stop.join(", ")}`);
  if (plan.data.length) {
    out.push("  data:");
    for (const d of plan.data) {
      const notes = [
        d.create ? `create volume (driver ${d.create.Driver})` : "",
        d.state === "data"
          ? (d.preRestore
            ? "has data: saved as a pre-restore snapshot, then replaced"
            : "has data: replaced")
          : d.state === "empty"
          ? "empty"
          : d.create
          ? ""
          : "absent",
        d.source === "archive" ? "from a tar archive" : "",
      ].filter(Boolean).join("; ");
      out.push(
        `    ${d.kind} ${d.name}  <- snapshot ${d.snapshotId.slice(0, 8)}  -> ${
          d.target ??
            (d.anonymous
              ? `(after up: the new anonymous volume of ${d.anonymous.service} at ${d.anonymous.destination})`
              : "(its new mountpoint)")
        }${notes ? `  (${notes})` : ""}`,
      );
    }
  }
  if (plan.networks.length) {
    out.push("  networks:");
    for (const n of plan.networks) {
      const subnet = (n.spec.IPAM?.Config ?? []).map((c) => c.Subnet).filter(Boolean).join(", ");
      out.push(
        `    ${n.name}  ${n.action}${subnet ? `  (${subnet})` : ""}${
          n.differences.length ? `: ${n.differences.join("; ")}` : ""
        }`,
      );
    }
  }
  if (plan.files.length) {
    out.push(
      `  files${
        plan.filesDir?.relocated && !plan.toDir
          ? ` (to a new directory ${plan.filesDir.dir}: ${plan.filesDir.reason})`
          : ""
      }:`,
    );
    for (const f of plan.files) {
      out.push(`    ${f.to}  ${f.action}${f.pinned ? " (images pinned)" : ""}`);
    }
  }
  const toLoad = (plan.images ?? []).filter((i) => i.load);
  if (toLoad.length) {
    out.push(
      `  images to load from the repository: ${
        toLoad.map((i) => `${i.reference}${i.size ? ` (${formatBytes(i.size)})` : ""}`).join(", ")
      }`,
    );
  }
  if (plan.pins.length) {
    out.push(`  pinned images: ${plan.pins.map((p) => `${p.image} -> ${p.pinned}`).join(", ")}`);
  }
  if (plan.container) {
    out.push(
      `  container ${plan.container.name}: ${
        plan.container.replace ? "remove and create again" : "create"
      } from the saved settings (image ${plan.container.body.Image})${
        plan.container.start ? ", then start" : ""
      }`,
    );
  }
  if (plan.compose) out.push(`  then: ${plan.compose.argv.join(" ")}  (in ${plan.compose.cwd})`);
  else if (plan.restart.length) out.push(`  start again: ${plan.restart.join(", ")}`);
  if (plan.overwrites.length) {
    out.push("  will overwrite:");
    for (const o of plan.overwrites) out.push(`    - ${o}`);
  } else out.push("  overwrites nothing");
  for (const w of plan.warnings) out.push(`  warning: ${w}`);
  for (const c of plan.conflicts) {
    out.push(`  CONFLICT: ${c.message}${c.resolve ? ` (${c.resolve.replace("|", " or ")})` : ""}`);
  }
  if (
    plan.data.length === 0 && plan.networks.length === 0 && plan.files.length === 0 &&
    !plan.container
  ) out.push("  nothing to restore");
  return out.join("\n") + "\n";
}

function renderReport(r: RestoreReport, plan: RestorePlan): string {
  const out: string[] = [];
  out.push(
    `${r.ok ? "Restored" : "Restore FAILED for"} '${r.unit}' from ${r.backupId} in ${
      formatDuration(r.durationMs)
    }`,
  );
  for (const d of r.data) {
    out.push(
      `  ${d.kind} ${d.name} -> ${d.target}${d.created ? " (created)" : ""}${
        d.preRestoreSnapshot
          ? `; previous content saved as pre-restore snapshot ${
            d.preRestoreSnapshot.slice(0, 8)
          } (undo: stowage restore --unit ${r.unit} --backup-id ${r.restoreId})`
          : ""
      }`,
    );
  }
  for (const n of r.networks) out.push(`  network ${n.name}: ${n.action}`);
  if (r.files.length) {
    out.push(
      `  files: ${r.files.filter((f) => f.action !== "identical").length} written, ${
        r.files.filter((f) => f.action === "identical").length
      } already identical${
        r.filesDir
          ? `, in the new directory ${r.filesDir}`
          : plan.filesDir
          ? ` in ${plan.filesDir.dir}`
          : ""
      }`,
    );
  }
  if (r.imagesLoaded?.length) {
    out.push(`  images loaded from the repository: ${r.imagesLoaded.join(", ")}`);
  }
  if (r.container) {
    out.push(`  container ${r.container.name} created (${r.container.id.slice(0, 12)})`);
  }
  if (r.stopped.length) out.push(`  stopped: ${r.stopped.join(", ")}`);
  if (r.started.length) out.push(`  started: ${r.started.join(", ")}`);
  if (r.running.length) {
    out.push(
      `  now: ${
        r.running.map((c) => `${c.name} ${c.state}${c.health ? ` (${c.health})` : ""}`).join(", ")
      }`,
    );
  }
  for (const w of r.warnings) out.push(`  warning: ${w}`);
  return out.join("\n") + "\n";
}
