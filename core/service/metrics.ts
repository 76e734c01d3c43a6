/**
 * /metrics in the Prometheus text exposition format (0.0.4), pure: from the results document and
 * what the daemon knows now. Per unit the "last_*" gauges describe the last attempt; the
 * last-success timestamp is what alerts should watch.
 */
import type { HealthVerdict } from "./health.ts";
import { copyLag, type ResultsDoc } from "./results.ts";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface RepositoryInfo {
  /** Raw bytes stored in the repository (restic `stats --mode raw-data`). */
  sizeBytes?: number;
  /** Snapshots per unit in the repository. */
  snapshotsByUnit?: Record<string, number>;
  checkedAt: string;
}

export interface MetricsInput {
  results: ResultsDoc;
  version: string;
  health: HealthVerdict;
  running: boolean;
  uptimeSeconds?: number;
  repository?: RepositoryInfo;
  /** For the copies' lag; without it the lag is as of their last attempt. */
  now?: Date;
}

type Labels = Record<string, string>;
interface Family {
  name: string;
  type: "gauge" | "counter";
  help: string;
  samples: { labels: Labels; value: number }[];
}

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export function renderFamilies(families: Family[]): string {
  let out = "";
  for (const f of families) {
    if (f.samples.length === 0) continue;
    out += `# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n`;
    out += `# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      const keys = Object.keys(s.labels);
      const labels = keys.length
        ? `{${keys.map((k) => `${k}="${escapeLabelValue(s.labels[k])}"`).join(",")}}`
        : "";
      out += `${f.name}${labels} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}

const seconds = (iso: string) => new Date(iso).getTime() / 1000;

export function renderMetrics(input: MetricsInput): string {
  return renderFamilies([
    ...daemonFamilies(input),
    ...unitFamilies(input),
    ...verifyFamilies(input.results),
    ...notifyFamilies(input.results),
    ...repositoryFamilies(input),
    ...copyFamilies(input),
  ]);
}

/** The daemon itself: version, health, a backup running, uptime. */
function daemonFamilies(input: MetricsInput): Family[] {
  return [
    {
      name: "stowage_info",
      type: "gauge",
      help: "stowage version (always 1).",
      samples: [{ labels: { version: input.version }, value: 1 }],
    },
    {
      name: "stowage_healthy",
      type: "gauge",
      help: "1 when /health answers 200: every unit's last backup is good and fresh.",
      samples: [{ labels: {}, value: input.health.healthy ? 1 : 0 }],
    },
    {
      name: "stowage_backup_running",
      type: "gauge",
      help: "1 while the daemon runs a backup.",
      samples: [{ labels: {}, value: input.running ? 1 : 0 }],
    },
    {
      name: "stowage_uptime_seconds",
      type: "gauge",
      help: "Seconds since the daemon started.",
      samples: input.uptimeSeconds === undefined
        ? []
        : [{ labels: {}, value: Math.floor(input.uptimeSeconds) }],
    },
  ];
}

/** Backups per unit, in unit order. */
function unitFamilies(input: MetricsInput): Family[] {
  const units = Object.values(input.results.units).sort((a, b) => a.unit.localeCompare(b.unit));
  const per = (fn: (u: (typeof units)[number]) => number | undefined) =>
    units.flatMap((u) => {
      const v = fn(u);
      return v === undefined ? [] : [{ labels: { unit: u.unit }, value: v }];
    });
  return [
    {
      name: "stowage_unit_last_success_timestamp_seconds",
      type: "gauge",
      help: "Unix time the unit's last successful backup finished.",
      samples: per((u) => (u.lastSuccess ? seconds(u.lastSuccess.finishedAt) : undefined)),
    },
    {
      name: "stowage_unit_last_run_timestamp_seconds",
      type: "gauge",
      help: "Unix time the unit's last backup attempt finished.",
      samples: per((u) => seconds(u.last.finishedAt)),
    },
    {
      name: "stowage_unit_last_run_success",
      type: "gauge",
      help: "1 when the unit's last backup attempt succeeded, 0 when it failed or was skipped.",
      samples: per((u) => (u.last.outcome === "ok" ? 1 : 0)),
    },
    {
      name: "stowage_unit_last_duration_seconds",
      type: "gauge",
      help: "Duration of the unit's last backup attempt.",
      samples: per((u) => u.last.durationMs / 1000),
    },
    {
      name: "stowage_unit_last_downtime_seconds",
      type: "gauge",
      help: "Seconds the unit's containers were stopped during its last backup attempt.",
      samples: per((u) => (u.last.downtimeMs === undefined ? undefined : u.last.downtimeMs / 1000)),
    },
    {
      name: "stowage_unit_last_added_bytes",
      type: "gauge",
      help: "Bytes the unit's last backup attempt added to the repository.",
      samples: per((u) => u.last.bytesAdded),
    },
    {
      name: "stowage_unit_last_snapshots",
      type: "gauge",
      help: "Snapshots the unit's last backup attempt made.",
      samples: per((u) => u.last.snapshotIds.length),
    },
    {
      name: "stowage_unit_snapshots",
      type: "gauge",
      help: "Snapshots of the unit in the repository (when the daemon has counted them).",
      samples: units.flatMap((u) => {
        const n = input.repository?.snapshotsByUnit?.[u.unit];
        return n === undefined ? [] : [{ labels: { unit: u.unit }, value: n }];
      }),
    },
    {
      name: "stowage_unit_successes_total",
      type: "counter",
      help: "Backup attempts of the unit that succeeded.",
      samples: per((u) => u.successesTotal),
    },
    {
      name: "stowage_unit_failures_total",
      type: "counter",
      help: "Backup attempts of the unit that failed.",
      samples: per((u) => u.failuresTotal),
    },
  ];
}

/** Notification targets. */
function notifyFamilies(results: ResultsDoc): Family[] {
  const notifyTargets = Object.values(results.notify ?? {}).sort((a, b) =>
    a.target.localeCompare(b.target)
  );
  return [
    {
      name: "stowage_notify_failures_total",
      type: "counter",
      help: "Notifications to the target that failed after every retry (the backup went on).",
      samples: notifyTargets.map((n) => ({ labels: { target: n.target }, value: n.failuresTotal })),
    },
    {
      name: "stowage_notify_sent_total",
      type: "counter",
      help: "Notifications the target accepted.",
      samples: notifyTargets.map((n) => ({ labels: { target: n.target }, value: n.sentTotal })),
    },
  ];
}

/** The repository, when the daemon has measured it. */
function repositoryFamilies(input: MetricsInput): Family[] {
  return [
    {
      name: "stowage_repository_size_bytes",
      type: "gauge",
      help: "Bytes stored in the repository (restic raw data), when known.",
      samples: input.repository?.sizeBytes === undefined
        ? []
        : [{ labels: {}, value: input.repository.sizeBytes }],
    },
  ];
}

/** Restore drills (`stowage verify`) per unit. */
function verifyFamilies(results: ResultsDoc): Family[] {
  const drills = Object.values(results.verify ?? {}).sort((a, b) => a.unit.localeCompare(b.unit));
  const per = (fn: (v: (typeof drills)[number]) => number | undefined) =>
    drills.flatMap((v) => {
      const x = fn(v);
      return x === undefined ? [] : [{ labels: { unit: v.unit }, value: x }];
    });
  return [
    {
      name: "stowage_verify_last_success_timestamp_seconds",
      type: "gauge",
      help: "Unix time the unit's last successful restore drill finished.",
      samples: per((v) => (v.lastSuccess ? seconds(v.lastSuccess.finishedAt) : undefined)),
    },
    {
      name: "stowage_verify_recovery_seconds",
      type: "gauge",
      help:
        "Recovery time the unit's last successful restore drill measured (restore and start until healthy).",
      samples: per((v) => v.lastSuccess?.recoverySeconds),
    },
    {
      name: "stowage_verify_failures_total",
      type: "counter",
      help: "Restore drills of the unit that failed or could not run.",
      samples: per((v) => v.failuresTotal),
    },
  ];
}

/** Per copy target (config `copies:`, docs/copies.md). */
function copyFamilies(input: MetricsInput): Family[] {
  const copies = Object.values(input.results.copies ?? {}).sort((a, b) =>
    a.name.localeCompare(b.name)
  );
  return [
    {
      name: "stowage_copy_lag_seconds",
      type: "gauge",
      help:
        "Seconds since the oldest restore point the copy lacks was made; 0 when the copy has every point.",
      samples: copies.map((c) => ({
        labels: { target: c.name },
        value: copyLag(c, input.now ?? new Date(c.lastAttemptAt)),
      })),
    },
    {
      name: "stowage_copy_last_success",
      type: "gauge",
      help: "1 when the last copy to the target succeeded.",
      samples: copies.map((c) => ({ labels: { target: c.name }, value: c.ok ? 1 : 0 })),
    },
    {
      name: "stowage_copy_failures_total",
      type: "counter",
      help: "Copies to the target that failed.",
      samples: copies.map((c) => ({ labels: { target: c.name }, value: c.failuresTotal })),
    },
  ];
}
