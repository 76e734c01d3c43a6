/**
 * Which data steps of a restore one `restic restore` process stages together (issue 11, item 7):
 * every process opens the repository and loads its index again, so the folders of one format-3
 * `type=data` snapshot are restored by one process into one staging folder, then each is renamed
 * into place. rename(2) works within one mount only, so a batch never spans two. Pure.
 */
import type { DataStep } from "./plan.ts";
import { nests } from "../data_tags.ts";

export interface StageTarget {
  step: DataStep;
  /** The folder the step replaces. */
  target: string;
  /** The mount point holding the target's parent folder; undefined when unknown. */
  mount?: string;
}

/**
 * Batches in the order of their first step. A step joins a batch when both restore only part of
 * the same snapshot (`include`, a `data` snapshot) onto the same known mount; anything else (a
 * per-item snapshot restored whole, a tar stream, an unknown mount) is a batch of one.
 */
export function restoreBatches<T extends StageTarget>(targets: T[]): T[][] {
  const batches: T[][] = [];
  const batchable = (t: T) =>
    t.step.source === "dir" && t.step.include !== undefined && t.mount !== undefined;
  for (const t of targets) {
    const batch = batchable(t)
      ? batches.find((b) =>
        batchable(b[0]) && b[0].step.snapshotId === t.step.snapshotId && b[0].mount === t.mount
      )
      : undefined;
    if (batch) batch.push(t);
    else batches.push([t]);
  }
  return batches;
}

/**
 * The folders a restore saves before replacing them, in as few restic passes as one snapshot's
 * `item=` tags allow (core/data_tags.ts: no folder inside another): each folder joins the first
 * group none of whose folders it nests with, in order.
 */
export function preRestoreGroups<T extends { target: string }>(saves: T[]): T[][] {
  const groups: T[][] = [];
  for (const s of saves) {
    const group = groups.find((g) => g.every((o) => !nests(o.target, s.target)));
    if (group) group.push(s);
    else groups.push([s]);
  }
  return groups;
}
