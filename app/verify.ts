/**
 * Restore drills as a use case: for each unit, the chosen restore point is restored into a
 * sandbox beside the live unit (core/verify/sandbox.ts renames everything, the restore planner
 * and executor of core/restore/ do the work), its restored folders are counted against what
 * restic recorded, it is started and judged from the Engine's events (core/verify/judge.ts), and
 * it is removed again: at the end, on failure, on SIGINT/SIGTERM (the signal aborts the steps and
 * the `finally` removes), and after a SIGKILL by the next command that takes the host lock (the
 * sandbox journal lists every object before it exists; app/host_lock.ts). `keep` leaves it.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import { errorMessage, isStowageError, StowageError } from "../core/errors.ts";
import type { BackupRepository, DockerEngine, EngineInventory, EventSink } from "../core/ports.ts";
import { isInternalUnit } from "../core/backup/plan.ts";
import {
  missingFromRecipe,
  type PointSelector,
  requireComplete,
  type RestorePoint,
  selectPoint,
  unitsIn,
} from "../core/restore/points.ts";
import { composeDetector, gatherHost, loadDocuments, pointsOf } from "../core/restore/load.ts";
import {
  planRestore,
  type RestoreInput,
  type RestoreOptions,
  type RestorePlan,
} from "../core/restore/plan.ts";
import { executeRestore } from "../core/restore/run.ts";
import { briefContainer } from "../core/restore/container.ts";
import { refuseTamperedPoint } from "../core/restore/trust.ts";
import { treeOverhead } from "../core/verify/counts.ts";
import { checkSandboxPlan, planSandbox, type Sandbox } from "../core/verify/sandbox.ts";
import { removeSandbox, verifyRoot } from "../core/verify/cleanup.ts";
import { judgeSandbox, type ServiceVerdict } from "../core/verify/judge.ts";
import { diskShortfall, parseDfAvailable } from "../core/verify/disk.ts";
import { RUN_ID, SANDBOX_LABEL, SANDBOX_UNIT_LABEL, sandboxName } from "../core/verify/names.ts";
import { lockAndRecover, sandboxJournalFile } from "./host_lock.ts";
import { openRestore } from "./restore.ts";
import type { Services } from "./services.ts";
import type { Unit } from "../core/model.ts";
import { runPhaseHooks } from "../core/hooks/mod.ts";
import { bareUnit } from "../core/restore/hooks.ts";
import type { VerifyResult } from "../core/service/verify_results.ts";

export type VerifyServices = Pick<
  Services,
  | "clock"
  | "hostname"
  | "pid"
  | "runner"
  | "engine"
  | "repository"
  | "locks"
  | "journal"
  | "restoreFiles"
  | "hostFiles"
  | "sandboxJournal"
  | "results"
  | "hookHost"
  | "copyRepository"
>;

export interface VerifyRequest {
  /** Empty: every unit the repository holds backups of. */
  units: string[];
  selector: PointSelector;
  keep: boolean;
  /** Values for redacted variables (--env-file). */
  secrets: Record<string, string>;
  /** Run services and containers with settings that reach into the host (privileged, devices...). */
  allowPrivileged?: boolean;
}

export interface VolumeCheck {
  kind: "volume" | "bind";
  /** The live name (volume) or host path (bind). */
  name: string;
  snapshotId: string;
  expected?: { entries: number; bytes: number };
  found?: { entries: number; bytes: number };
  ok: boolean;
  detail?: string;
}

export interface VerifyReport {
  operation: "verify";
  unit: string;
  backupId?: string;
  runId: string;
  sandbox?: string;
  /** healthy: restored, counted and healthy; failed: it did not come up; unverifiable: refused. */
  status: "healthy" | "failed" | "unverifiable";
  ok: boolean;
  startedAt: string;
  finishedAt: string;
  /** First sandbox object created -> every container ready (the restore and the start). */
  recoverySeconds?: number;
  restoreSeconds?: number;
  startSeconds?: number;
  services: ServiceVerdict[];
  volumes: VolumeCheck[];
  notes: string[];
  error?: { code: string; message: string; hint?: string; details?: string[] };
  /** Left for a person (--keep): what is there and how to remove it. */
  kept?: { objects: string[]; remove: string };
  removed: string[];
  cleanupProblems: string[];
}

