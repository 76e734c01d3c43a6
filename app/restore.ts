/**
 * Restore as a use case, in the steps a command drives (the wizard asks its questions between
 * them): `openRestore` lists the repository's snapshots; `prepareRestore` reads the chosen point's
 * documents and returns a session that plans against the host as it is now; `runRestore` takes
 * the host lock, starts what a crashed run left stopped, plans again when that changed the host,
 * and runs the plan (core/restore/run.ts). Emits the restore's events; returns data.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import type { BackupRepository, DockerEngine } from "../core/ports.ts";
import { StowageError } from "../core/errors.ts";
import { missingFromRecipe, requireComplete, type RestorePoint } from "../core/restore/points.ts";
import {
  type HostView,
  planRestore,
  type RestoreInput,
  type RestoreOptions,
  type RestorePlan,
  selectData,
} from "../core/restore/plan.ts";
import {
  detectCompose,
  gatherHost,
  loadDocuments,
  loadSnapshots,
  probeInto,
} from "../core/restore/load.ts";
import { executeRestore, type RestoreReport } from "../core/restore/run.ts";
import { bareUnit, restoreHooks } from "../core/restore/hooks.ts";
import type { EventSink } from "../core/ports.ts";
import { lockAndRecover } from "./host_lock.ts";
import { type NotifyServices, sendNotifications } from "./notify.ts";
import {
  errorSummary,
  type NotifySummary,
  restoreSummary,
  startSummary,
} from "../core/notify/mod.ts";
import { errorMessage } from "../core/errors.ts";
import { readThroughOriginals } from "./copies.ts";
import type { Services } from "./services.ts";

export type RestoreServices = Pick<
  Services,
  | "clock"
  | "hostname"
  | "pid"
  | "runner"
  | "engine"
  | "repository"
  | "copyRepository"
  | "locks"
  | "journal"
  | "restoreFiles"
  | "hookHost"
  | "results"
  | keyof NotifyServices
>;

export type Snapshots = Awaited<ReturnType<typeof loadSnapshots>>;

/** The repository and its snapshots, listed once. */
export async function openRestore(
  svc: Pick<RestoreServices, "repository" | "copyRepository">,
  loaded: LoadedConfig,
  opts: { from?: string } = {},
): Promise<{ repo: BackupRepository; snapshots: Snapshots }> {
  // --from NAME: a copy (config `copies:`) stands in for the primary, which may be what died.
  if (opts.from !== undefined) {
    const copy = (await svc.copyRepository(loaded, opts.from)).repo;
    const snapshots = await loadSnapshots(copy);
    return { repo: readThroughOriginals(copy, snapshots), snapshots };
  }
  const repo = await svc.repository(loaded);
  return { repo, snapshots: await loadSnapshots(repo) };
}

export interface RestoreSession {
  repo: BackupRepository;
  point: RestorePoint;
  documents: Awaited<ReturnType<typeof loadDocuments>>;
  options: RestoreOptions;
  /** Why the point is incomplete, when it is and that was allowed; empty otherwise. */
  incomplete: string[];
  /** Undefined for --to-dir: no Docker is involved. */
  engine?: DockerEngine;
  /** Plans against the host as it is now (options may have changed since the last plan). */
  plan(): Promise<RestorePlan>;
}

