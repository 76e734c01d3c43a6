/**
 * The run summary every notification carries (the webhook's JSON, the command's stdin, the text of
 * ntfy, healthchecks and mail) and which event a finished run is: failure, warning or success.
 * Pure. Error texts pass through core/secrets.ts's rules once more: a summary leaves the host.
 */
import type { NotifyEventName } from "../config/schema.ts";
import type { RunReport, UnitReport } from "../report.ts";
import { redactText } from "../secrets.ts";
import { VERSION } from "../version.ts";

/** What a summary reports: a run's events, plus `test` for `admin notify test`. */
export type NotifyEvent = NotifyEventName | "test";
export type NotifyOperation = "backup" | "restore" | "recovery-bundle" | "test";

export interface UnitSummary {
  unit: string;
  outcome: UnitReport["outcome"] | "restored";
  error?: string;
  skip_reason?: string;
  /** First stop to last start. */
  downtime_seconds?: number;
  duration_seconds?: number;
  bytes_read?: number;
  bytes_added?: number;
  snapshots?: number;
  warnings: string[];
}

/** The document: `stowage_summary: 1` marks its shape for receivers (docs/notify.md). */
export interface NotifySummary {
  stowage_summary: 1;
  stowage_version: string;
  event: NotifyEvent;
  operation: NotifyOperation;
  host: string;
  backup_id?: string;
  ok: boolean;
  at: string;
  started_at?: string;
  finished_at?: string;
  duration_seconds?: number;
  units: UnitSummary[];
  /** Every error of the run, one line each (`unit: message` for a unit's). */
  errors: string[];
  warnings: string[];
  recovery_bundle?: { path?: string; error?: string };
}

const secs = (ms: number | undefined) => ms === undefined ? undefined : Math.round(ms) / 1000;
const clean = (s: string) => redactText(s).replace(/[\r\n]+/g, " ").slice(0, 2000);

/** failure when the run failed (a unit, the bundle, an interruption); warning when a unit warned. */
export function outcomeEvent(report: Pick<RunReport, "ok" | "units">): NotifyEventName {
  if (!report.ok || report.units.some((u) => u.outcome === "failed")) return "failure";
  // Coverage gaps are standing facts doctor and dry-run report; a warning is what went wrong now.
  if (report.units.some((u) => u.warnings.length > 0)) return "warning";
  return "success";
}

/** A finished backup run's summary. */
export function backupSummary(report: RunReport): NotifySummary {
  const event = outcomeEvent(report);
  const errors = report.units.flatMap((u) => u.error ? [`${u.unit}: ${clean(u.error)}`] : []);
  if (report.recoveryBundle?.error) {
    errors.push(`recovery bundle: ${clean(report.recoveryBundle.error)}`);
  }
  if (report.interrupted) errors.push("the run was interrupted");
  return {
    stowage_summary: 1,
    stowage_version: VERSION,
    event,
    operation: "backup",
    host: report.host,
    backup_id: report.backupId,
    ok: event !== "failure",
    at: report.finishedAt,
    started_at: report.startedAt,
    finished_at: report.finishedAt,
    duration_seconds: secs(report.durationMs),
    units: report.units.map((u) => ({
      unit: u.unit,
      outcome: u.outcome,
      ...(u.error !== undefined ? { error: clean(u.error) } : {}),
      ...(u.skipReason !== undefined ? { skip_reason: clean(u.skipReason) } : {}),
      ...(u.downtimeMs !== undefined ? { downtime_seconds: secs(u.downtimeMs) } : {}),
      duration_seconds: secs(u.durationMs),
      bytes_read: u.bytesRead,
      bytes_added: u.bytesAdded,
      snapshots: u.snapshots.length,
      warnings: u.warnings.map(clean),
    })),
    errors,
    warnings: report.units.flatMap((u) => u.warnings.map((w) => `${u.unit}: ${clean(w)}`)),
    ...(report.recoveryBundle
      ? {
        recovery_bundle: {
          ...(report.recoveryBundle.path ? { path: report.recoveryBundle.path } : {}),
          ...(report.recoveryBundle.error ? { error: clean(report.recoveryBundle.error) } : {}),
        },
      }
      : {}),
  };
}

/** A run that is about to stop containers (or a test message). */
export function startSummary(
  info: {
    operation: NotifyOperation;
    host: string;
    at: Date;
    units?: string[];
    event?: NotifyEvent;
  },
): NotifySummary {
  return {
    stowage_summary: 1,
    stowage_version: VERSION,
    event: info.event ?? "start",
    operation: info.operation,
    host: info.host,
    ok: true,
    at: info.at.toISOString(),
    started_at: info.at.toISOString(),
    units: (info.units ?? []).map((unit) => ({ unit, outcome: "ok" as const, warnings: [] })),
    errors: [],
    warnings: [],
  };
}