/** The units and the restore point of each, chosen before the host lock is taken. */
export async function prepareVerify(
  svc: Pick<VerifyServices, "repository" | "hostname" | "copyRepository">,
  loaded: LoadedConfig,
  req: VerifyRequest,
): Promise<{ repo: BackupRepository; points: RestorePoint[] }> {
  const { repo, snapshots } = await openRestore(svc, loaded);
  const units = req.units.length ? req.units : unitsIn(snapshots).filter((u) => !isInternalUnit(u));
  if (units.length === 0) {
    throw new StowageError(
      "snapshot.notfound",
      "Cannot verify: the repository holds no backups",
      "Run `stowage backup` first.",
    );
  }
  const points = units.map((unit) => {
    try {
      if ("backupId" in req.selector) refuseTamperedPoint(snapshots, unit, req.selector.backupId);
      const point = selectPoint(pointsOf(snapshots, unit), unit, req.selector, svc.hostname);
      refuseTamperedPoint(snapshots, unit, point.backupId);
      return point;
    } catch (e) {
      // The restore lookups speak of restoring; this is a drill.
      if (isStowageError(e) && e.message.startsWith("Cannot restore")) {
        throw new StowageError(
          e.code,
          e.message.replace(/^Cannot restore/, "Cannot verify"),
          e.hint,
          {
            details: e.details,
          },
        );
      }
      throw e;
    }
  });
  return { repo, points };
}

/** Runs the drill of each point under the host lock; one report per unit. */
export async function runVerify(
  svc: VerifyServices,
  loaded: LoadedConfig,
  repo: BackupRepository,
  points: RestorePoint[],
  req: VerifyRequest,
  opts: { sink: EventSink; signal: AbortSignal; runId: () => string },
): Promise<{ repositoryCheck: RepositoryCheck; reports: VerifyReport[] }> {
  const engine = svc.engine(loaded);
  using _host = await lockAndRecover(svc, loaded, engine, opts.sink, {
    command: "verify",
    signal: opts.signal,
  });
  // The repository's integrity first: a drill of a damaged repository proves little.
  const pct = loaded.config.verify.check_read_data_percent;
  const checkStart = svc.clock.now();
  opts.sink.emit({
    type: "log",
    level: "info",
    message: `checking the repository${pct > 0 ? ` and ${pct}% of its data` : ""}`,
    operation: "verify",
  });
  await repo.check({ readDataPercent: pct });
  const repositoryCheck: RepositoryCheck = {
    ok: true,
    readDataPercent: pct,
    seconds: (svc.clock.now().getTime() - checkStart.getTime()) / 1000,
  };
  const reports: VerifyReport[] = [];
  // Asked by the first stack's drill, answered once for all of them.
  const composeCommand = composeDetector(svc.runner, loaded.config.docker.compose_command);
  for (const point of points) {
    if (opts.signal.aborted) break;
    const report = await verifyPoint(svc, loaded, engine, repo, point, req, {
      ...opts,
      composeCommand,
    });
    reports.push(report);
    await svc.results.recordVerify(loaded.paths.resultsFile, verifyResult(report)).catch((e) =>
      opts.sink.emit({
        type: "log",
        level: "warning",
        message: `could not record the drill's result: ${errorMessage(e)}`,
        unit: report.unit,
        operation: "verify",
      })
    );
  }
  return { repositoryCheck, reports };
}

/** `restic check` (with `--read-data-subset`) before the drills; a failure throws `repo.error`. */
export interface RepositoryCheck {
  ok: boolean;
  readDataPercent: number;
  seconds: number;
}

