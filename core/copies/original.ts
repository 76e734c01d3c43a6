import { StowageError } from "../errors.ts";
import type { SnapshotInfo } from "../model.ts";

/**
 * Which snapshot of a copy repository a read by `id` means (`restore --from NAME`).
 *
 * Ids reach a copy from two places: its own listing (full ids, read as they are) and the recipes,
 * which name saved images by the primary's snapshot id, full or (restic 0.14) the 8-hex short id.
 * A recipe never names a snapshot the copy only received by `restic copy` by that copy's own id:
 * the recipe was written where the backup ran. So a short id may mean a snapshot copied FROM it
 * (its `original` starts with the id), or a snapshot saved into this repository directly (no
 * `original`; it was once a primary), and never a copied snapshot whose own id merely starts with
 * it, which restic's own prefix lookup would pick. Two different snapshots that fit are refused
 * rather than guessed; copies of one original hold the same content, either serves.
 */
export function snapshotInCopy(snapshots: SnapshotInfo[], id: string): string {
  if (snapshots.some((s) => s.id === id)) return id;
  const fits = new Map<string, string>();
  let copiedPrefix = false;
  for (const s of snapshots) {
    if (s.original === undefined) {
      if (s.id.startsWith(id)) fits.set(s.id, s.id);
    } else if (s.original.startsWith(id)) {
      if (!fits.has(s.original)) fits.set(s.original, s.id);
    } else if (s.id.startsWith(id)) copiedPrefix = true;
  }
  if (fits.size === 1) return [...fits.values()][0];
  if (fits.size > 1) {
    throw new StowageError(
      "restore.failed",
      `Cannot read snapshot '${id}' from the copy: the id is ambiguous there, ${fits.size} snapshots fit it (${
        [...fits.keys()].map((k) => k.slice(0, 12)).join(", ")
      })`,
      "Restore this point from the primary repository or another copy, where the id is unique.",
    );
  }
  if (copiedPrefix) {
    throw new StowageError(
      "snapshot.notfound",
      `Cannot read snapshot '${id}' from the copy: no snapshot there was copied from it`,
      "Run a backup so the copy catches up, or restore this point from the primary repository.",
    );
  }
  // Nothing in the listing knows it: restic looks for it itself and says when it is not there.
  return id;
}
