/**
 * The persisted history of backup runs that the status endpoint, `/metrics` and the daemon read:
 * pure functions over the document stored in `<state>/results.json` (adapters/results_store.ts
 * does the I/O). Every run, whoever started it (daemon, timer, a person), is folded in by
 * `applyRun`; per-unit counters survive the bounded run history.
 */
import type { UnitKind } from "../model.ts";
import type { NotifyResult, RunReport, UnitReport } from "../report.ts";
import type { VerifyRecord } from "./verify_results.ts";
import { lagSeconds } from "../copies/plan.ts";

export const RESULTS_VERSION = 1;
/** Runs kept in the history; per-unit last results and counters are kept regardless. */
export const MAX_RUNS = 50;

/** One unit's outcome in one run, as the endpoint shows it. */
export interface UnitResult {
  backupId: string;
  startedAt: string;
  finishedAt: string;
  outcome: UnitReport["outcome"];
  error?: string;
  skipReason?: string;
  durationMs: number;
  downtimeMs?: number;
  bytesAdded: number;
  bytesRead: number;
  snapshotIds: string[];
}

export interface UnitRecord {
  unit: string;
  kind: UnitKind;
  /** The last attempt, whatever its outcome. */
  last: UnitResult;
  /** The last attempt that succeeded. */
  lastSuccess?: UnitResult;
  successesTotal: number;
  failuresTotal: number;
  skipsTotal: number;
}

/** A run as the results document keeps it: the report's header and each unit's outcome. */
export type RunSummary = Omit<RunReport, "operation" | "units" | "recoveryBundle"> & {
  units: { unit: string; outcome: UnitReport["outcome"] }[];
};

/** One notification target's record: its counters and its last delivery. */
export interface NotifyRecord {
  target: string;
  sentTotal: number;
  failuresTotal: number;
  last: NotifyResult;
  /** The last delivery that failed. */
  lastFailure?: NotifyResult;
}

export interface ResultsDoc {
  version: typeof RESULTS_VERSION;
  /** Oldest first, at most MAX_RUNS. */
  runs: RunSummary[];
  units: Record<string, UnitRecord>;
  /** Per notification target (absent in files written before notifications existed). */
  notify?: Record<string, NotifyRecord>;
  /** Restore drills per unit (core/service/verify_results.ts); absent until the first one. */
  verify?: Record<string, VerifyRecord>;
  /** Per copy target (config `copies:`), by name; absent in documents written before copies. */
  copies?: Record<string, CopyRecord>;
}

/** A copy target as /status, /metrics and doctor show it (docs/copies.md). */
export interface CopyRecord {
  name: string;
  /** When the last run tried to copy (its finish time). */
  lastAttemptAt: string;
  ok: boolean;
  error?: string;
  /** The newest complete restore point on the copy, as last seen. */
  newestBackupId?: string;
  newestTime?: string;
  /** The copy lacks restore points made since this time; absent when it is caught up. */
  behindSince?: string;
  failuresTotal: number;
}

export function emptyResults(): ResultsDoc {
  return { version: RESULTS_VERSION, runs: [], units: {} };
}

function unitResult(backupId: string, u: UnitReport): UnitResult {
  return {
    backupId,
    startedAt: u.startedAt,
    finishedAt: u.finishedAt,
    outcome: u.outcome,
    ...(u.error !== undefined ? { error: u.error } : {}),
    ...(u.skipReason !== undefined ? { skipReason: u.skipReason } : {}),
    durationMs: u.durationMs,
    ...(u.downtimeMs !== undefined ? { downtimeMs: u.downtimeMs } : {}),
    bytesAdded: u.bytesAdded,
    bytesRead: u.bytesRead,
    snapshotIds: u.snapshots.map((s) => s.snapshotId),
  };
}

/**
 * Folds one run into the document and returns the new document (the input is not changed).
 * Recording the same run twice (same backupId) changes nothing, so the daemon and the backup
 * command may both record it safely.
 */
