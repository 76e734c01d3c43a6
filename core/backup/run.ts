/**
 * The backup orchestrator: for each unit, hooks, journal, stop in dependency order, save every
 * planned snapshot under one backup_id, start again in order, retention. Whatever fails after the
 * first stop, every container that was running is started again before the unit is reported.
 */
import type { Config } from "../config/schema.ts";
import { errorMessage, isStowageError, StowageError } from "../errors.ts";
import type { Scope, Unit } from "../model.ts";
import type {
  BackupRepository,
  BackupSummary,
  Clock,
  EngineArchive,
  EngineInventory,
  EngineLifecycle,
  EventSink,
  HostFiles,
  RestartJournal,
  ResticSnapshot,
} from "../ports.ts";
import type { RunReport, SnapshotRecord, UnitReport } from "../report.ts";
import { discoverUnits } from "../discovery.ts";
import { closestN, shownName } from "../text.ts";
import {
  backupIdFor,
  buildTags,
  buildWarmTags,
  isoSeconds,
  parseSnapshot,
  type TagFields,
} from "../tags.ts";
import { resolveShortIds } from "./ids.ts";
import { hostSnapshots, imageSnapshot, RunListing, warmSnapshots } from "./listing.ts";
import { removingStaleLocks } from "../stale_locks.ts";
import {
  bestParent,
  type DataPass,
  groupPasses,
  type ParentCandidate,
  parentCandidates,
} from "./passes.ts";
import {
  DOCKER_CONFIG_PATHS,
  HOST_UNIT,
  IMAGES_UNIT,
  type PlanItem,
  type UnitPlan,
} from "./plan.ts";
import { planWithDumps } from "./dumps.ts";
import { type DumpEngineApi, dumpProblems, saveDumps } from "./dump_exec.ts";
import type { VerifyDeps } from "./dump_verify.ts";
import { redactContainer, redactUnit } from "./redact.ts";
import { planRetention } from "./retention.ts";
import { MARKER_FILE, restorePoints } from "../restore/points.ts";
import { FORMAT_VERSION, VERSION } from "../version.ts";
import type { Recipe, RecipeFile, RecipeImage } from "../recipe.ts";
import { collectReferences } from "./references.ts";
import { type ImageSaveDeps, saveImages } from "./images.ts";
import { bytesSource, trackedSource } from "./stream_source.ts";
import type { EngineState } from "../engine_types.ts";
import type { FsSnapshots } from "../fs_snapshot/ports.ts";
import { prepareUnitSnapshots, type UnitSnapshots } from "../fs_snapshot/run.ts";

export type HookStatus = { status: "ok" } | { status: "skip"; reason: string } | {
  status: "failed";
  error: string;
};

/** The hooks the orchestrator calls; wired to core/hooks by the CLI. */
export interface BackupHooks {
  pre(unit: Unit, info: { backupId: string; scope: Scope }): Promise<HookStatus>;
  post(
    unit: Unit,
    info: {
      backupId: string;
      scope: Scope;
      outcome: {
        status: "ok" | "failed";
        snapshots: string[];
        downtimeMs?: number;
        error?: string;
      };
    },
  ): Promise<HookStatus>;
}

/**
 * What a backup does to Docker: read its state, stop and start the unit's containers, read a
 * volume through the archive API when its folder cannot be read, and through its steps export
 * images and run (and verify) database dumps.
 */
export type BackupEngine =
  & Pick<EngineInventory, "gatherState" | "inspectContainer">
  & Pick<EngineLifecycle, "stopContainer" | "startContainer">
  & Pick<EngineArchive, "getArchive">
  & ImageSaveDeps["engine"]
  & DumpEngineApi
  & VerifyDeps["engine"];

export interface BackupDeps {
  engine: BackupEngine;
  repo: BackupRepository;
  clock: Clock;
  sink: EventSink;
  files: HostFiles;
  journal: RestartJournal;
  host: string;
  /** This process's id, written into the restart journal (core/ has no Deno API). */
  pid: number;
  hooks?: BackupHooks;
  /** Filesystem snapshots (issue 18); without it every folder is read while stopped. */
  fsSnapshots?: FsSnapshots;
  /**
   * Every snapshot of the repository, listed just before the run (app/backup.ts: the listing that
   * proved the repository opens). Without it the run lists them first itself.
   */
  snapshots?: ResticSnapshot[];
}

export interface BackupRequest {
  config: Config;
  units?: string[];
  scope?: Scope;
  signal: AbortSignal;
}

/** Runs one backup. Throws only for problems found before any container is touched. */
export async function runBackup(deps: BackupDeps, req: BackupRequest): Promise<RunReport> {
  const started = deps.clock.now();
  const backupId = backupIdFor(started);
  const state = await deps.engine.gatherState();
  const units = selectUnits(
    discoverUnits(state, { unsafePaths: req.config.backup.unsafe_paths }),
    req.units,
  );
  // The repository opens (repo.missing / repo.password otherwise), and a stale lock is gone.
  const listing = new RunListing(
    deps.repo,
    deps.snapshots ??
      await removingStaleLocks(deps.repo, deps.sink, () => deps.repo.snapshots({}, { lock: true })),
  );
  deps.sink.emit({
    type: "run.start",
    operation: "backup",
    backupId,
    units: units.map((u) => u.name),
  });

  const reports: UnitReport[] = [];
  const forgets: PendingForget[] = [];
  const scope = req.scope ?? req.config.backup.scope;
  for (const [i, unit] of units.entries()) {
    const plan = planWithDumps(unit, req.config, req.scope);
    if (req.signal.aborted) {
      reports.push(skipped(plan, "interrupted before this unit started", deps.clock.now()));
      continue;
    }
    deps.sink.emit({
      type: "unit.start",
      unit: unit.name,
      index: i + 1,
      total: units.length,
      operation: "backup",
    });
    reports.push(await backupUnit(deps, req, plan, state, backupId, started, listing, forgets));
  }
  // Every unit's warm snapshots and what retention let go, in one restic process for the run.
  await forgetAfterRun(deps, listing, forgets);
  if (scope === "full" && !req.signal.aborted) {
    reports.push(await backupDockerConfig(deps, backupId, started));
  }
  if (reports.some((r) => r.snapshots.length > 0)) await pruneIfForgotten(deps, reports);

  const finished = deps.clock.now();
  const ok = reports.every((r) => r.outcome !== "failed") && !req.signal.aborted;
  deps.sink.emit({ type: "run.done", operation: "backup", ok });
  return {
    operation: "backup",
    backupId,
    scope,
    host: deps.host,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    ok,
    interrupted: req.signal.aborted,
    units: reports,
  };
}

