/**
 * Two small decisions that keep restic calls out of the downtime (issue 11): which snapshot each
 * data item is compared against (`--parent`), and the full ids of snapshots restic reported by
 * their short id, resolved from one listing after the containers run again. Pure: data in, data out.
 */
import type { ResticSnapshot } from "../ports.ts";
import type { SnapshotInfo } from "../model.ts";
import { isUsable, restorePoints } from "../restore/points.ts";
import { StowageError } from "../errors.ts";

/** The key of a data item in a parent map: its kind and its volume name or bind path. */
export function itemKey(kind: "volume" | "bind", name: string): string {
  return `${kind}\u0000${name}`;
}

const SNAPSHOT_ID = /^[0-9a-f]{64}$/;

/**
 * The parent for each data item: its snapshot in the newest usable restore point of this unit made
 * by this host (a directory backup only; a tar stream has no files to compare). Items the point
 * lacks get none, and restic reads them whole. Ids that are not restic ids are never passed on.
 */
export function chooseParents(
  snapshots: SnapshotInfo[],
  unit: string,
  host: string,
): Map<string, string> {
  const mine = snapshots.filter((s) => s.hostname === host && !s.invalid);
  const point = restorePoints(mine, unit).find((p) => p.kind === "backup" && isUsable(p));
  const parents = new Map<string, string>();
  for (const d of [...(point?.volumes ?? []), ...(point?.binds ?? [])]) {
    if (d.source === "dir" && SNAPSHOT_ID.test(d.snapshot.id)) {
      parents.set(itemKey(d.kind, d.name), d.snapshot.id);
    }
  }
  return parents;
}

/**
 * Full ids for the short ids restic 0.14 reported, from one `snapshots` listing that holds them.
 * A short id that matches no snapshot or more than one is an error: the marker must name exact ids.
 */
export function resolveShortIds(shortIds: string[], listed: ResticSnapshot[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of shortIds) {
    if (SNAPSHOT_ID.test(id)) {
      out.set(id, id);
      continue;
    }
    const match = listed.filter((s) => SNAPSHOT_ID.test(s.id) && s.id.startsWith(id));
    if (match.length !== 1 || id.length < 8) {
      throw new StowageError(
        "repo.error",
        `Cannot look up the snapshot restic just saved (${id}): ${match.length} matches`,
        "List the snapshots with `stowage admin snapshot list`.",
      );
    }
    out.set(id, match[0].id);
  }
  return out;
}
