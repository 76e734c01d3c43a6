/**
 * Copies to other repositories (docs/copies.md), the pure decisions: which of this host's restore
 * points a copy lacks, in which order their snapshots go over, and how far behind the copy is.
 * Snapshot lists in, data out; app/copies.ts runs `restic copy` with the answer.
 *
 * A point goes over in two passes: first every snapshot of every missing point (and the saved
 * images), then, only once all of that is there, the points' completion markers. A copy that
 * breaks off midway therefore leaves points without markers, which every reader of the copy
 * (restore, retention, the next copy run) judges incomplete, never a point that looks complete and
 * is not.
 */
import type { SnapshotInfo } from "../model.ts";
import type { RetentionPolicy } from "../ports.ts";
import { isUsable, type RestorePoint, restorePoints, unitsIn } from "../restore/points.ts";
import { planRetention } from "../backup/retention.ts";
import { IMAGES_UNIT } from "../internal_units.ts";

/** One restore point the copy lacks (or holds incompletely). */
export interface PointToCopy {
  unit: string;
  backupId: string;
  /** Run start (ISO 8601 UTC), for the lag. */
  time: string;
  /** Primary snapshot ids still missing on the copy, without the marker. */
  data: string[];
  /** The primary's completion marker id, when the point has one and the copy lacks it. */
  marker?: string;
}

export interface CopyPlan {
  /** Oldest first, so a copy that breaks off has the older points done. */
  points: PointToCopy[];
  /** Saved-image snapshots (`unit=_images`) of this host the copy lacks. */
  images: string[];
  /** First `restic copy`: the images, then every point's data snapshots. */
  first: string[];
  /** Second `restic copy`, only after the first succeeded: the markers. */
  second: string[];
  /**
   * Points not copied although the copy lacks them: older than the newest point the copy already
   * holds for their unit (retention there forgot them, or they predate the copy), or not kept by
   * the copy's retention anyway. One line each for the log.
   */
  skipped: string[];
}

export interface CopyPlanInput {
  /** The primary repository's snapshots (parsed tags). */
  primary: SnapshotInfo[];
  /** The copy's snapshots; `original` names the primary snapshot each was copied from. */
  copy: SnapshotInfo[];
  /** Only this host's points are copied: hosts sharing a repository each copy their own. */
  host: string;
  /** The copy's retention (no policy: every point is kept). */
  policies: RetentionPolicy[];
}

const key = (p: { unit: string; backupId: string }) => `${p.unit}\u0000${p.backupId}`;

/** Whole restore points of this host, per unit (internal image snapshots excluded). */
function pointsOf(snapshots: SnapshotInfo[], host: string): RestorePoint[] {
  const mine = snapshots.filter((s) => s.hostname === host && !s.invalid);
  return unitsIn(mine)
    .filter((u) => u !== IMAGES_UNIT)
    .flatMap((u) => restorePoints(mine, u))
    .filter((p) => p.kind === "backup");
}

export function planCopy(input: CopyPlanInput): CopyPlan {
  const onCopy = new Set(input.copy.map((s) => s.original).filter((o): o is string => !!o));
  const copyPoints = pointsOf(input.copy, input.host);
  const completeOnCopy = new Set(copyPoints.filter(isUsable).map(key));
  const newestOnCopy = new Map<string, string>();
  for (const p of copyPoints.filter(isUsable)) {
    const t = newestOnCopy.get(p.unit);
    if (t === undefined || p.time > t) newestOnCopy.set(p.unit, p.time);
  }

  const skipped: string[] = [];
  const candidates: RestorePoint[] = [];
  for (const p of pointsOf(input.primary, input.host)) {
    // Only points worth having: a point incomplete on the primary is incomplete on the copy too.
    if (!isUsable(p) || completeOnCopy.has(key(p))) continue;
    const newest = newestOnCopy.get(p.unit);
    if (newest !== undefined && p.time < newest) {
      skipped.push(
        `${p.unit} ${p.backupId}: older than the copy's newest point of the unit (${newest})`,
      );
      continue;
    }
    candidates.push(p);
  }
  // What the copy's retention would keep among its points and the candidates: no point is copied
  // only to be forgotten right after (a copy added to a primary with years of points).
  const candidateKeys = new Set(candidates.map(key));
  const kept = new Set(
    planRetention(
      [...copyPoints.filter((p) => !candidateKeys.has(key(p))), ...candidates],
      input.policies,
    ).keep.map(key),
  );
  const points: PointToCopy[] = [];
  for (const p of candidates) {
    if (!kept.has(key(p))) {
      skipped.push(`${p.unit} ${p.backupId}: the copy's retention would not keep it`);
      continue;
    }
    const missing = p.snapshots.filter((s) => !onCopy.has(s.id));
    points.push({
      unit: p.unit,
      backupId: p.backupId,
      time: p.time,
      data: missing.filter((s) => s !== p.marker).map((s) => s.id).sort(),
      ...(p.marker && missing.includes(p.marker) ? { marker: p.marker.id } : {}),
    });
  }
  points.sort((a, b) =>
    a.time.localeCompare(b.time) || a.backupId.localeCompare(b.backupId) ||
    a.unit.localeCompare(b.unit)
  );

  const images = points.length === 0 ? [] : input.primary
    .filter((s) =>
      s.hostname === input.host && !s.invalid && s.unit === IMAGES_UNIT && s.type === "image" &&
      !onCopy.has(s.id)
    )
    .map((s) => s.id)
    .sort();
  return {
    points,
    images,
    first: [...images, ...points.flatMap((p) => p.data)],
    second: points.flatMap((p) => (p.marker ? [p.marker] : [])),
    skipped,
  };
}

/** The newest complete point on the copy (of this host), across units. */
export function newestCopied(
  copy: SnapshotInfo[],
  host: string,
): { backupId: string; time: string } | undefined {
  let best: RestorePoint | undefined;
  for (const p of pointsOf(copy, host).filter(isUsable)) {
    if (!best || p.time > best.time) best = p;
  }
  return best ? { backupId: best.backupId, time: best.time } : undefined;
}

/**
 * Since when the copy lacks a point it should hold: the oldest planned point's time, or undefined
 * when the plan is empty (the copy is caught up). The lag is now minus this.
 */
export function behindSince(plan: CopyPlan): string | undefined {
  return plan.points.length ? plan.points[0].time : undefined;
}

/** The lag in seconds at `now`: 0 when caught up. */
export function lagSeconds(since: string | undefined, now: Date): number {
  if (since === undefined) return 0;
  const t = Date.parse(since);
  return Number.isFinite(t) ? Math.max(0, Math.floor((now.getTime() - t) / 1000)) : 0;
}