/** Removes every sandbox the journal lists, kept ones too (`stowage verify --cleanup`). */
export async function cleanupSandboxes(
  svc: VerifyServices,
  loaded: LoadedConfig,
  opts: { sink: EventSink; signal: AbortSignal },
) {
  const engine = svc.engine(loaded);
  using _host = await lockAndRecover(svc, loaded, engine, opts.sink, {
    command: "verify",
    signal: opts.signal,
  });
  const journal = svc.sandboxJournal(sandboxJournalFile(loaded));
  const out = [];
  const records = await journal.read();
  // Objects of drills the journal no longer lists (a compose that outlived a killed drill).
  for (const orphan of await unrecordedSandboxes(engine, records.map((r) => r.runId))) {
    records.push({
      ...orphan,
      name: sandboxName(orphan.unit, orphan.runId),
      kind: "stack",
      containers: [],
      volumes: [],
      networks: [],
      scratchDir: `${verifyRoot(loaded.paths.stateDir)}/${orphan.runId}`,
      pid: 0,
      since: "",
    });
  }
  for (const r of records) {
    const removal = await removeSandbox(
      engine,
      svc.restoreFiles,
      r,
      verifyRoot(loaded.paths.stateDir),
    );
    if (removal.problems.length === 0) await journal.clear(r.runId);
    out.push(removal);
  }
  return out;
}

/**
 * The unit verify hooks see: the live unit's name (its config hooks apply) with the sandbox's
 * containers, so `ctx.exec("app", ...)` and `stowage.verify` labels reach into the sandbox only.
 */
async function sandboxHookUnit(
  engine: Pick<EngineInventory, "listContainers">,
  unit: string,
  kind: Unit["kind"],
  runId: string,
): Promise<Unit> {
  const containers = await engine.listContainers({ label: [`${SANDBOX_LABEL}=${runId}`] });
  return {
    ...bareUnit(unit, kind),
    containers: containers.map(briefContainer),
  };
}

/** Run ids (and units) on sandbox labels of containers, volumes and networks, minus `known`. */
async function unrecordedSandboxes(
  engine: Pick<EngineInventory, "listContainers" | "listVolumes" | "listNetworks">,
  known: string[],
): Promise<{ runId: string; unit: string }[]> {
  const found = new Map<string, string>();
  const note = (labels: Record<string, string> | null | undefined) => {
    const id = labels?.[SANDBOX_LABEL];
    const unit = labels?.[SANDBOX_UNIT_LABEL];
    if (id && unit && RUN_ID.test(id) && !known.includes(id)) found.set(id, unit);
  };
  for (const c of await engine.listContainers({ label: [SANDBOX_LABEL] })) note(c.Config.Labels);
  for (const v of await engine.listVolumes()) note(v.Labels);
  for (const n of await engine.listNetworks()) note(n.Labels);
  return [...found].map(([runId, unit]) => ({ runId, unit }));
}

/** One drill's inputs and its report, shared by the steps of verifyPoint. */
interface Drill {
  svc: VerifyServices;
  loaded: LoadedConfig;
  engine: DockerEngine;
  repo: BackupRepository;
  point: RestorePoint;
  req: VerifyRequest;
  signal: AbortSignal;
  sink: EventSink;
  runId: string;
  /** The drills' folder under the state dir, and this drill's scratch folder in it. */
  root: string;
  scratchDir: string;
  report: VerifyReport;
  log: (message: string, level?: "info" | "warning") => void;
  /** The compose command, detected once for the whole run (core/restore/load.ts). */
  composeCommand: () => Promise<string[] | undefined>;
}

/** A point that cannot be drilled as it is (not a failure of the backup): the report says why. */
class Unverifiable extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
  }
}

/**
 * One drill, step by step: plan the sandbox, plan its restore, restore and count, start, judge
 * (and run the verify hooks); the sandbox is removed at the end whatever happened, unless kept.
 */