/** Unknown names are an error listing the closest matches; none selected means all. */
export function selectUnits(all: Unit[], names: string[] | undefined): Unit[] {
  if (!names || names.length === 0) return all;
  const byName = new Map(all.map((u) => [u.name, u]));
  return names.map((n) => {
    const u = byName.get(n);
    if (u) return u;
    const near = closestN(n, byName.keys(), 3);
    throw new StowageError(
      "unit.notfound",
      `Unknown unit '${shownName(n)}'${
        near.length ? `; did you mean ${near.map((x) => `'${x}'`).join(", ")}?` : ""
      }`,
      all.length
        ? `Units on this host: ${all.map((u) => u.name).join(", ")}`
        : "No containers were found on this host.",
    );
  });
}

async function backupUnit(
  deps: BackupDeps,
  req: BackupRequest,
  plan: UnitPlan,
  state: EngineState,
  backupId: string,
  runStart: Date,
  listing: RunListing,
  forgets: PendingForget[],
): Promise<UnitReport> {
  const { unit } = plan;
  const t0 = deps.clock.now();
  if (plan.skip) return skipped(plan, plan.skip, t0);
  const report = emptyReport(unit.name, unit.kind, plan.gaps, t0);
  report.volumes = volumeSummary(plan);

  // 0. A dump that cannot be taken as labelled or configured fails the unit before anything runs.
  const problems = dumpProblems(plan);
  if (problems) return finish(deps, { ...report, outcome: "failed", error: problems }, t0);

  // 1. Preconditions: hooks run while everything still runs. Nothing is touched on failure.
  const pre = deps.hooks
    ? await deps.hooks.pre(unit, { backupId, scope: plan.scope })
    : { status: "ok" as const };
  if (pre.status === "skip") {
    return finish(deps, { ...report, outcome: "skipped", skipReason: pre.reason }, t0);
  }
  if (pre.status === "failed") {
    report.outcome = "failed";
    report.error = `pre_backup hook failed: ${pre.error}`;
    await runPost(deps, plan, backupId, report);
    return finish(deps, report, t0);
  }

  // 2. While everything still runs: the documents and dumps beside the warm pass.
  const fields = { unit: unit.name, backupId, timestamp: isoSeconds(runStart), scope: plan.scope };
  const saver = snapshotSaver(deps, req, plan, fields, report);
  let parents: ParentCandidate[];
  let snaps: UnitSnapshots;
  const warmIds: string[] = [];
  try {
    ({ parents, snaps } = await saveWhileRunning(deps, req, plan, state, saver, listing, warmIds));
  } catch (e) {
    report.outcome = "failed";
    report.error = req.signal.aborted ? "interrupted" : errorMessage(e);
    const resolved = await resolveIds(deps, listing, plan, report.snapshots);
    failWith(report, resolved.problem);
    forgets.push({ report, warm: resolved.warm ?? warmIds, retention: [] });
    await runPost(deps, plan, backupId, report);
    return finish(deps, report, t0);
  }

  // 3.-4. Journal, stop, save the data (the cold pass), start — the start is unconditional.
  const data: DataContext = { deps, req, plan, saver, parents, snaps };
  let allSaved = await coldWindow(data, backupId);
  // Waiting for health checks takes as long as the services need to come up: what follows (the
  // marker, the listing, retention) does not depend on it and runs meanwhile.
  const healthy = waitHealthy(deps, plan, req.config.backup.start_timeout);
  // 4a. The folders snapshotted while stopped are read now, with everything running again.
  allSaved = await readSnapshotted(data, allSaved);

  // 4b.-5. With the containers started: marker, listing, retention (the forget ends the run).
  forgets.push(await afterRestart(deps, req, plan, saver, listing, warmIds, allSaved));
  report.warnings.push(...(await healthy));
  await runPost(deps, plan, backupId, report);
  return finish(deps, report, t0);
}

/** What the data passes of one unit read: the run, the plan, the parents and the fs snapshots. */
interface DataContext {
  deps: BackupDeps;
  req: BackupRequest;
  plan: UnitPlan;
  saver: Saver;
  parents: ParentCandidate[];
  snaps: UnitSnapshots;
}

/**
 * Steps 3 and 4, the downtime: the journal entry, the stops, the cold pass (the folders a filesystem
 * snapshot does not cover), and the starts, which run whatever happened before them. Records the
 * downtime and any failure in the report; returns whether the cold pass saved all it had to.
 */
