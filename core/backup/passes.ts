/**
 * One restic pass per unit for its data (issue 11, format 3): which of a unit's volume folders and
 * bind mounts one restic process saves together into one `type=data` snapshot, and which snapshot
 * that process compares with (`--parent`). Every restic process pays for the repository's key
 * derivation and index load, so a unit's downtime should pay for it once, not once per folder.
 * Pure: plan items and snapshot lists in, data out.
 */
import type { DataItem, SnapshotInfo } from "../model.ts";
import { isUsable, restorePoints } from "../restore/points.ts";
import { nests } from "../data_tags.ts";
import { normalizePath } from "../safe_paths.ts";
import type { PlanItem } from "./plan.ts";

/** Folders saved by one restic process into one `type=data` snapshot. */
export interface DataPass {
  items: PlanItem[];
  /** One host path per item, in item order: restic's arguments. */
  paths: string[];
  /** restic exclude patterns; the same for every item of the pass. */
  excludes: string[];
  /** The snapshot's `item=` tags: which path is which volume or bind mount. */
  data: DataItem[];
}

/**
 * Groups folders read from disk into passes, as few as possible, in plan order. Two folders share
 * a pass only when their exclude patterns are the same (restic applies a pass's excludes to all of
 * its paths, and a volume's own `exclude` must not reach the others) and neither path is, or lies
 * inside, the other (restore maps a snapshot path to exactly one item). Usually that is one pass.
 */
export function groupPasses(items: PlanItem[]): DataPass[] {
  const passes: DataPass[] = [];
  for (const item of items) {
    if (item.type !== "volume" && item.type !== "bind") continue;
    // The form restore accepts in an `item=` tag (core/data_tags.ts), and restic stores.
    const path = item.paths[0] === undefined ? undefined : normalizePath(item.paths[0]);
    if (path === undefined) continue;
    const key = excludeKey(item.excludes);
    const pass = passes.find((p) =>
      excludeKey(p.excludes) === key && !p.paths.some((q) => nests(q, path))
    );
    const d: DataItem = item.type === "volume"
      ? { kind: "volume", name: item.item, path }
      : { kind: "bind", name: item.item, path };
    if (pass) {
      pass.items.push(item);
      pass.paths.push(path);
      pass.data.push(d);
    } else {
      passes.push({ items: [item], paths: [path], excludes: [...item.excludes], data: [d] });
    }
  }
  return passes;
}

const excludeKey = (excludes: string[]) => JSON.stringify(excludes);

/** A snapshot a pass may compare with, and the folders it holds. */
export interface ParentCandidate {
  id: string;
  paths: string[];
}

const SNAPSHOT_ID = /^[0-9a-f]{64}$/;

/**
 * The snapshots of the unit's newest usable restore point made by this host that hold folders
 * read from disk (a tar stream has no files to compare), each with the folders it holds: one
 * `type=data` snapshot in format 3, one snapshot per folder before. Ids that are not restic ids
 * are never passed on.
 */
export function parentCandidates(
  snapshots: SnapshotInfo[],
  unit: string,
  host: string,
): ParentCandidate[] {
  const mine = snapshots.filter((s) => s.hostname === host && !s.invalid);
  const point = restorePoints(mine, unit).find((p) => p.kind === "backup" && isUsable(p));
  const byId = new Map<string, ParentCandidate>();
  for (const d of [...(point?.volumes ?? []), ...(point?.binds ?? [])]) {
    if (d.source !== "dir" || !SNAPSHOT_ID.test(d.snapshot.id)) continue;
    const c = byId.get(d.snapshot.id) ?? { id: d.snapshot.id, paths: [] };
    c.paths.push(d.path);
    byId.set(d.snapshot.id, c);
  }
  return [...byId.values()];
}

/**
 * The parent for a pass over `paths`: the candidate holding most of them (restic matches the
 * parent's files by path, so a parent holding some of the folders still spares reading those),
 * the first one on a tie (callers put the freshest, the warm pass, first). Undefined when none
 * holds any: restic then reads every file.
 */
export function bestParent(paths: string[], candidates: ParentCandidate[]): string | undefined {
  let best: ParentCandidate | undefined;
  let bestCount = 0;
  for (const c of candidates) {
    const count = paths.filter((p) => c.paths.includes(p)).length;
    if (count > bestCount) {
      best = c;
      bestCount = count;
    }
  }
  return best?.id;
}
