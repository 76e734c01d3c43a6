/**
 * The effects filesystem snapshots need (adapters/fs_snapshot.ts): facts about paths, creating
 * and deleting snapshots, and a journal of the snapshots that may exist, written before each is
 * created, so a crash leaves nothing the next command does not delete.
 */
import type { PathProbe, SnapshotSpec } from "./plan.ts";

export interface FsSnapshotJournalEntry {
  unit: string;
  backupId: string;
  pid: number;
  since: string;
  snapshots: SnapshotSpec[];
}

export interface FsSnapshots {
  /** Facts about each path (mount, btrfs subvolume, LVM volume); never throws for one path. */
  probe(paths: string[]): Promise<Map<string, PathProbe>>;
  /** Creates one read-only snapshot (and, for LVM, mounts it read-only at `mountAt`). */
  create(spec: SnapshotSpec): Promise<void>;
  /** Deletes one snapshot; one that does not exist is not an error. */
  remove(spec: SnapshotSpec): Promise<void>;
  /** Records (replaces) the unit's entry, durably, before its snapshots are created. */
  record(entry: FsSnapshotJournalEntry): Promise<void>;
  entries(): Promise<FsSnapshotJournalEntry[]>;
  clear(unit: string): Promise<void>;
}