async function coldWindow(data: DataContext, backupId: string): Promise<boolean> {
  const { deps, req, plan, saver, parents, snaps } = data;
  const { report } = saver;
  let firstStop: Date | undefined;
  let lastStart: Date | undefined;
  let allSaved = false;
  try {
    if (plan.stop.length > 0) {
      await deps.journal.record({
        unit: plan.unit.name,
        backupId,
        pid: deps.pid,
        since: deps.clock.now().toISOString(),
        containers: plan.start,
      });
    }
    for (const name of plan.stop) {
      if (req.signal.aborted) throw req.signal.reason;
      firstStop ??= deps.clock.now();
      await deps.engine.stopContainer(name, req.config.backup.stop_timeout);
      report.containersStopped.push(name);
      deps.sink.emit({ type: "container.stop", unit: plan.unit.name, container: name });
    }
    await snaps.take();
    await saveData(deps, req, plan, saver, parents, snaps.readCold);
    allSaved = true;
  } catch (e) {
    report.outcome = "failed";
    report.error = req.signal.aborted ? "interrupted" : errorMessage(e);
  } finally {
    lastStart = await startAgain(deps, plan, report);
  }
  if (firstStop && lastStart) report.downtimeMs = lastStart.getTime() - firstStop.getTime();
  else if (plan.dumps?.targets.length) report.downtimeMs = 0;
  return allSaved;
}

/**
 * Step 4a, with everything running again: the folders a filesystem snapshot took while the unit
 * was stopped are read from it, then the snapshots are released. Returns whether everything is
 * saved (`allSaved` from the cold pass, and this).
 */
async function readSnapshotted(data: DataContext, allSaved: boolean): Promise<boolean> {
  const { deps, req, plan, saver, parents, snaps } = data;
  const { report } = saver;
  try {
    if (allSaved && snaps.taken) {
      await saveData(deps, req, plan, saver, parents, (i) => !snaps.readCold(i), snaps.mountsOf);
    }
    return allSaved;
  } catch (e) {
    report.outcome = "failed";
    report.error = req.signal.aborted ? "interrupted" : errorMessage(e);
    return false;
  } finally {
    await snaps.release();
    if (snaps.plan.snapshots.length > 0) report.reads = snaps.report();
  }
}

/**
 * Step 2, while everything still runs: two things at once, each in its own restic processes (every
 * one pays a repository open, so running them side by side shortens the run, issue 11):
 *  - the documents: saved images, the recipe (the unit's description), and database dumps, taken
 *    hot; a failure here fails the unit before anything stops, and leaves no restore point;
 *  - the warm pre-pass (core/backup/passes.ts): the folders the stopped pass will read, saved once
 *    while the unit runs, so that pass only reads what changed since. A failure here is a warning
 *    (the stopped pass then compares with the last backup).
 * Which folders a filesystem snapshot covers (`require` throws) and the parents are decided first:
 * nothing is saved if that fails. When the documents fail, the warm pass is stopped; throws once
 * both sides ended. `warmIds` holds what the warm pass saved, for the caller to forget.
 */
async function saveWhileRunning(
  deps: BackupDeps,
  req: BackupRequest,
  plan: UnitPlan,
  state: EngineState,
  saver: Saver,
  listing: RunListing,
  warmIds: string[],
): Promise<{ parents: ParentCandidate[]; snaps: UnitSnapshots }> {
  const snaps = await unitSnapshots(deps, req, plan, saver.fields.backupId, saver.report);
  const parents = await chooseUnitParents(deps, plan, listing);
  // An append-only server could not forget the warm snapshots: each run would leave one more,
  // after restic retried the refused deletion for about 45 s. No warm pass there.
  const warm = req.config.backup.warm_pass && !req.config.repository.append_only &&
    plan.stop.length > 0;
  // A failed document fails the unit: the warm pass then stops instead of reading on for nothing
  // (on a large first backup that was the whole read).
  const stopWarm = new AbortController();
  const saving = (async () => {
    await saveDocuments(deps, req, plan, state, saver, listing);
    await saveDumps(deps, req, plan, saver);
  })();
  saving.catch((e) => stopWarm.abort(e));
  const warmReq = { ...req, signal: AbortSignal.any([req.signal, stopWarm.signal]) };
  const [documents, warmed] = await Promise.allSettled([
    saving,
    warm
      ? warmPass(deps, warmReq, plan, saver, parents, warmIds, (i) => !snaps.planned(i))
      : Promise.resolve(),
  ]);
  if (documents.status === "rejected") throw documents.reason;
  if (warmed.status === "rejected") throw warmed.reason;
  return { parents, snaps };
}

/**
 * Steps 4b and 5, with the unit's containers started again. The completion marker (the point's
 * last snapshot: only a point that has one is a restore point for --latest), beside one listing
 * that gives the full ids of what the unit saved, its warm snapshots to forget, and retention's
 * view of the unit's points (the new one included). Returns what the run's one `forget` takes for
 * the unit: the warm snapshots, and what retention (only after a complete backup) lets go.
 */