export function applyRun(doc: ResultsDoc, report: RunReport, maxRuns = MAX_RUNS): ResultsDoc {
  if (doc.runs.some((r) => r.backupId === report.backupId)) return doc;
  if (report.notifications?.length) doc = applyNotifications(doc, report.notifications);
  const units = { ...doc.units };
  for (const u of report.units) {
    const prev = units[u.unit];
    const result = unitResult(report.backupId, u);
    // A run recorded late (older than what we have) still counts, but does not replace newer results.
    const newer = !prev || prev.last.startedAt <= result.startedAt;
    const lastSuccess =
      u.outcome === "ok" && (!prev?.lastSuccess || prev.lastSuccess.startedAt <= result.startedAt)
        ? result
        : prev?.lastSuccess;
    units[u.unit] = {
      unit: u.unit,
      kind: u.kind,
      last: newer || !prev ? result : prev.last,
      ...(lastSuccess ? { lastSuccess } : {}),
      successesTotal: (prev?.successesTotal ?? 0) + (u.outcome === "ok" ? 1 : 0),
      failuresTotal: (prev?.failuresTotal ?? 0) + (u.outcome === "failed" ? 1 : 0),
      skipsTotal: (prev?.skipsTotal ?? 0) + (u.outcome === "skipped" ? 1 : 0),
    };
  }
  const summary: RunSummary = {
    backupId: report.backupId,
    scope: report.scope,
    host: report.host,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    durationMs: report.durationMs,
    ok: report.ok,
    interrupted: report.interrupted,
    units: report.units.map((u) => ({ unit: u.unit, outcome: u.outcome })),
  };
  const runs = [...doc.runs, summary].sort((a, b) => a.startedAt.localeCompare(b.startedAt)).slice(
    -maxRuns,
  );
  const copies = applyCopies(doc.copies, report);
  return { ...doc, version: RESULTS_VERSION, runs, units, ...(copies ? { copies } : {}) };
}

/**
 * Folds notification deliveries into the per-target counters (the caller records each delivery
 * once: with its run through applyRun, or alone when the run ended without a report).
 */
export function applyNotifications(doc: ResultsDoc, results: readonly NotifyResult[]): ResultsDoc {
  if (results.length === 0) return doc;
  const notify = { ...(doc.notify ?? {}) };
  for (const r of results) {
    const prev = notify[r.target];
    notify[r.target] = {
      target: r.target,
      sentTotal: (prev?.sentTotal ?? 0) + (r.ok ? 1 : 0),
      failuresTotal: (prev?.failuresTotal ?? 0) + (r.ok ? 0 : 1),
      last: !prev || prev.last.at <= r.at ? r : prev.last,
      ...(!r.ok ? { lastFailure: r } : prev?.lastFailure ? { lastFailure: prev.lastFailure } : {}),
    };
  }
  return { ...doc, notify };
}

/**
 * A failed copy keeps what was known of the copy (its newest point) and how long it has been
 * behind: since the oldest point it is known to lack, else since this run (whose own point it
 * did not get), never later than an earlier failure said.
 */
function applyCopies(
  prev: Record<string, CopyRecord> | undefined,
  report: RunReport,
): Record<string, CopyRecord> | undefined {
  if (!report.copies?.length) return prev;
  const out = { ...prev };
  for (const c of report.copies) {
    const before = out[c.name];
    const newest = c.newest
      ? { newestBackupId: c.newest.backupId, newestTime: c.newest.time }
      : before?.newestBackupId !== undefined
      ? { newestBackupId: before.newestBackupId, newestTime: before.newestTime }
      : {};
    let behindSince = c.behindSince;
    if (!c.ok) {
      const candidates = [c.behindSince, before?.behindSince, report.startedAt]
        .filter((t): t is string => t !== undefined)
        .sort((a, b) => Date.parse(a) - Date.parse(b));
      behindSince = candidates[0];
    }
    out[c.name] = {
      name: c.name,
      lastAttemptAt: report.finishedAt,
      ok: c.ok,
      ...(c.error !== undefined ? { error: c.error } : {}),
      ...newest,
      ...(behindSince !== undefined ? { behindSince } : {}),
      failuresTotal: (before?.failuresTotal ?? 0) + (c.ok ? 0 : 1),
    };
  }
  return out;
}

/** Each copy target's lag in seconds at `now`: 0 when caught up. */
export function copyLag(c: CopyRecord, now: Date): number {
  return lagSeconds(c.behindSince, now);
}

/** Drops a unit (e.g. a stack removed from the host) so it no longer counts for /health. */
export function forgetUnit(doc: ResultsDoc, unit: string): ResultsDoc {
  const units = { ...doc.units };
  delete units[unit];
  return { ...doc, units };
}

/**
 * Parses the stored text. Returns undefined when it is not a results document (the caller
 * decides what to do with a damaged file); a missing file is the caller's `emptyResults()`.
 */
export function parseResults(text: string): ResultsDoc | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const r = raw as Partial<ResultsDoc>;
  if (
    r.version !== RESULTS_VERSION || !Array.isArray(r.runs) || typeof r.units !== "object" ||
    r.units === null
  ) {
    return undefined;
  }
  const notify = typeof r.notify === "object" && r.notify !== null && !Array.isArray(r.notify)
    ? { notify: r.notify }
    : {};
  const verify = typeof r.verify === "object" && r.verify !== null ? { verify: r.verify } : {};
  const copies = typeof r.copies === "object" && r.copies !== null && !Array.isArray(r.copies)
    ? { copies: r.copies }
    : {};
  return {
    version: RESULTS_VERSION,
    runs: r.runs,
    units: r.units,
    ...notify,
    ...verify,
    ...copies,
  };
}

/** The newest run, if any. */
export function lastRun(doc: ResultsDoc): RunSummary | undefined {
  return doc.runs[doc.runs.length - 1];
}
