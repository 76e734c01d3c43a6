/**
 * `admin service daemon`: stowage as a long-running systemd service. sd_notify and the watchdog,
 * interval backups through the backup use case (app/backup.ts), the results store, repository
 * statistics, and the status endpoint (/health, /status, /metrics). The loop itself is
 * core/service/daemon.ts; the answers are pure functions in core/service/.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import { VERSION } from "../core/version.ts";
import { parseSnapshot } from "../core/tags.ts";
import type { StowageEvent } from "../core/events.ts";
import { Daemon, type LogFn } from "../core/service/daemon.ts";
import { healthVerdict } from "../core/service/health.ts";
import type { ListenAddress } from "../core/service/listen.ts";
import { renderMetrics, type RepositoryInfo } from "../core/service/metrics.ts";
import { statusDocument } from "../core/service/status.ts";
import { localRepositoryPath } from "../core/service/units.ts";
import { backup, type BackupServices } from "./backup.ts";
import type { Services } from "./services.ts";

export type DaemonServices =
  & BackupServices
  & Pick<Services, "runner" | "pathExists" | "systemd" | "statusServer">;

export interface DaemonRequest {
  intervalMinutes?: number;
  units?: string[];
  /** Where the status endpoint listens; undefined: no endpoint. */
  addr?: ListenAddress;
  token?: string;
  /** SIGTERM/SIGINT: interrupts a running backup safely, then the daemon ends. */
  signal: AbortSignal;
  /** The daemon's own messages. */
  log: LogFn;
  /** Every event of the runs it starts. */
  onEvent: (e: StowageEvent) => void;
}

/** Units the config skips: /health does not wait for their results. */
export function skippedUnits(loaded: LoadedConfig): string[] {
  return Object.entries(loaded.config.units).filter(([, u]) => u.skip).map(([name]) => name);
}

export async function runDaemon(
  svc: DaemonServices,
  loaded: LoadedConfig,
  opts: DaemonRequest,
): Promise<void> {
  const logFn = opts.log;
  const { notifier, problem } = svc.systemd.notifier((m) => logFn("warning", m));
  if (problem) logFn("warning", problem);
  const watchdogMs = svc.systemd.watchdogMs();
  const resultsFile = loaded.paths.resultsFile;
  const daemon = new Daemon({
    clock: svc.clock,
    notifier,
    signal: opts.signal,
    intervalMs: opts.intervalMinutes ? opts.intervalMinutes * 60_000 : undefined,
    watchdogMs,
    log: logFn,
    onEvent: opts.onEvent,
    readResults: () => svc.results.read(resultsFile),
    recordRun: (report) => svc.results.record(resultsFile, report),
    runBackup: (signal, onEvent) =>
      backup(svc, loaded, { units: opts.units, signal, sink: { emit: onEvent } }),
    refreshRepository: () => repositoryInfo(svc, loaded),
  });
  const freshnessHours = loaded.config.status.freshness_hours;
  // One read of the results per request; the verdict is derived from it.
  const snapshot = async () => {
    const results = await svc.results.read(resultsFile);
    const now = svc.clock.now();
    const health = healthVerdict({
      results,
      now,
      freshnessHours,
      ignoredUnits: skippedUnits(loaded),
      verifyMaxAgeHours: loaded.config.status.verify_max_age_hours,
    });
    return { results, now, health };
  };
  const health = async () => (await snapshot()).health;
  let server;
  if (opts.addr) {
    server = await svc.statusServer.serve(
      {
        health,
        async status() {
          const { results, now, health: h } = await snapshot();
          return statusDocument({
            version: VERSION,
            host: svc.hostname,
            now,
            state: daemon.state,
            results,
            health: h,
          });
        },
        async metrics() {
          const { results, now, health: h } = await snapshot();
          return renderMetrics({
            results,
            version: VERSION,
            health: h,
            running: daemon.running,
            uptimeSeconds: (now.getTime() - new Date(daemon.state.startedAt).getTime()) / 1000,
            repository: daemon.state.repository,
            now,
          });
        },
      },
      { token: opts.token },
      opts.addr,
    );
    logFn(
      "info",
      `status endpoint on ${server.url} (/health, /status, /metrics)${
        opts.token ? ", bearer token required" : ""
      }`,
    );
  }
  try {
    await daemon.run();
  } finally {
    await server?.shutdown();
    await notifier.close();
  }
}

/**
 * Snapshot counts per unit and, for a local repository, its size on disk. Taken under the host
 * lock without waiting, so it never overlaps a backup's retention (restic forget needs an
 * exclusive repository lock); when a backup holds the lock, the numbers wait for the next run.
 */
async function repositoryInfo(
  svc: DaemonServices,
  loaded: LoadedConfig,
): Promise<RepositoryInfo | undefined> {
  let lock;
  try {
    lock = await svc.locks.acquire(loaded.paths.lockFile, {
      waitSeconds: 0,
      clock: svc.clock,
      command: "daemon: repository statistics",
    });
  } catch {
    return undefined;
  }
  try {
    const repo = await svc.repository(loaded, { prepare: false });
    if (!(await repo.exists())) return undefined;
    const snapshotsByUnit: Record<string, number> = {};
    for (const s of (await repo.snapshots({ tags: ["stowage"] })).map(parseSnapshot)) {
      if (s.unit) snapshotsByUnit[s.unit] = (snapshotsByUnit[s.unit] ?? 0) + 1;
    }
    let sizeBytes: number | undefined;
    const local = localRepositoryPath(loaded.config.repository.location ?? loaded.paths.repository);
    if (local && (await svc.pathExists(local))) {
      const du = await svc.runner.run("du", ["-sb", local], { timeoutMs: 60_000 }).catch(() =>
        undefined
      );
      const n = du?.code === 0 ? Number(du.stdout.split(/\s/)[0]) : NaN;
      if (Number.isFinite(n)) sizeBytes = n;
    }
    return {
      snapshotsByUnit,
      ...(sizeBytes !== undefined ? { sizeBytes } : {}),
      checkedAt: svc.clock.now().toISOString(),
    };
  } finally {
    lock.release();
  }
}
