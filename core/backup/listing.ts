/**
 * The repository's snapshots as one backup run knows them (issue 11). Every restic process opens
 * the repository again (key derivation, index load), so a run does not ask restic once per
 * question: it lists every snapshot once before its first unit, and once more after each unit's
 * containers run again. The image lookup, the data passes' parents, the full ids of what the unit
 * saved, the warm snapshots to forget and retention all read that list; the second listing of one
 * unit is the first of the next. The helpers below are pure: a list in, data out.
 */
import type { BackupRepository, ResticSnapshot } from "../ports.ts";
import type { SnapshotInfo } from "../model.ts";
import { parseSnapshot, STOWAGE_TAG, WARM_TAG, warmUnitTag } from "../tags.ts";
import { IMAGES_UNIT } from "./plan.ts";

export class RunListing {
  #listed?: ResticSnapshot[];
  readonly #repo: Pick<BackupRepository, "snapshots">;

  /** `initial`: a listing made just before the run (the repository check), if any. */
  constructor(repo: Pick<BackupRepository, "snapshots">, initial?: ResticSnapshot[]) {
    this.#repo = repo;
    this.#listed = initial && [...initial];
  }

  /** The newest listing; lists the repository when there is none yet. */
  async current(): Promise<ResticSnapshot[]> {
    this.#listed ??= await this.#repo.snapshots();
    return this.#listed;
  }

  /** Lists again, for what needs the snapshots the run just saved. */
  async refresh(): Promise<ResticSnapshot[]> {
    this.#listed = undefined;
    return await this.current();
  }

  /** A snapshot the run saved after the newest listing (the marker, written beside it). */
  add(snapshot: ResticSnapshot) {
    if (this.#listed) this.#listed = [...this.#listed, snapshot];
  }

  /** Snapshots the run forgot leave the list (no listing needed to know that). */
  forgot(ids: string[]) {
    if (!this.#listed || ids.length === 0) return;
    const gone = new Set(ids);
    this.#listed = this.#listed.filter((s) => !gone.has(s.id));
  }
}

/** The newest `type=image` snapshot of image `id` (any host: they are shared), if any. */
export function imageSnapshot(listed: ResticSnapshot[], id: string): SnapshotInfo | undefined {
  return listed.filter((s) =>
    s.tags?.includes(STOWAGE_TAG) && s.tags.includes(`unit=${IMAGES_UNIT}`) &&
    s.tags.includes("type=image")
  ).map(parseSnapshot).filter((s) => !s.invalid && s.image === id)
    .sort((a, b) => b.time.localeCompare(a.time))[0];
}

/** This host's snapshots: what parents, ids and retention of its units may use. */
export function hostSnapshots(listed: ResticSnapshot[], host: string): ResticSnapshot[] {
  return listed.filter((s) => s.hostname === host);
}

/**
 * The unit's warm pre-pass snapshots made by this host (docs/format.md, "Warm snapshots"): this
 * run's and any a killed run left. Only restic's own ids are returned (they reach `forget`).
 */
export function warmSnapshots(listed: ResticSnapshot[], unit: string, host: string): string[] {
  const tag = warmUnitTag(unit);
  return hostSnapshots(listed, host).filter((s) =>
    s.tags?.includes(WARM_TAG) && s.tags.includes(tag) && /^[0-9a-f]{64}$/.test(s.id)
  ).map((s) => s.id);
}