async function verifyPoint(
  svc: VerifyServices,
  loaded: LoadedConfig,
  engine: DockerEngine,
  repo: BackupRepository,
  point: RestorePoint,
  req: VerifyRequest,
  opts: {
    sink: EventSink;
    signal: AbortSignal;
    runId: () => string;
    composeCommand: () => Promise<string[] | undefined>;
  },
): Promise<VerifyReport> {
  const { clock } = svc;
  const runId = opts.runId();
  const root = verifyRoot(loaded.paths.stateDir);
  const report: VerifyReport = {
    operation: "verify",
    unit: point.unit,
    backupId: point.backupId,
    runId,
    status: "failed",
    ok: false,
    startedAt: clock.now().toISOString(),
    finishedAt: "",
    services: [],
    volumes: [],
    notes: [],
    removed: [],
    cleanupProblems: [],
  };
  const d: Drill = {
    svc,
    loaded,
    engine,
    repo,
    point,
    req,
    signal: opts.signal,
    sink: opts.sink,
    runId,
    root,
    scratchDir: `${root}/${runId}`,
    report,
    log: (message, level = "info") =>
      opts.sink.emit({ type: "log", level, message, unit: point.unit, operation: "verify" }),
    composeCommand: opts.composeCommand,
  };
  const journal = svc.sandboxJournal(sandboxJournalFile(loaded));
  let sandbox: Sandbox | undefined;
  let recorded = false;
  try {
    sandbox = await planDrill(d);
    const plan = await planSandboxRestore(d, sandbox);
    // Recorded before the first object exists: a SIGKILL from here on leaves a list to remove.
    await journal.record({ ...sandbox.objects, pid: svc.pid, since: clock.now().toISOString() });
    recorded = true;
    await svc.restoreFiles.mkdirp(d.scratchDir);
    d.log(`restoring ${point.backupId} into sandbox ${sandbox.objects.name}`);
    const restoreMs = await restoreIntoSandbox(d, sandbox, plan);
    const since = clock.now();
    await startSandbox(d, sandbox, plan);
    const readyAt = await judgeSandboxRun(d, sandbox, since);
    const startMs = Math.max(0, readyAt.getTime() - since.getTime());
    report.startSeconds = startMs / 1000;
    report.recoverySeconds = (restoreMs + startMs) / 1000;
    report.status = "healthy";
    report.ok = true;
    d.log(
      `sandbox ${sandbox.objects.name} is healthy; recovery took ${
        report.recoverySeconds.toFixed(1)
      } s`,
    );
  } catch (e) {
    if (e instanceof Unverifiable) return unverifiable(report, e.message, e.hint);
    report.status = "failed";
    report.ok = false;
    const err = failureOf(e, opts.signal, point.unit);
    report.error = {
      code: err.code,
      message: err.message,
      ...(err.hint ? { hint: err.hint } : {}),
      ...(err.details.length ? { details: err.details } : {}),
    };
  } finally {
    if (sandbox && recorded) await finishSandbox(d, sandbox, journal);
    report.finishedAt = clock.now().toISOString();
  }
  return report;
}

/** The point's documents and the sandbox that renames them; refuses what cannot run there. */
async function planDrill(d: Drill): Promise<Sandbox> {
  const { point, report } = d;
  const cfg = d.loaded.config.verify;
  const documents = await loadDocuments(d.repo, point);
  const missing = point.status === "unverified" ? missingFromRecipe(point, documents.recipe) : [];
  requireComplete(point, missing.map((m) => `missing ${m}`), {});
  if (!documents.recipe) {
    throw new Unverifiable(
      `restore point ${point.backupId} holds no recipe (scope ${
        point.scope ?? "?"
      }), so nothing says how to start it`,
      "Back the unit up with scope standard or full so it can be brought up elsewhere.",
    );
  }
  const usedSubnets = (await d.engine.listNetworks()).flatMap((n) =>
    (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? "")
  ).filter(Boolean);
  const sandbox = planSandbox({
    point,
    recipe: documents.recipe,
    networks: documents.networks,
    runId: d.runId,
    scratchDir: d.scratchDir,
    usedSubnets,
    caps: { cpus: cfg.cpus, memoryBytes: cfg.memory_mb * 1048576 },
    allowPrivileged: d.req.allowPrivileged,
  });
  report.sandbox = sandbox.objects.name;
  report.notes.push(...sandbox.notes);
  if (sandbox.problems.length > 0) {
    throw new Unverifiable(
      `it cannot run in a sandbox: ${sandbox.problems.join("; ")}`,
      sandbox.problems.some((p) => p.includes("--allow-privileged"))
        ? "Read what it asks for; --allow-privileged runs the sandbox with it."
        : "These settings reach outside the unit; verify it by restoring on a spare host instead.",
    );
  }
  await checkDisk(d.svc, d.engine, d.repo, point, d.root);
  return sandbox;
}