async function afterRestart(
  deps: BackupDeps,
  req: BackupRequest,
  plan: UnitPlan,
  saver: Saver,
  listing: RunListing,
  warmIds: string[],
  allSaved: boolean,
): Promise<PendingForget> {
  const { report } = saver;
  // The marker and the listing run side by side, each one restic process (a repository open):
  // the listing cannot see the marker, so the marker is added to it as written (its id stays
  // restic 0.14's short one, which every restic command accepts).
  const saved = [...report.snapshots];
  const [marker, resolved] = await Promise.all([
    allSaved ? writeMarker(deps, req, plan, saver, report) : undefined,
    resolveIds(deps, listing, plan, saved),
  ]);
  if (resolved.problem) {
    // Every snapshot was saved and the point is what its tags say; only the report's ids are short.
    report.warnings.push(`the saved snapshots' full ids were not looked up: ${resolved.problem}`);
  }
  if (marker && resolved.listed) listing.add(marker);
  let retention: string[] = [];
  if (report.outcome === "ok" && resolved.listed) {
    report.forgotten = 0;
    try {
      const appendOnly = req.config.repository.append_only;
      // The fresh listing with the marker added (listing.add above).
      retention = unitRetention(deps, plan, report, await listing.current(), appendOnly);
    } catch (e) {
      report.warnings.push(`retention failed: ${errorMessage(e)}`);
    }
  }
  return { report, warm: resolved.warm ?? warmIds, retention };
}

export type Saver = ReturnType<typeof snapshotSaver>;

/** Records finished snapshots in the report and builds each snapshot's restic options. */
function snapshotSaver(
  deps: BackupDeps,
  req: BackupRequest,
  plan: UnitPlan,
  fields: Omit<TagFields, "type">,
  report: UnitReport,
) {
  const record = (item: PlanItem, s: BackupSummary, data?: { parent?: string }) => {
    const rec: SnapshotRecord = {
      type: item.type,
      item: item.item,
      snapshotId: s.snapshotId,
      bytesProcessed: s.totalBytesProcessed,
      dataAdded: s.dataAdded,
    };
    if (data) {
      if (data.parent) rec.parent = data.parent.slice(0, 8);
      rec.files = { new: s.filesNew, changed: s.filesChanged, unmodified: s.filesUnmodified };
    }
    report.snapshots.push(rec);
    report.bytesRead += s.totalBytesProcessed;
    report.bytesAdded += s.dataAdded;
    deps.sink.emit({
      type: "snapshot.done",
      unit: plan.unit.name,
      kind: item.type,
      item: item.item,
      snapshotId: s.snapshotId,
      dataAdded: s.dataAdded,
    });
  };
  /**
   * One data pass: a record per volume and bind folder it holds (the marker counts those), all
   * with the pass's snapshot, parent, bytes and file counts (`shared`: restic reports them for
   * the whole snapshot, not per folder).
   */
  const recordPass = (pass: DataPass, s: BackupSummary, parent?: string) => {
    for (const item of pass.items) {
      report.snapshots.push({
        type: item.type,
        item: item.item,
        snapshotId: s.snapshotId,
        bytesProcessed: s.totalBytesProcessed,
        dataAdded: s.dataAdded,
        ...(parent ? { parent: parent.slice(0, 8) } : {}),
        files: { new: s.filesNew, changed: s.filesChanged, unmodified: s.filesUnmodified },
        ...(pass.items.length > 1 ? { shared: true as const } : {}),
      });
    }
    report.bytesRead += s.totalBytesProcessed;
    report.bytesAdded += s.dataAdded;
    deps.sink.emit({
      type: "snapshot.done",
      unit: plan.unit.name,
      kind: "data",
      item: passLabel(pass),
      snapshotId: s.snapshotId,
      dataAdded: s.dataAdded,
    });
  };
  const opts = (item: PlanItem, extra: Partial<TagFields> = {}) => ({
    tags: buildTags({ ...fields, type: item.type, ...extra }),
    host: deps.host,
    time: deps.clock.now(),
    excludes: item.excludes,
    signal: req.signal,
    onProgress: (
      progress: Parameters<NonNullable<import("../ports.ts").BackupOptions["onProgress"]>>[0],
    ) =>
      deps.sink.emit({
        type: "snapshot.progress",
        unit: plan.unit.name,
        kind: item.type,
        item: item.item,
        progress,
      }),
  });
  return { record, recordPass, opts, fields, report };
}

async function saveDocuments(
  deps: BackupDeps,
  req: BackupRequest,
  plan: UnitPlan,
  state: EngineState,
  { record, opts, fields, report }: Saver,
  listing: RunListing,
) {
  // Images first: the recipe names the snapshots that hold them.
  const images = await saveImages(
    deps,
    plan.items,
    state.images,
    async (item, file, source) => {
      deps.sink.emit({
        type: "snapshot.start",
        unit: plan.unit.name,
        kind: "image",
        item: item.item,
      });
      const s = await deps.repo.backupStream(
        file,
        source,
        // The recipe may name it by restic 0.14's short id: no lookup, `restic dump` takes it.
        { ...opts(item, { unit: IMAGES_UNIT, image: item.image!.id }), shortId: true },
      );
      record(item, s);
      return s;
    },
    req.signal,
    async (id) => imageSnapshot(await listing.current(), id),
  );
  for (const item of plan.items.filter((i) => i.type === "recipe")) {
    deps.sink.emit({
      type: "snapshot.start",
      unit: plan.unit.name,
      kind: item.type,
      item: item.item,
    });
    const doc = await buildRecipe(deps, req.config, plan, state, fields.backupId, images, report);
    record(
      item,
      await deps.repo.backupStream(
        item.item,
        bytesSource(JSON.stringify(doc, null, 2) + "\n"),
        { ...opts(item), shortId: true },
      ),
    );
  }
}

const dataItemsOf = (plan: UnitPlan) =>
  plan.items.filter((i) => i.type === "volume" || i.type === "bind");

/**
 * The snapshots the unit's data passes may compare with: those of its newest usable restore point
 * made by this host (from the run's listing). The warm pass puts its own snapshots first.
 */
