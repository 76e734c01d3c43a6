/**
 * Retention as a pure decision: given a group's snapshots and a policy, which to keep and which to
 * forget. Same buckets as restic's `forget --keep-*` (latest, hourly, daily, weekly, monthly,
 * yearly; a snapshot kept by any rule stays), computed in UTC so results do not depend on the
 * host's time zone. A group's newest snapshot is always kept, even by an all-zero policy.
 */
import type { RetentionPolicy } from "../ports.ts";
import type { SnapshotInfo } from "../model.ts";

export interface RetentionDecision {
  keep: SnapshotInfo[];
  forget: SnapshotInfo[];
}

const BUCKETS: [keyof RetentionPolicy, (d: Date) => string][] = [
  ["hourly", (d) => d.toISOString().slice(0, 13)],
  ["daily", (d) => d.toISOString().slice(0, 10)],
  ["weekly", (d) => isoWeek(d)],
  ["monthly", (d) => d.toISOString().slice(0, 7)],
  ["yearly", (d) => d.toISOString().slice(0, 4)],
];

export function applyRetention(
  snapshots: readonly SnapshotInfo[],
  policy: RetentionPolicy,
): RetentionDecision {
  const sorted = [...snapshots].sort((a, b) =>
    Date.parse(b.time) - Date.parse(a.time) || b.id.localeCompare(a.id)
  );
  const kept = new Set<string>();
  if (sorted.length > 0) kept.add(sorted[0].id); // never remove a group's last snapshot
  sorted.slice(0, policy.latest ?? 0).forEach((s) => kept.add(s.id));
  for (const [rule, bucketOf] of BUCKETS) {
    let remaining = policy[rule] ?? 0;
    let lastBucket: string | undefined;
    for (const s of sorted) {
      if (remaining <= 0) break;
      const bucket = bucketOf(new Date(s.time));
      if (bucket === lastBucket) continue;
      lastBucket = bucket;
      kept.add(s.id);
      remaining--;
    }
  }
  return {
    keep: sorted.filter((s) => kept.has(s.id)),
    forget: sorted.filter((s) => !kept.has(s.id)),
  };
}

/** Groups stowage snapshots the way retention applies: unit, type, and volume or path. */
export function retentionGroups(snapshots: readonly SnapshotInfo[]): Map<string, SnapshotInfo[]> {
  const groups = new Map<string, SnapshotInfo[]>();
  for (const s of snapshots) {
    if (!s.unit || !s.type || s.type === "pre-restore") continue; // undo points are kept until removed by hand
    const key = groupKey(s);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return groups;
}

export function groupKey(s: Pick<SnapshotInfo, "unit" | "type" | "volume" | "path">): string {
  return [s.unit, s.type, s.volume ?? s.path ?? ""].join("\u0000");
}

function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86400000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}