/**
 * The restore planner's plan for the sandbox, as for a restore on a new host; refused when it
 * has conflicts, and a bug when it would touch anything outside the sandbox.
 */
async function planSandboxRestore(d: Drill, sandbox: Sandbox): Promise<RestorePlan> {
  const { svc, loaded, point } = d;
  const options: RestoreOptions = {
    parts: [],
    volumes: [],
    start: true,
    stop: false,
    pinImages: false,
    networks: "refuse",
    secrets: d.req.secrets,
    allowPrivileged: !!d.req.allowPrivileged,
    unsafePaths: loaded.config.backup.unsafe_paths,
  };
  const composeCommand = sandbox.objects.kind === "stack" ? await d.composeCommand() : undefined;
  const input: RestoreInput = {
    point: sandbox.point,
    recipe: sandbox.recipe,
    networks: sandbox.networks,
    options,
  };
  input.host = await gatherHost(d.engine, svc.restoreFiles, input, composeCommand);
  const plan = planRestore(input);
  if (plan.conflicts.length > 0) {
    const secret = plan.conflicts.some((c) => c.kind === "secret");
    throw new Unverifiable(
      `it cannot be brought up from ${point.backupId}: ${
        plan.conflicts.map((c) => c.message).join("; ")
      }`,
      secret
        ? "Pass the redacted values with --env-file FILE (KEY=VALUE lines), as for restore."
        : plan.conflicts.some((c) => c.kind === "privileged")
        ? "Read what it asks for; --allow-privileged runs the sandbox with it."
        : "See docs/verify.md.",
    );
  }
  const violations = checkSandboxPlan(plan, sandbox.objects);
  if (violations.length > 0) {
    throw new StowageError(
      "restore.untrusted",
      `Cannot verify '${point.unit}': the sandbox plan would touch objects outside the sandbox`,
      "Nothing was changed. Report this as a bug with the details.",
      { details: violations },
    );
  }
  for (const data of plan.data.filter((x) => x.anonymous)) {
    d.report.notes.push(
      `anonymous volume ${data.name.slice(8, 20)}... of service ${
        data.anonymous!.service
      } is not restored in the sandbox (it starts empty)`,
    );
  }
  return plan;
}

/**
 * Data, networks, files and the container, not started; then each restored folder is counted
 * against restic's record. Returns how long the restore took (ms).
 */
async function restoreIntoSandbox(
  d: Drill,
  sandbox: Sandbox,
  plan: RestorePlan,
): Promise<number> {
  const { svc, point, report } = d;
  const restoreStart = svc.clock.now();
  const restored = await executeRestore(
    {
      repo: d.repo,
      engine: d.engine,
      runner: svc.runner,
      files: svc.restoreFiles,
      clock: svc.clock,
      sink: verifySink(d.sink, point.unit),
      host: svc.hostname,
      pid: svc.pid,
      stopTimeoutSeconds: d.loaded.config.backup.stop_timeout,
      startTimeoutSeconds: 0,
      signal: d.signal,
    },
    {
      ...plan,
      compose: undefined,
      data: plan.data.filter((x) => !x.anonymous),
      container: plan.container ? { ...plan.container, start: false } : undefined,
    },
    d.req.secrets,
  );
  if (!restored.ok) {
    throw new StowageError(
      (restored.error?.code as never) ?? "restore.failed",
      restored.error?.message ?? `Cannot restore '${point.unit}' into the sandbox`,
      restored.error?.hint,
      { details: restored.error?.details },
    );
  }
  const restoreMs = svc.clock.now().getTime() - restoreStart.getTime();
  report.restoreSeconds = restoreMs / 1000;

  report.volumes = await checkVolumes(svc, d.repo, point, sandbox, restored.data, plan.data);
  const bad = report.volumes.filter((v) => !v.ok);
  if (bad.length > 0) {
    throw new StowageError(
      "verify.failed",
      `Verify of '${point.unit}' failed: restored data differs from what restic recorded (${
        bad.map((v) => `${v.name}: ${v.detail}`).join("; ")
      })`,
      "The snapshot may be damaged: run `stowage admin repo check` and verify an older restore point.",
    );
  }
  return restoreMs;
}

