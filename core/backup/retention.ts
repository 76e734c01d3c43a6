/**
 * Retention as a pure decision over whole restore points (docs/backup.md, "Retention"): which of
 * one unit's points on one host to keep and which to forget. A point is kept or forgotten whole,
 * so every kept point still has its recipe and every volume and bind it saved.
 *
 * The rules are restic's `forget --keep-*` buckets (latest, hourly, daily, weekly, monthly,
 * yearly; anything kept by any rule stays), computed in UTC so results do not depend on the host's
 * time zone, and applied to complete points only. The newest complete point is always kept, even
 * by an all-zero policy. An incomplete point counts for no rule: it is kept while no newer
 * complete point exists (it may be all there is), then forgotten with a note. Pre-restore (undo)
 * points are never forgotten by retention.
 */
import type { RetentionPolicy } from "../ports.ts";
import type { SnapshotInfo } from "../model.ts";
import { isUsable, type RestorePoint } from "../restore/points.ts";

export interface RetentionDecision<T = SnapshotInfo> {
  keep: T[];
  forget: T[];
}

export interface PointDecision extends RetentionDecision<RestorePoint> {
  /** One line per point forgotten for another reason than the rules (incomplete points). */
  notes: string[];
}

const BUCKETS: [keyof RetentionPolicy, (d: Date) => string][] = [
  ["hourly", (d) => d.toISOString().slice(0, 13)],
  ["daily", (d) => d.toISOString().slice(0, 10)],
  ["weekly", (d) => isoWeek(d)],
  ["monthly", (d) => d.toISOString().slice(0, 7)],
  ["yearly", (d) => d.toISOString().slice(0, 4)],
];

/** The rules over anything with a time; `keyOf` names an item. The newest one is always kept. */
function keptBy<T>(
  items: readonly T[],
  policy: RetentionPolicy,
  timeOf: (t: T) => string,
  keyOf: (t: T) => string,
): { sorted: T[]; kept: Set<string> } {
  const sorted = [...items].sort((a, b) =>
    Date.parse(timeOf(b)) - Date.parse(timeOf(a)) || keyOf(b).localeCompare(keyOf(a))
  );
  const kept = new Set<string>();
  if (sorted.length > 0) kept.add(keyOf(sorted[0]));
  sorted.slice(0, policy.latest ?? 0).forEach((s) => kept.add(keyOf(s)));
  for (const [rule, bucketOf] of BUCKETS) {
    let remaining = policy[rule] ?? 0;
    let lastBucket: string | undefined;
    for (const s of sorted) {
      if (remaining <= 0) break;
      const bucket = bucketOf(new Date(timeOf(s)));
      if (bucket === lastBucket) continue;
      lastBucket = bucket;
      kept.add(keyOf(s));
      remaining--;
    }
  }
  return { sorted, kept };
}

/** The rules over single snapshots (kept for callers that decide on one snapshot series). */
export function applyRetention(
  snapshots: readonly SnapshotInfo[],
  policy: RetentionPolicy,
): RetentionDecision {
  const { sorted, kept } = keptBy(snapshots, policy, (s) => s.time, (s) => s.id);
  return {
    keep: sorted.filter((s) => kept.has(s.id)),
    forget: sorted.filter((s) => !kept.has(s.id)),
  };
}

const pointKey = (p: RestorePoint) => `${p.host}\u0000${p.unit}\u0000${p.backupId}`;

/**
 * Decides per restore point. `points` may hold several hosts and units: each unit + host is its
 * own series, so hosts sharing a repository never prune each other. `policies` are the policies
 * of the items a backup of the unit saves (unit retention, a volume's own): a point stays when any
 * of them keeps it, so a volume's longer retention keeps whole points longer. No policy at all
 * keeps every complete point.
 */
export function planRetention(
  points: readonly RestorePoint[],
  policies: readonly RetentionPolicy[],
): PointDecision {
  const series = new Map<string, RestorePoint[]>();
  for (const p of points) {
    if (p.kind !== "backup") continue; // undo points: kept until removed by hand
    const key = `${p.host}\u0000${p.unit}`;
    series.set(key, [...(series.get(key) ?? []), p]);
  }
  const keep: RestorePoint[] = [];
  const forget: RestorePoint[] = [];
  const notes: string[] = [];
  for (const group of series.values()) {
    const usable = group.filter(isUsable);
    const kept = new Set<string>();
    if (policies.length === 0) usable.forEach((p) => kept.add(pointKey(p)));
    for (const policy of policies) {
      keptBy(usable, policy, (p) => p.time, pointKey).kept.forEach((k) => kept.add(k));
    }
    const newestUsable = usable.reduce<string | undefined>(
      (m, p) => (m === undefined || p.time > m ? p.time : m),
      undefined,
    );
    for (const p of group) {
      if (isUsable(p)) {
        (kept.has(pointKey(p)) ? keep : forget).push(p);
      } else if (newestUsable !== undefined && newestUsable > p.time) {
        forget.push(p);
        notes.push(
          `forgot incomplete restore point ${p.backupId} (${p.snapshots.length} snapshot(s): ${
            p.problems.join("; ")
          }); the newer complete point ${
            usable.find((u) => u.time === newestUsable)!.backupId
          } covers it`,
        );
      } else {
        keep.push(p);
      }
    }
  }
  const newestFirst = (a: RestorePoint, b: RestorePoint) =>
    b.time.localeCompare(a.time) || b.backupId.localeCompare(a.backupId);
  return { keep: keep.sort(newestFirst), forget: forget.sort(newestFirst), notes };
}

function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86400000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}