/** Reads the point's documents and refuses an incomplete point unless allowed. */
export async function prepareRestore(
  svc: RestoreServices,
  loaded: LoadedConfig,
  repo: BackupRepository,
  point: RestorePoint,
  options: RestoreOptions,
  opts: {
    allowIncomplete?: boolean;
    /** Told what is missing when an incomplete point is restored anyway. */
    onIncomplete?: (problems: string[]) => void;
  },
): Promise<RestoreSession> {
  const documents = await loadDocuments(repo, point);
  // A point written before completion markers existed is checked against its own recipe.
  const missing = point.status === "unverified" ? missingFromRecipe(point, documents.recipe) : [];
  requireComplete(point, missing.map((m) => `missing ${m}`), {
    allowIncomplete: opts.allowIncomplete,
  });
  const incomplete = point.status === "incomplete" || missing.length > 0
    ? [...point.problems, ...missing.map((m) => `missing ${m}`)]
    : [];
  if (incomplete.length > 0) opts.onIncomplete?.(incomplete);
  const files = svc.restoreFiles;
  const engine = options.toDir ? undefined : svc.engine(loaded);
  const composeCommand = options.toDir || !options.start
    ? undefined
    : await detectCompose(svc.runner, loaded.config.docker.compose_command);
  const base = { point, recipe: documents.recipe, networks: documents.networks };
  // Unknown --volume names fail here, before the host is looked at.
  if (options.volumes.length) selectData(point, documents.recipe, options.volumes);

  const plan = async (): Promise<RestorePlan> => {
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
  return { repo, point, documents, options, incomplete, engine, plan };
}

/**
 * Runs a plan the caller accepted. Under the host lock (restores into Docker only), a crashed
 * run's containers are started first and the plan is made again on that state; conflicts then
 * throw `conflict(plan)`. Returns the report and the plan that ran.
 */
export async function runRestore(
  svc: RestoreServices,
  loaded: LoadedConfig,
  session: RestoreSession,
  accepted: RestorePlan,
  opts: {
    sink: EventSink;
    signal: AbortSignal;
    conflict: (plan: RestorePlan) => StowageError;
  },
): Promise<{ report: RestoreReport; plan: RestorePlan }> {
  const { engine, documents, repo } = session;
  let plan = accepted;
  using host = engine
    ? await lockAndRecover(svc, loaded, engine, opts.sink, {
      command: "restore",
      signal: opts.signal,
    })
    : undefined;
  if (host && host.recovered.units.length > 0) {
    // Started what a crashed run left stopped: plan again on that state.
    plan = await session.plan();
    if (plan.conflicts.length > 0) throw opts.conflict(plan);
  }
  const notify = async (summary: NotifySummary) => {
    if (loaded.config.notify.length === 0) return;
    const results = await sendNotifications(svc, loaded.config.notify, summary, {
      sink: opts.sink,
      signal: opts.signal,
    });
    if (results.length === 0) return;
    await svc.results.recordNotifications(loaded.paths.resultsFile, results).catch((e) =>
      opts.sink.emit({
        type: "log",
        level: "warning",
        message: `could not record the notification results: ${errorMessage(e)}`,
      })
    );
  };
  const startedAt = svc.clock.now();
  // Before the restore stops anything; its outcome once everything it started runs again.
  await notify(
    startSummary({ operation: "restore", host: svc.hostname, at: startedAt, units: [plan.unit] }),
  );
  let report: RestoreReport;
  try {
    report = await executeRestore(
      {
        repo,
        engine,
        runner: svc.runner,
        files: svc.restoreFiles,
        clock: svc.clock,
        sink: opts.sink,
        host: svc.hostname,
        journal: host?.journal,
        pid: svc.pid,
        // Hooks run around restores into Docker; --to-dir only writes files and runs none.
        hooks: engine
          ? restoreHooks({
            config: loaded.config,
            engine,
            sink: opts.sink,
            signal: opts.signal,
            host: svc.hookHost,
            unit: documents.recipe?.unit ?? bareUnit(plan.unit, plan.kind),
          })
          : undefined,
        stopTimeoutSeconds: loaded.config.backup.stop_timeout,
        startTimeoutSeconds: loaded.config.backup.start_timeout,
        signal: opts.signal,
      },
      plan,
      session.options.secrets,
    );
  } catch (e) {
    await notify(errorSummary({
      operation: "restore",
      host: svc.hostname,
      startedAt,
      at: svc.clock.now(),
      error: errorMessage(e),
    }));
    throw e;
  }
  await notify(restoreSummary(report, svc.hostname));
  return { report, plan };
}
