/**
 * One backup run as the CLI (`stowage backup`) and the daemon perform it: the host lock, crash
 * recovery, the repository created when missing, the run (core/backup/run.ts), the automatic
 * recovery bundle, the persisted result. Emits the run's events; returns its report.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import { describeHolder } from "../core/host_lock.ts";
import type { Scope } from "../core/model.ts";
import type { EventSink, ResticSnapshot } from "../core/ports.ts";
import type { RunReport } from "../core/report.ts";
import { runBackup, selectUnits } from "../core/backup/run.ts";
import { removingStaleLocks } from "../core/stale_locks.ts";
import { discoverUnits } from "../core/discovery.ts";
import { errorMessage, isStowageError } from "../core/errors.ts";
import { backupHooks } from "../core/hooks/mod.ts";
import { backupSummary, errorSummary, startSummary } from "../core/notify/mod.ts";
import type { NotifyResult } from "../core/report.ts";
import { lockAndRecover } from "./host_lock.ts";
import { type NotifyServices, sendNotifications } from "./notify.ts";
import { copyToAll } from "./copies.ts";
import type { Services } from "./services.ts";

export type BackupServices = Pick<
  Services,
  | "clock"
  | "hostname"
  | "pid"
  | "engine"
  | "repository"
  | "locks"
  | "journal"
  | "fsSnapshots"
  | "hostFiles"
  | "results"
  | "refreshRecoveryBundle"
  | "hookHost"
  | keyof NotifyServices
  | "copyRepository"
>;

export interface BackupRequest {
  units?: string[];
  scope?: Scope;
  signal: AbortSignal;
  sink: EventSink;
  /** Queue up to this long behind another run holding the host lock. */
  waitSeconds?: number;
}

export async function backup(
  svc: BackupServices,
  loaded: LoadedConfig,
  opts: BackupRequest,
): Promise<RunReport> {
  const targets = loaded.config.notify;
  const notify = (summary: Parameters<typeof sendNotifications>[2]) =>
    targets.length === 0
      ? Promise.resolve([])
      : sendNotifications(svc, targets, summary, { sink: opts.sink, signal: opts.signal });
  const startedAt = svc.clock.now();
  const sent: NotifyResult[] = [];
  let report: RunReport;
  try {
    report = await backupRun(svc, loaded, opts, async () => {
      // Before the first container stops: a heartbeat's /start, a "started" message.
      sent.push(
        ...await notify(startSummary({
          operation: "backup",
          host: svc.hostname,
          at: svc.clock.now(),
          units: opts.units,
        })),
      );
    });
  } catch (e) {
    // Another run holds the host lock: that run reports its own outcome, and the daemon's
    // interval run skipping behind a timer run is no failure to page anyone about.
    if (isStowageError(e, "lock.held")) throw e;
    // The run ended before it could report per unit (repository down, wrong password...): that
    // is a failure people must hear of too. Nothing is stopped at this point.
    const results = await notify(errorSummary({
      operation: "backup",
      host: svc.hostname,
      startedAt,
      at: svc.clock.now(),
      error: errorMessage(e),
    }));
    await recordNotifications(svc, loaded, opts, [...sent, ...results]);
    throw e;
  }
  // Every container is running again: the outcome goes out now, never inside downtime.
  sent.push(...await notify(backupSummary(report)));
  if (targets.length > 0) report.notifications = sent;
  // The status endpoint reports timer-started runs from this file.
  await svc.results.record(loaded.paths.resultsFile, report).catch((e) =>
    opts.sink.emit({
      type: "log",
      level: "warning",
      message: `could not record the run's result: ${errorMessage(e)}`,
    })
  );
  return report;
}

async function recordNotifications(
  svc: Pick<Services, "results">,
  loaded: LoadedConfig,
  opts: BackupRequest,
  results: NotifyResult[],
) {
  if (results.length === 0) return;
  await svc.results.recordNotifications(loaded.paths.resultsFile, results).catch((e) =>
    opts.sink.emit({
      type: "log",
      level: "warning",
      message: `could not record the notification results: ${errorMessage(e)}`,
    })
  );
}

/** The lock, the repository, the run and the bundle; `beforeRun` right before the first stop. */
async function backupRun(
  svc: BackupServices,
  loaded: LoadedConfig,
  opts: BackupRequest,
  beforeRun: () => Promise<void>,
): Promise<RunReport> {
  const engine = svc.engine(loaded);
  // A mistyped --unit fails before the lock is taken or the repository prepared (a password
  // file generated, a repository created).
  if (opts.units?.length) {
    selectUnits(
      discoverUnits(await engine.gatherState(), { unsafePaths: loaded.config.backup.unsafe_paths }),
      opts.units,
    );
  }
  const repo = await svc.repository(loaded, { prepare: true });
  using host = await lockAndRecover(svc, loaded, engine, opts.sink, {
    command: "backup",
    waitSeconds: opts.waitSeconds,
    signal: opts.signal,
    units: opts.units,
    // Queued behind another run: say what for and how long, rather than sit silent.
    onWait: (holder) =>
      opts.sink.emit({
        type: "log",
        level: "info",
        message: `waiting for ${describeHolder(holder)} to finish, up to ${opts.waitSeconds} s`,
      }),
  });
  // One listing proves the repository opens, clears a lock a killed restic left, and is the
  // run's first view of the snapshots (core/backup/listing.ts): no separate check, no lock listing.
  let snapshots: ResticSnapshot[];
  try {
    snapshots = await removingStaleLocks(repo, opts.sink, () => repo.snapshots({}, { lock: true }));
  } catch (e) {
    if (!isStowageError(e, "repo.missing")) throw e;
    await repo.init();
    snapshots = [];
    const where = loaded.config.repository.location ?? loaded.paths.repository;
    const pw = loaded.config.repository.password_file ?? loaded.paths.passwordFile;
    opts.sink.emit({
      type: "log",
      level: "info",
      message:
        `Created the repository at ${where}; its password is in ${pw} (keep a copy: stowage disaster-recovery).`,
    });
  }
  await beforeRun();
  const report = await runBackup(
    {
      engine,
      repo,
      clock: svc.clock,
      sink: opts.sink,
      files: svc.hostFiles,
      journal: host.journal,
      host: svc.hostname,
      pid: svc.pid,
      hooks: backupHooks({
        config: loaded.config,
        engine,
        sink: opts.sink,
        signal: opts.signal,
        host: svc.hookHost,
      }),
      fsSnapshots: host.fsSnapshots,
      snapshots,
    },
    { config: loaded.config, units: opts.units, scope: opts.scope, signal: opts.signal },
  );
  // Every unit runs again by now: the copies never add to any downtime (docs/copies.md).
  if (loaded.config.copies.length && !report.interrupted) {
    report.copies = await copyToAll(svc, loaded, repo, { sink: opts.sink, signal: opts.signal });
  }
  if (loaded.config.backup.update_recovery_bundle && !report.interrupted) {
    // Once per run, not per unit. A missing bundle password fails the run loudly; it never
    // falls back to writing anything in plaintext.
    try {
      report.recoveryBundle = { path: (await svc.refreshRecoveryBundle(loaded)).path };
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
  return report;
}
