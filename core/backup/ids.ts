/**
 * A small decision that keeps restic calls out of the downtime (issue 11): the full ids of
 * snapshots restic reported by their short id, resolved from one listing after the containers run
 * again (the parent choice is core/backup/passes.ts). Pure: data in, data out.
 */
import type { ResticSnapshot } from "../ports.ts";
import { StowageError } from "../errors.ts";

const SNAPSHOT_ID = /^[0-9a-f]{64}$/;

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