/** Starts the sandbox: compose brings the services up in dependency order. */
async function startSandbox(d: Drill, sandbox: Sandbox, plan: RestorePlan): Promise<void> {
  const { point } = d;
  d.log(`starting sandbox ${sandbox.objects.name}`);
  if (plan.compose) {
    const r = await d.svc.runner.run(plan.compose.argv[0], plan.compose.argv.slice(1), {
      cwd: plan.compose.cwd,
      env: d.req.secrets,
      signal: d.signal,
    });
    if (r.code !== 0 && !d.signal.aborted) {
      throw new StowageError(
        "verify.failed",
        `Verify of '${point.unit}' failed: the sandbox did not start (compose up exit ${r.code}: ${
          lastLines(r.stderr || r.stdout)
        })`,
        "The backup's compose files may not start as they are; look at them with `stowage restore --to-dir`.",
      );
    }
  } else if (plan.container) {
    await d.engine.startContainer(plan.container.name).catch((e) => {
      throw new StowageError(
        "verify.failed",
        `Verify of '${point.unit}' failed: the sandbox container did not start (${
          errorMessage(e)
        })`,
        "Look at the restored container's settings with `stowage restore --dry-run`.",
      );
    });
  }
  checkAbort(d.signal);
}

/**
 * Judges the started sandbox from the Engine's events, then runs the verify hooks (the user's own
 * checks from inside the healthy sandbox: SQL, HTTP, files). Returns when every container was
 * ready.
 */
async function judgeSandboxRun(d: Drill, sandbox: Sandbox, since: Date): Promise<Date> {
  const { svc, point, report } = d;
  const cfg = d.loaded.config.verify;
  const judgement = await judgeSandbox(
    { engine: d.engine, clock: svc.clock, signal: d.signal },
    `${SANDBOX_LABEL}=${d.runId}`,
    {
      since,
      startedAt: svc.clock.now(),
      healthTimeoutSeconds: cfg.health_timeout,
      settleSeconds: cfg.settle_seconds,
    },
  );
  report.services = judgement.services;
  if (!judgement.ok || !judgement.readyAt) {
    const failed = judgement.services.filter((s) =>
      s.status !== "healthy" && s.status !== "running"
    );
    throw new StowageError(
      "verify.failed",
      `Verify of '${point.unit}' failed: ${
        failed.map((s) => `service ${s.service} ${s.status} (${s.detail ?? ""})`).join("; ") ||
        "the sandbox did not become ready"
      }`,
      `The backup ${point.backupId} does not come up healthy; run with --keep to look at the sandbox.`,
    );
  }
  const hooks = await runPhaseHooks({
    phase: "verify",
    unit: await sandboxHookUnit(d.engine, point.unit, sandbox.objects.kind, d.runId),
    config: d.loaded.config,
    backupId: point.backupId,
    scope: point.scope ?? "standard",
    dryRun: false,
    outcome: { status: "ok", backupId: point.backupId, snapshots: [] },
    engine: d.engine,
    signal: d.signal,
    sink: d.sink,
    host: svc.hookHost,
  });
  if (hooks.status === "failed") {
    throw new StowageError(
      "verify.failed",
      `Verify of '${point.unit}' failed: ${hooks.error}`,
      "The sandbox came up healthy, but a verify hook found a problem; run with --keep to look at it.",
    );
  }
  return judgement.readyAt;
}