async function chooseUnitParents(
  deps: BackupDeps,
  plan: UnitPlan,
  listing: RunListing,
): Promise<ParentCandidate[]> {
  if (dataItemsOf(plan).length === 0) return [];
  const snaps = hostSnapshots(await listing.current(), deps.host).map(parseSnapshot);
  return parentCandidates(snaps, plan.unit.name, deps.host);
}

/** The unit's folders among `items` that are read from disk, grouped into restic passes. */
async function dirPasses(deps: BackupDeps, items: PlanItem[]): Promise<DataPass[]> {
  const dir = [];
  for (const item of items) {
    const mode = await volumeReadMode(deps, item).catch(() => "archive" as const);
    if (mode === "dir") dir.push(item);
  }
  return groupPasses(dir);
}

const passLabel = (pass: DataPass) => pass.items.map((i) => i.item).join(", ");

/**
 * The warm pre-pass: the folders the cold pass will read are saved once while the containers still
 * run, by one restic process per pass (usually one for the unit), as a `stowage-warm` snapshot that
 * is never a restore point (core/tags.ts buildWarmTags). It becomes the cold pass's parent, so the
 * stopped pass reads only files changed since. A pass that fails here is only a warning: the cold
 * pass then compares with the older parent.
 */
async function warmPass(
  deps: BackupDeps,
  req: BackupRequest,
  plan: UnitPlan,
  { fields, report }: Saver,
  parents: ParentCandidate[],
  warmIds: string[],
  only: (item: PlanItem) => boolean = () => true,
) {
  const passes = await dirPasses(deps, dataItemsOf(plan).filter(only));
  await pool(passes, req.config.backup.parallel_volumes, async (pass) => {
    if (req.signal.aborted) throw req.signal.reason;
    deps.sink.emit({
      type: "log",
      level: "debug",
      unit: plan.unit.name,
      message: `warm pass: ${passLabel(pass)}`,
    });
    try {
      const s = await deps.repo.backupPaths(pass.paths, {
        tags: buildWarmTags(plan.unit.name, fields.backupId),
        host: deps.host,
        time: deps.clock.now(),
        excludes: pass.excludes,
        signal: req.signal,
        parent: bestParent(pass.paths, parents),
        shortId: true,
        // Files that change or vanish while the unit runs are expected here.
        allowPartial: true,
      });
      parents.unshift({ id: s.snapshotId, paths: pass.paths });
      warmIds.push(s.snapshotId);
    } catch (e) {
      if (req.signal.aborted) throw e;
      report.warnings.push(
        `warm pass of ${passLabel(pass)} failed (the stopped pass compares with the last backup): ${
          errorMessage(e)
        }`,
      );
    }
  });
}

/** What one unit leaves for the run's `forget`: its warm snapshots and retention's choice. */
export interface PendingForget {
  report: UnitReport;
  warm: string[];
  retention: string[];
}

/**
 * Forgets every unit's warm-pass snapshots and the snapshots retention let go, in one restic
 * process at the end of the run (an exclusive lock: nothing else may run beside it, so it is not
 * paid once per unit). Runs with every container started; a failure is a warning of each unit
 * concerned. Retention was decided per unit right after its restart, so what a unit's point
 * pushed out goes in the same run.
 */
async function forgetAfterRun(deps: BackupDeps, listing: RunListing, pending: PendingForget[]) {
  const ids = [...new Set(pending.flatMap((p) => [...p.warm, ...p.retention]))];
  if (ids.length === 0) return;
  const forgot = () => {
    listing.forgot(ids);
    for (const p of pending) if (p.retention.length > 0) p.report.forgotten = p.retention.length;
  };
  try {
    // A killed backup's restic left a lock that blocks this exclusive command until removed.
    await removingStaleLocks(deps.repo, deps.sink, () => deps.repo.forget(ids));
    forgot();
  } catch (e) {
    if (isStowageError(e, "snapshot.notfound")) {
      // The others were forgotten; the missing ones were gone already (forgotten meanwhile).
      forgot();
      for (const p of pending) {
        const own = [...p.warm, ...p.retention];
        if (own.some((id) => e.message.includes(id))) p.report.warnings.push(errorMessage(e));
      }
      return;
    }
    for (const { report, warm, retention } of pending) {
      if (warm.length > 0) {
        report.warnings.push(`could not forget the warm-pass snapshots: ${errorMessage(e)}`);
      }
      if (retention.length > 0) {
        report.warnings.push(
          isStowageError(e, "repo.appendonly")
            ? `retention cannot forget in this repository: it is append-only (${errorMessage(e)})`
            : `retention failed: ${errorMessage(e)}`,
        );
      }
    }
  }
}

/**
 * The unit's snapshots were saved with restic 0.14's short ids (no lookup per snapshot); one
 * listing of the repository, after the restart, resolves them all, finds the unit's warm
 * snapshots to forget (this run's and any a killed run left), and is what retention and the next
 * unit read. `problem` says why ids stayed short (the listing failed, or an id is ambiguous);
 * `warm` and `listed` are absent when the listing failed.
 */
async function resolveIds(
  deps: BackupDeps,
  listing: RunListing,
  plan: UnitPlan,
  records: SnapshotRecord[],
): Promise<{ problem?: string; warm?: string[]; listed?: ResticSnapshot[] }> {
  let listed;
  try {
    listed = await listing.refresh();
  } catch (e) {
    return { problem: errorMessage(e) };
  }
  const warm = warmSnapshots(listed, plan.unit.name, deps.host);
  const short = records.filter((s) => !/^[0-9a-f]{64}$/.test(s.snapshotId));
  try {
    const full = resolveShortIds(short.map((s) => s.snapshotId), hostSnapshots(listed, deps.host));
    for (const s of short) s.snapshotId = full.get(s.snapshotId)!;
    return { warm, listed };
  } catch (e) {
    return { problem: errorMessage(e), warm, listed };
  }
}

