/**
 * What the daemon knows right now, and the /status document and sd_notify STATUS= line built from
 * it. Pure: the daemon updates a `DaemonState` from events, these functions only read it.
 */
import { verifyStatus } from "./verify_results.ts";
import type { StowageEvent } from "../events.ts";
import type { HealthVerdict } from "./health.ts";
import type { RepositoryInfo } from "./metrics.ts";
import { copyLag, lastRun, type ResultsDoc, type RunSummary } from "./results.ts";

export interface Progress {
  operation: "backup";
  startedAt: string;
  backupId?: string;
  unit?: string;
  /** 1-based position of the unit in the run, and the run's unit count. */
  index?: number;
  total?: number;
  /** What is being saved now: snapshot kind and item (volume name, path, ...). */
  kind?: string;
  item?: string;
  percentDone?: number;
  unitsDone: number;
}

export interface DaemonState {
  startedAt: string;
  /** "interval": the daemon runs backups itself; "timer": systemd's timer (or a person) does. */
  mode: "interval" | "timer";
  intervalMinutes?: number;
  nextRunAt?: string;
  current?: Progress;
  /** Last thing the daemon itself could not do (e.g. skipped because the lock was held). */
  lastNotice?: string;
  repository?: RepositoryInfo;
}

/** Folds an engine event into the progress of the running operation. */
export function applyEvent(p: Progress, e: StowageEvent): Progress {
  switch (e.type) {
    case "run.start":
      return { ...p, backupId: e.backupId, total: e.units.length };
    case "unit.start":
      return {
        ...p,
        unit: e.unit,
        index: e.index,
        total: e.total,
        kind: undefined,
        item: undefined,
        percentDone: undefined,
      };
    case "snapshot.start":
      return { ...p, unit: e.unit, kind: e.kind, item: e.item, percentDone: 0 };
    case "snapshot.progress":
      return {
        ...p,
        unit: e.unit,
        kind: e.kind,
        item: e.item,
        percentDone: e.progress.percentDone,
      };
    case "unit.done":
    case "unit.skip":
      return { ...p, unitsDone: p.unitsDone + 1 };
    default:
      return p;
  }
}

/** The sd_notify STATUS= text: one short line, as `systemctl status` shows it. */
export function statusLine(state: DaemonState, results: ResultsDoc): string {
  const c = state.current;
  if (c) {
    if (c.unit && c.index !== undefined && c.total !== undefined) {
      return `Running backup: ${c.unit} (${c.index}/${c.total})`;
    }
    return "Running backup: starting";
  }
  const run = lastRun(results);
  const last = run
    ? `Last backup: ${run.finishedAt}, ${runOutcome(run)}`
    : "No backup recorded yet";
  const next = state.nextRunAt ? `; next at ${state.nextRunAt}` : "";
  return last + next;
}

export function runOutcome(run: RunSummary): string {
  if (run.interrupted) return "interrupted";
  if (run.ok) return "ok";
  const failed = run.units.filter((u) => u.outcome === "failed").map((u) => u.unit);
  return failed.length ? `failed (${failed.join(", ")})` : "failed";
}

export interface StatusDocInput {
  version: string;
  host: string;
  now: Date;
  state: DaemonState;
  results: ResultsDoc;
  health: HealthVerdict;
}

/** The /status JSON document. */
export function statusDocument({ version, host, now, state, results, health }: StatusDocInput) {
  const run = lastRun(results);
  return {
    version,
    host,
    now: now.toISOString(),
    startedAt: state.startedAt,
    uptimeSeconds: Math.max(
      0,
      Math.floor((now.getTime() - new Date(state.startedAt).getTime()) / 1000),
    ),
    mode: state.mode,
    intervalMinutes: state.intervalMinutes ?? null,
    inProgress: state.current ?? null,
    nextRunAt: state.nextRunAt ?? null,
    notice: state.lastNotice ?? null,
    health: {
      healthy: health.healthy,
      reason: health.reason,
      freshnessHours: health.freshnessHours,
    },
    lastRun: run ? { ...run, outcome: runOutcome(run) } : null,
    repository: state.repository ?? null,
    units: Object.values(results.units)
      .sort((a, b) => a.unit.localeCompare(b.unit))
      .map((u) => ({
        unit: u.unit,
        kind: u.kind,
        healthy: health.units.find((h) => h.unit === u.unit)?.healthy ?? null,
        last: {
          backupId: u.last.backupId,
          time: u.last.finishedAt,
          outcome: u.last.outcome,
          error: u.last.error ?? null,
          skipReason: u.last.skipReason ?? null,
          durationMs: u.last.durationMs,
          downtimeMs: u.last.downtimeMs ?? null,
          bytesAdded: u.last.bytesAdded,
          snapshotIds: u.last.snapshotIds,
        },
        lastSuccessAt: u.lastSuccess?.finishedAt ?? null,
        successesTotal: u.successesTotal,
        failuresTotal: u.failuresTotal,
        snapshotsInRepository: state.repository?.snapshotsByUnit?.[u.unit] ?? null,
      })),
    // Errors were redacted when recorded (app/notify.ts): no URL path or query appears.
    notify: Object.values(results.notify ?? {})
      .sort((a, b) => a.target.localeCompare(b.target))
      .map((n) => ({
        target: n.target,
        kind: n.last.kind,
        last: { event: n.last.event, time: n.last.at, ok: n.last.ok, error: n.last.error ?? null },
        lastFailureAt: n.lastFailure?.at ?? null,
        sentTotal: n.sentTotal,
        failuresTotal: n.failuresTotal,
      })),
    verify: verifyStatus(results),
    // Each copy target (docs/copies.md): its newest copied point and how far behind it is.
    copies: Object.values(results.copies ?? {})
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((c) => ({
        name: c.name,
        ok: c.ok,
        error: c.error ?? null,
        lastAttemptAt: c.lastAttemptAt,
        newestBackupId: c.newestBackupId ?? null,
        newestTime: c.newestTime ?? null,
        behindSince: c.behindSince ?? null,
        lagSeconds: copyLag(c, now),
        failuresTotal: c.failuresTotal,
      })),
  };
}

export type StatusDocument = ReturnType<typeof statusDocument>;
