/**
 * Restore drills in the results document: per unit the last drill, the last successful one and
 * the counters that /status and /metrics show (`stowage verify` records every drill). Pure.
 */
import type { ResultsDoc } from "./results.ts";

/** One drill of one unit, as the results document keeps it. */
export interface VerifyResult {
  unit: string;
  runId: string;
  backupId?: string;
  startedAt: string;
  finishedAt: string;
  status: "healthy" | "failed" | "unverifiable";
  /** First sandbox object created -> every container ready. */
  recoverySeconds?: number;
  error?: string;
  /** The services that did not come up, e.g. `app unhealthy`. */
  failing?: string[];
}

export interface VerifyRecord {
  unit: string;
  last: VerifyResult;
  lastSuccess?: VerifyResult;
  successesTotal: number;
  /** Failed and unverifiable drills. */
  failuresTotal: number;
}

/** Folds one drill in; the same run id twice changes nothing. Returns a new document. */
export function applyVerify(doc: ResultsDoc, r: VerifyResult): ResultsDoc {
  const all = { ...(doc.verify ?? {}) };
  const prev = all[r.unit];
  if (prev && (prev.last.runId === r.runId || prev.lastSuccess?.runId === r.runId)) return doc;
  const ok = r.status === "healthy";
  const newer = !prev || prev.last.startedAt <= r.startedAt;
  const lastSuccess = ok && (!prev?.lastSuccess || prev.lastSuccess.startedAt <= r.startedAt)
    ? r
    : prev?.lastSuccess;
  all[r.unit] = {
    unit: r.unit,
    last: newer ? r : prev.last,
    ...(lastSuccess ? { lastSuccess } : {}),
    successesTotal: (prev?.successesTotal ?? 0) + (ok ? 1 : 0),
    failuresTotal: (prev?.failuresTotal ?? 0) + (ok ? 0 : 1),
  };
  return { ...doc, verify: all };
}

/** /status: per unit the last drill (time, outcome, recovery time) and the last success. */
export function verifyStatus(doc: ResultsDoc) {
  return Object.values(doc.verify ?? {}).sort((a, b) => a.unit.localeCompare(b.unit)).map((v) => ({
    unit: v.unit,
    last: {
      time: v.last.finishedAt,
      backupId: v.last.backupId ?? null,
      outcome: v.last.status,
      recoverySeconds: v.last.recoverySeconds ?? null,
      error: v.last.error ?? null,
    },
    lastSuccessAt: v.lastSuccess?.finishedAt ?? null,
    lastRecoverySeconds: v.lastSuccess?.recoverySeconds ?? null,
    successesTotal: v.successesTotal,
    failuresTotal: v.failuresTotal,
  }));
}