/** Adds a problem to the unit's error (the unit failed already). */
function failWith(report: UnitReport, problem: string | undefined) {
  if (problem) report.error = [report.error, problem].filter(Boolean).join("; ");
}

/**
 * Saves the unit's folders selected by `only`: those read from disk by one restic process per pass
 * (usually one for the unit) into a `type=data` snapshot, volumes read through the Engine as one
 * tar stream each.
 */
async function saveData(
  deps: BackupDeps,
  req: BackupRequest,
  plan: UnitPlan,
  saver: Saver,
  parents: ParentCandidate[],
  only: (item: PlanItem) => boolean = () => true,
  mountsOf: (item: PlanItem) => { source: string; target: string }[] = () => [],
) {
  const { record, recordPass, opts } = saver;
  const dir: PlanItem[] = [];
  const archive: PlanItem[] = [];
  for (const item of dataItemsOf(plan).filter(only)) {
    if (req.signal.aborted) throw req.signal.reason;
    if (item.type === "volume" && (await volumeReadMode(deps, item)) === "archive") {
      // A snapshot is read from the host folder only; the Engine would read the running volume.
      if (mountsOf(item).length > 0) {
        throw new StowageError(
          "engine.error",
          `Cannot read volume '${item.item}' from its snapshot: its folder is not readable`,
        );
      }
      archive.push(item);
    } else dir.push(item);
  }
  const jobs = [
    ...groupPasses(dir).map((pass) => ({ pass })),
    ...archive.map((item) => ({ item })),
  ];
  await pool(jobs, req.config.backup.parallel_volumes, async (job) => {
    if (req.signal.aborted) throw req.signal.reason;
    if ("pass" in job) {
      const { pass } = job;
      const item: PlanItem = {
        type: "data",
        item: passLabel(pass),
        paths: pass.paths,
        excludes: pass.excludes,
        retention: {},
      };
      deps.sink.emit({
        type: "snapshot.start",
        unit: plan.unit.name,
        kind: "data",
        item: item.item,
      });
      const parent = bestParent(pass.paths, parents);
      recordPass(
        pass,
        await deps.repo.backupPaths(pass.paths, {
          ...opts(item, { data: pass.data }),
          parent,
          shortId: true,
          mounts: pass.items.flatMap(mountsOf),
        }),
        parent,
      );
      return;
    }
    const { item } = job;
    deps.sink.emit({
      type: "snapshot.start",
      unit: plan.unit.name,
      kind: item.type,
      item: item.item,
    });
    const stream = await deps.engine.getArchive(
      item.archive!.container,
      item.archive!.destination,
      req.signal,
    );
    record(
      item,
      await deps.repo.backupStream(
        `${item.item}.tar`,
        trackedSource(stream),
        { ...opts(item, { volume: item.item, source: "archive" }), shortId: true },
      ),
      {},
    );
  });
}

/** The unit's filesystem snapshots decided (core/fs_snapshot/); `require` throws here. */
function unitSnapshots(
  deps: BackupDeps,
  req: BackupRequest,
  plan: UnitPlan,
  backupId: string,
  report: UnitReport,
): Promise<UnitSnapshots> {
  // Nothing stops, so nothing needs a snapshot to shorten the stop.
  const items = plan.stop.length > 0 ? dataItemsOf(plan) : [];
  return prepareUnitSnapshots(deps.fsSnapshots, items, {
    mode: req.config.backup.fs_snapshots,
    unit: plan.unit.name,
    backupId,
    pid: deps.pid,
    now: () => deps.clock.now(),
    warn: (m) => report.warnings.push(m),
    sink: deps.sink,
  });
}

/** Each planned volume with its kind and how it is read, for the summary. */
function volumeSummary(plan: UnitPlan): UnitReport["volumes"] {
  return plan.items.filter((i) => i.type === "volume").map((i) => ({
    name: i.item,
    kind: i.volumeKind ?? "local",
    how: i.how ?? `read from ${i.paths.join(", ")}`,
  }));
}

/**
 * How a volume is read now. A volume the plan reads through the Engine (mounted only while used,
 * other drivers) always is; a `_data` folder this process cannot read falls back to the Engine
 * (rootless or remote engine). A bind-type volume whose device folder cannot be read fails: its
 * `_data` is empty while the unit is stopped, and saving that would report ok over no data.
 */
async function volumeReadMode(
  deps: BackupDeps,
  item: PlanItem,
): Promise<"dir" | "archive"> {
  if (item.read === "archive") {
    if (!item.archive) {
      throw new StowageError(
        "engine.error",
        `Cannot read volume '${item.item}': its data is mounted only while used and no container mounts it`,
        "Mount it in one of the unit's containers, or skip it with units.NAME.volumes.VOLUME.skip.",
      );
    }
    return "archive";
  }
  if (await deps.files.canReadDir(item.paths[0])) return "dir";
  if (item.volumeKind === "bind") {
    throw new StowageError(
      "engine.error",
      `Cannot read volume '${item.item}': its data folder ${
        item.paths[0]
      } (the device of this bind-type volume) does not exist or cannot be read`,
      "The volume's data lives in that folder, not in the volume; restore it or fix the volume's device option. Nothing was saved for it.",
    );
  }
  if (!item.archive) {
    throw new StowageError(
      "engine.error",
      `Cannot read volume '${item.item}': its folder is not readable and no container mounts it`,
      "Run stowage as root on the Docker host.",
    );
  }
  return "archive";
}