/** The drill's error as the report tells it: an interruption, stowage's own error, or a wrap. */
function failureOf(e: unknown, signal: AbortSignal, unit: string): StowageError {
  if (signal.aborted) {
    return new StowageError(
      "interrupted",
      `Verify of '${unit}' interrupted`,
      "The sandbox is removed.",
    );
  }
  if (isStowageError(e)) return e;
  return new StowageError(
    "verify.failed",
    `Verify of '${unit}' failed: ${errorMessage(e)}`,
    undefined,
    {
      cause: e,
    },
  );
}

/**
 * Leaves the sandbox for a person (--keep, recorded as kept) or removes it; what cannot be removed
 * stays in the journal for the next command to try again.
 */
async function finishSandbox(
  d: Drill,
  sandbox: Sandbox,
  journal: ReturnType<VerifyServices["sandboxJournal"]>,
): Promise<void> {
  const { svc, report } = d;
  if (d.req.keep && !d.signal.aborted) {
    await journal.record({ ...sandbox.objects, pid: svc.pid, since: report.startedAt, keep: true });
    report.kept = {
      objects: [
        ...sandbox.objects.containers.map((c) => `container ${c}`),
        `containers labelled ${SANDBOX_LABEL}=${d.runId}`,
        ...sandbox.objects.networks.map((n) => `network ${n}`),
        ...sandbox.objects.volumes.map((v) => `volume ${v}`),
        `folder ${d.scratchDir}`,
      ],
      remove: "stowage verify --cleanup",
    };
    return;
  }
  const removal = await removeSandbox(d.engine, svc.restoreFiles, {
    ...sandbox.objects,
    pid: svc.pid,
    since: report.startedAt,
  }, d.root).catch((e) => ({ removed: [], problems: [errorMessage(e)] }));
  report.removed = removal.removed;
  report.cleanupProblems = removal.problems;
  if (removal.problems.length === 0) await journal.clear(d.runId);
  else {
    d.log(
      `could not remove all of sandbox ${sandbox.objects.name}: ${
        removal.problems.join("; ")
      }; the next stowage command tries again`,
      "warning",
    );
  }
}

/** What the results store keeps of a drill (/status, /metrics). */
export function verifyResult(r: VerifyReport): VerifyResult {
  const failing = r.services.filter((s) => s.status !== "healthy" && s.status !== "running")
    .map((s) => `${s.service} ${s.status}`);
  return {
    unit: r.unit,
    runId: r.runId,
    ...(r.backupId ? { backupId: r.backupId } : {}),
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    status: r.status,
    ...(r.recoverySeconds !== undefined ? { recoverySeconds: r.recoverySeconds } : {}),
    ...(r.error ? { error: r.error.message } : {}),
    ...(failing.length ? { failing } : {}),
  };
}

function unverifiable(report: VerifyReport, message: string, hint: string): VerifyReport {
  report.status = "unverifiable";
  report.ok = false;
  report.error = {
    code: "verify.unverifiable",
    message: `Cannot verify '${report.unit}': ${message}`,
    hint,
  };
  return report;
}

/** Refuses when a file system the sandbox writes to has less room than the point restores. */
async function checkDisk(
  svc: Pick<VerifyServices, "runner">,
  engine: Pick<EngineInventory, "listVolumes">,
  repo: BackupRepository,
  point: RestorePoint,
  root: string,
) {
  const ids = [...point.volumes, ...point.binds].map((d) => d.snapshot.id);
  if (ids.length === 0) return;
  const need = point.sizeBytes ?? (await repo.stats({ snapshotIds: ids })).totalSize;
  const volumes = await engine.listVolumes();
  const dockerVolumes = volumes[0]?.Mountpoint.replace(/\/[^/]+\/_data$/, "") ||
    "/var/lib/docker/volumes";
  const places = [];
  for (const path of [dockerVolumes, root.slice(0, root.lastIndexOf("/")) || "/"]) {
    const r = await svc.runner.run("df", ["-P", "-B1", path]).catch(() => undefined);
    places.push({ path, free: r?.code === 0 ? parseDfAvailable(r.stdout) : undefined });
  }
  const short = diskShortfall(need, places);
  if (short.length > 0) {
    throw new StowageError(
      "verify.refused",
      `Cannot verify '${point.unit}': not enough free disk space (${short.join("; ")})`,
      "Free space there, or verify on a host with room for a second copy of the unit.",
    );
  }
}