/** A run that ended in an error before it could report per unit (repository down, lock held...). */
export function errorSummary(
  info: { operation: NotifyOperation; host: string; startedAt: Date; at: Date; error: string },
): NotifySummary {
  return {
    stowage_summary: 1,
    stowage_version: VERSION,
    event: "failure",
    operation: info.operation,
    host: info.host,
    ok: false,
    at: info.at.toISOString(),
    started_at: info.startedAt.toISOString(),
    finished_at: info.at.toISOString(),
    duration_seconds: secs(info.at.getTime() - info.startedAt.getTime()),
    units: [],
    errors: [clean(info.error)],
    warnings: [],
  };
}

const VERB: Record<NotifyEvent, string> = {
  failure: "FAILED",
  warning: "succeeded with warnings",
  success: "succeeded",
  start: "started",
  test: "test message",
};

/** One line: "stowage backup FAILED on host1: 1 of 3 units failed". */
export function summaryTitle(s: NotifySummary): string {
  const what = s.operation === "test" ? "stowage" : `stowage ${s.operation}`;
  const head = `${what} ${VERB[s.event]} on ${s.host}`;
  if (s.event === "start" || s.event === "test") return head;
  const failed = s.units.filter((u) => u.outcome === "failed").length;
  if (failed > 0) return `${head}: ${failed} of ${s.units.length} units failed`;
  if (s.event === "failure" && s.errors.length > 0) return `${head}: ${cut(s.errors[0], 120)}`;
  return `${head}: ${s.units.length} unit${s.units.length === 1 ? "" : "s"}`;
}

function cut(s: string, n: number) {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

const bytes = (n: number | undefined) => {
  if (n === undefined) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
};

/** The text body: the title, then one line per unit, errors and warnings. */
export function summaryText(s: NotifySummary): string {
  const lines = [summaryTitle(s)];
  if (s.backup_id) lines.push(`backup ${s.backup_id}`);
  if (s.duration_seconds !== undefined) lines.push(`took ${s.duration_seconds} s`);
  if (s.event === "test") lines.push("This is a test message from `stowage admin notify test`.");
  if (s.event !== "start" && s.event !== "test") {
    for (const u of s.units) {
      const down = u.downtime_seconds !== undefined ? `, down ${u.downtime_seconds} s` : "";
      const added = u.bytes_added !== undefined ? `, added ${bytes(u.bytes_added)}` : "";
      lines.push(
        `- ${u.unit}: ${u.outcome}${down}${added}${u.error ? `: ${u.error}` : ""}${
          u.skip_reason ? ` (${u.skip_reason})` : ""
        }`,
      );
    }
  } else if (s.units.length > 0) {
    lines.push(`units: ${s.units.map((u) => u.unit).join(", ")}`);
  }
  const unitErrors = new Set(s.units.flatMap((u) => u.error ? [`${u.unit}: ${u.error}`] : []));
  for (const e of s.errors.filter((e) => !unitErrors.has(e))) lines.push(`error: ${e}`);
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  if (s.recovery_bundle?.path) lines.push(`recovery bundle: ${s.recovery_bundle.path}`);
  return lines.join("\n") + "\n";
}

/** What a restore summary needs of core/restore/run.ts's report. */
export interface RestoreOutcome {
  unit: string;
  backupId: string;
  ok: boolean;
  error?: { message: string };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  warnings: string[];
}

/** A finished restore's summary: failure, warning (it warned) or success. */
export function restoreSummary(r: RestoreOutcome, host: string): NotifySummary {
  const event: NotifyEventName = !r.ok ? "failure" : r.warnings.length > 0 ? "warning" : "success";
  const error = r.error ? clean(r.error.message) : undefined;
  return {
    stowage_summary: 1,
    stowage_version: VERSION,
    event,
    operation: "restore",
    host,
    backup_id: r.backupId,
    ok: r.ok,
    at: r.finishedAt,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    duration_seconds: secs(r.durationMs),
    units: [{
      unit: r.unit,
      outcome: r.ok ? "restored" : "failed",
      ...(error ? { error } : {}),
      duration_seconds: secs(r.durationMs),
      warnings: r.warnings.map(clean),
    }],
    errors: error ? [`${r.unit}: ${error}`] : [],
    warnings: r.warnings.map((w) => `${r.unit}: ${clean(w)}`),
  };
}