/**
 * Writes the `type=complete` snapshot that makes the point complete (docs/format.md): it lists
 * every item the run saved (by the id restic reported when saving it: the short id in restic 0.14,
 * so no listing is needed first), and its tags carry their count and bytes so a listing needs no
 * more than `restic snapshots`. Completeness is judged by the tags alone. Written after the
 * containers started again: it costs no downtime.
 */
async function writeMarker(
  deps: BackupDeps,
  req: BackupRequest,
  plan: UnitPlan,
  { fields }: Saver,
  report: UnitReport,
): Promise<ResticSnapshot | undefined> {
  // Images are the `_images` unit's, shared and found by id: the recipe names them, not the point.
  const items = report.snapshots.filter((s) => s.type !== "complete" && s.type !== "image");
  // A pass's snapshot is counted once, however many folders it holds.
  const size = [...new Map(items.map((s) => [s.snapshotId, s.bytesProcessed])).values()]
    .reduce((n, b) => n + b, 0);
  const doc = {
    format: FORMAT_VERSION,
    backupId: fields.backupId,
    unit: plan.unit.name,
    items: items.map((s) => ({ type: s.type, item: s.item, snapshotId: s.snapshotId })),
  };
  const tags = buildTags({ ...fields, type: "complete", items: items.length, size });
  const time = deps.clock.now();
  try {
    if (req.signal.aborted) throw req.signal.reason;
    const s = await deps.repo.backupStream(
      MARKER_FILE,
      bytesSource(JSON.stringify(doc, null, 2) + "\n"),
      // Written while the listing runs (afterRestart): its id stays short.
      { tags, host: deps.host, time, signal: req.signal, shortId: true },
    );
    report.snapshots.push({
      type: "complete",
      item: MARKER_FILE,
      snapshotId: s.snapshotId,
      bytesProcessed: 0,
      dataAdded: s.dataAdded,
    });
    // The marker as the repository's listing would show it.
    return {
      id: s.snapshotId,
      short_id: s.snapshotId.slice(0, 8),
      time: time.toISOString(),
      hostname: deps.host,
      paths: [`/${MARKER_FILE}`],
      tags,
    };
  } catch (e) {
    report.outcome = "failed";
    report.error = [
      report.error,
      `${
        req.signal.aborted ? "interrupted" : errorMessage(e)
      } (the completion marker was not written: this restore point is incomplete)`,
    ].filter(Boolean).join("; ");
  }
}

async function buildRecipe(
  deps: BackupDeps,
  config: Config,
  plan: UnitPlan,
  state: EngineState,
  backupId: string,
  images: RecipeImage[] = [],
  report?: UnitReport,
): Promise<Recipe> {
  const files: RecipeFile[] = [];
  for (const f of plan.unit.files) {
    const content = state.files[f.path];
    if (!f.exists || content == null) continue;
    files.push({
      path: f.path,
      kind: f.kind,
      mode: (await deps.files.mode(f.path)) ?? 0o644,
      content,
    });
  }
  // Files the compose files reference; what cannot be read is a gap in the summary and recipe.
  const refs = await collectReferences(plan.unit, deps.files);
  files.push(...refs.files);
  const unit = refs.gaps.length
    ? { ...plan.unit, gaps: [...plan.unit.gaps, ...refs.gaps] }
    : plan.unit;
  if (report) report.gaps = [...report.gaps, ...refs.gaps];
  const ids = new Set(plan.unit.containers.map((c) => c.id));
  return {
    format: FORMAT_VERSION,
    stowageVersion: VERSION,
    backupId,
    scope: plan.scope,
    createdAt: deps.clock.now().toISOString(),
    host: deps.host,
    unit: redactUnit(unit, config.backup.redact),
    files,
    containers: state.containers.filter((c) => ids.has(c.Id)).map((c) =>
      redactContainer(c, config.backup.redact)
    ),
    ...(images.length ? { images } : {}),
  };
}

/** Starts every container that was running, in order. Never throws. */
async function startAgain(
  deps: BackupDeps,
  plan: UnitPlan,
  report: UnitReport,
): Promise<Date | undefined> {
  if (plan.start.length === 0) return undefined;
  const failures: string[] = [];
  for (const name of plan.start) {
    try {
      await deps.engine.startContainer(name);
      report.containersStarted.push(name);
      deps.sink.emit({ type: "container.start", unit: plan.unit.name, container: name });
    } catch (e) {
      failures.push(`${name}: ${errorMessage(e)}`);
    }
  }
  const lastStart = deps.clock.now();
  if (failures.length === 0) {
    await deps.journal.clear(plan.unit.name).catch((e) =>
      report.warnings.push(`could not clear the restart journal: ${errorMessage(e)}`)
    );
  } else {
    report.outcome = "failed";
    report.error = [
      report.error,
      `could not start ${failures.join("; ")} (the restart journal keeps them for the next run)`,
    ].filter(Boolean).join("; ");
  }
  return lastStart;
}

async function waitHealthy(
  deps: BackupDeps,
  plan: UnitPlan,
  timeoutSeconds: number,
): Promise<string[]> {
  const watched = plan.unit.containers.filter((c) =>
    c.hasHealthcheck && plan.start.includes(c.name)
  );
  const deadline = deps.clock.now().getTime() + timeoutSeconds * 1000;
  const warnings: string[] = [];
  for (const c of watched) {
    while (true) {
      const info = await deps.engine.inspectContainer(c.name).catch(() => undefined);
      const status = info?.State.Health?.Status;
      if (!info?.State.Running) {
        warnings.push(`container ${c.name} is not running after the start`);
        break;
      }
      if (status === "healthy" || status === undefined) break;
      if (deps.clock.now().getTime() >= deadline) {
        warnings.push(
          `container ${c.name} was not healthy within ${timeoutSeconds} s (status: ${status})`,
        );
        break;
      }
      await deps.clock.sleep(1000);
    }
  }
  return warnings;
}