/**
 * Each restored folder's entries and bytes against restic's count for its snapshot. A format-3
 * `type=data` snapshot holds several folders and restic counts them together: those folders are
 * checked together (each reports the sum of its snapshot's folders).
 */
async function checkVolumes(
  svc: Pick<VerifyServices, "hostFiles">,
  repo: BackupRepository,
  point: RestorePoint,
  sandbox: Sandbox,
  restored: { kind: "volume" | "bind"; name: string; target: string; snapshotId: string }[],
  steps: { name: string; snapshotId: string; source: "dir" | "archive"; snapshotPath: string }[],
): Promise<VolumeCheck[]> {
  // The sandbox renamed the point's folders, in the same order.
  const liveName = (d: { kind: "volume" | "bind"; name: string }) => {
    const [sbx, live] = d.kind === "volume"
      ? [sandbox.point.volumes, point.volumes]
      : [sandbox.point.binds, point.binds];
    return live[sbx.findIndex((x) => x.name === d.name)]?.name ?? "?";
  };
  const out: VolumeCheck[] = [];
  const bySnapshot = Map.groupBy(restored, (d) => d.snapshotId);
  for (const [snapshotId, group] of bySnapshot) {
    const checks: VolumeCheck[] = group.map((d) => ({
      kind: d.kind,
      name: liveName(d),
      snapshotId,
      ok: true,
    }));
    out.push(...checks);
    const set = (f: (c: VolumeCheck) => void) => checks.forEach(f);
    const groupSteps = steps.filter((s) => s.snapshotId === snapshotId);
    if (
      groupSteps.length === 0 || groupSteps.some((s) => s.source !== "dir") ||
      !svc.hostFiles.walk
    ) {
      set((c) => c.detail = "not counted (saved as an archive)");
      continue;
    }
    const saved = [...point.volumes, ...point.binds].filter((d) => d.snapshot.id === snapshotId);
    if (saved.length !== group.length) {
      set((c) => c.detail = "not counted (its snapshot holds folders this drill did not restore)");
      continue;
    }
    const stats = await repo.stats({ snapshotIds: [snapshotId], mode: "restore-size" });
    if (stats.totalFileCount === undefined) {
      set((c) => c.detail = "not counted (restic reported no file count)");
      continue;
    }
    const expected = {
      entries: stats.totalFileCount - treeOverhead(saved[0].snapshot.paths),
      bytes: stats.totalSize,
    };
    const found = { entries: 0, bytes: 0 };
    let broken: string | undefined;
    for (const d of group) {
      const walked = await svc.hostFiles.walk(d.target);
      if (typeof walked === "string") {
        broken = `the restored folder ${d.target} is ${walked}`;
        break;
      }
      found.entries += walked.length;
      found.bytes += walked.filter((e) => e.type === "file").reduce((n, e) => n + e.size, 0);
    }
    const together = group.length > 1
      ? ` (counted with the ${group.length} folders of its snapshot)`
      : "";
    set((c) => {
      c.expected = expected;
      if (broken) {
        c.ok = false;
        c.detail = broken;
        return;
      }
      c.found = found;
      if (found.entries !== expected.entries || found.bytes !== expected.bytes) {
        c.ok = false;
        c.detail =
          `restic recorded ${expected.entries} entries and ${expected.bytes} bytes, the sandbox has ${found.entries} and ${found.bytes}${together}`;
      } else if (together) c.detail = together.trim().slice(1, -1);
    });
  }
  return out;
}

/** Restore's log lines, as the drill's; its run and unit events are the restore's own business. */
function verifySink(sink: EventSink, unit: string): EventSink {
  return {
    emit(e) {
      if (e.type === "log") sink.emit({ ...e, unit, operation: "verify" });
    },
  };
}

function checkAbort(signal: AbortSignal) {
  if (signal.aborted) throw new StowageError("interrupted", "interrupted");
}

function lastLines(text: string, n = 3): string {
  return text.trim().split("\n").slice(-n).join(" / ") || "no output";
}