/**
 * Retention over whole restore points of this unit made by this host (never another host's):
 * the planned items' policies decide which complete points stay, incomplete points go once a
 * newer complete one exists, and a forgotten point's snapshots are forgotten together. Returns
 * the snapshot ids to forget (forgetAfterRun forgets them).
 */
function unitRetention(
  deps: BackupDeps,
  plan: UnitPlan,
  report: UnitReport,
  listed: ResticSnapshot[],
  appendOnly: boolean,
): string[] {
  const snaps = hostSnapshots(listed, deps.host).map(parseSnapshot)
    .filter((s) => s.unit === plan.unit.name);
  const decision = planRetention(
    restorePoints(snaps, plan.unit.name),
    plan.items.map((i) => i.retention),
  );
  report.notes = [...(report.notes ?? []), ...decision.notes];
  const forget = decision.forget.flatMap((p) => p.snapshots.map((s) => s.id));
  if (forget.length > 0 && appendOnly) {
    // The server refuses deletion: say what retention would forget, forget nothing.
    report.warnings.push(
      `retention cannot forget in an append-only repository (repository.append_only): ${decision.forget.length} restore point(s) would be forgotten; forget and prune them from a machine with full access`,
    );
    return [];
  }
  return forget;
}

async function pruneIfForgotten(deps: BackupDeps, reports: UnitReport[]) {
  if (!reports.some((r) => (r.forgotten ?? 0) > 0)) return;
  try {
    await removingStaleLocks(deps.repo, deps.sink, () => deps.repo.prune());
  } catch (e) {
    deps.sink.emit({
      type: "log",
      level: "warning",
      message: `prune failed (snapshots were forgotten, space not yet freed): ${errorMessage(e)}`,
    });
  }
}

async function backupDockerConfig(
  deps: BackupDeps,
  backupId: string,
  runStart: Date,
): Promise<UnitReport> {
  const t0 = deps.clock.now();
  const report = emptyReport(HOST_UNIT, "standalone", [], t0);
  const paths = await deps.files.existing(DOCKER_CONFIG_PATHS);
  if (paths.length === 0) {
    return finish(deps, {
      ...report,
      outcome: "skipped",
      skipReason: "no Docker daemon configuration found",
    }, t0);
  }
  try {
    const tags = buildTags({
      unit: HOST_UNIT,
      type: "docker-config",
      backupId,
      timestamp: isoSeconds(runStart),
      scope: "full",
    });
    const s = await deps.repo.backupPaths(paths, { tags, host: deps.host, time: deps.clock.now() });
    report.snapshots.push({
      type: "docker-config",
      item: paths.join(" "),
      snapshotId: s.snapshotId,
      bytesProcessed: s.totalBytesProcessed,
      dataAdded: s.dataAdded,
    });
    report.bytesRead = s.totalBytesProcessed;
    report.bytesAdded = s.dataAdded;
  } catch (e) {
    report.outcome = "failed";
    report.error = errorMessage(e);
  }
  return finish(deps, report, t0);
}

async function runPost(deps: BackupDeps, plan: UnitPlan, backupId: string, report: UnitReport) {
  if (!deps.hooks) return;
  const post = await deps.hooks.post(plan.unit, {
    backupId,
    scope: plan.scope,
    outcome: {
      status: report.outcome === "ok" ? "ok" : "failed",
      snapshots: [...new Set(report.snapshots.map((s) => s.snapshotId))],
      downtimeMs: report.downtimeMs,
      error: report.error,
    },
  });
  if (post.status === "failed") report.warnings.push(`post_backup hook failed: ${post.error}`);
}

function emptyReport(
  unit: string,
  kind: UnitReport["kind"],
  gaps: UnitReport["gaps"],
  t0: Date,
): UnitReport {
  return {
    unit,
    kind,
    outcome: "ok",
    startedAt: t0.toISOString(),
    finishedAt: "",
    durationMs: 0,
    containersStopped: [],
    containersStarted: [],
    snapshots: [],
    bytesRead: 0,
    bytesAdded: 0,
    gaps,
    warnings: [],
  };
}

function skipped(plan: UnitPlan, reason: string, now: Date): UnitReport {
  const r = emptyReport(plan.unit.name, plan.unit.kind, plan.gaps, now);
  return { ...r, outcome: "skipped", skipReason: reason, finishedAt: now.toISOString() };
}

function finish(deps: BackupDeps, report: UnitReport, t0: Date): UnitReport {
  const t1 = deps.clock.now();
  report.finishedAt = t1.toISOString();
  report.durationMs = t1.getTime() - t0.getTime();
  if (report.outcome === "skipped") {
    deps.sink.emit({ type: "unit.skip", unit: report.unit, reason: report.skipReason ?? "" });
  } else {deps.sink.emit({
      type: "unit.done",
      unit: report.unit,
      ok: report.outcome === "ok",
      error: report.error,
      downtimeMs: report.downtimeMs,
    });}
  return report;
}

/** Runs `fn` over items with at most `limit` at once; the first error is rethrown after all settle. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        errors.push(e);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length) throw errors.find((e) => isStowageError(e, "interrupted")) ?? errors[0];
}
