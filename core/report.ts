/**
 * What a backup run reports: returned by the orchestrator, rendered by the CLI (--json prints it
 * as is), persisted for the status endpoint, passed to post hooks.
 */
import type { CoverageGap, Scope, SnapshotType, UnitKind } from "./model.ts";

export interface SnapshotRecord {
  type: SnapshotType;
  /** Volume name, bind path, or the file name for recipe/network. */
  item: string;
  snapshotId: string;
  bytesProcessed: number;
  dataAdded: number;
  /**
   * Volumes and bind folders: the snapshot restic compared against (`--parent`; short id), or
   * absent when there was none and restic read every file (docs/backup.md).
   */
  parent?: string;
  /** Volumes and bind folders: restic's file counts, so a full re-read shows. */
  files?: { new: number; changed: number; unmodified: number };
  /**
   * Format 3: the folder was saved with the unit's other folders by one restic pass into one
   * `type=data` snapshot; `snapshotId`, bytes, `parent` and `files` are that whole pass's.
   */
  shared?: true;
  /** Dumps: how long the dump took, from the first exec call to the committed snapshot. */
  durationMs?: number;
}

export interface UnitReport {
  unit: string;
  kind: UnitKind;
  outcome: "ok" | "failed" | "skipped";
  error?: string;
  skipReason?: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** First stop to last start; undefined when nothing was stopped. */
  downtimeMs?: number;
  containersStopped: string[];
  containersStarted: string[];
  snapshots: SnapshotRecord[];
  bytesRead: number;
  bytesAdded: number;
  gaps: CoverageGap[];
  /** Snapshots removed by retention after this unit's backup. */
  forgotten?: number;
  /** Each volume saved, its kind and where it was read (core/volume_kind.ts). */
  volumes?: { name: string; kind: string; how: string }[];
  /** Per data folder: read from a filesystem snapshot or while stopped, and why (issue 18). */
  reads?: { type: string; item: string; read: "btrfs" | "lvm" | "cold"; reason?: string }[];
  /** What retention did beyond its rules (e.g. forgot an incomplete restore point). */
  notes?: string[];
  /** Things that went wrong without failing the unit (e.g. a container slow to become healthy). */
  warnings: string[];
}

/** One notification target's delivery of one event (app/notify.ts). */
export interface NotifyResult {
  target: string;
  kind: string;
  event: string;
  ok: boolean;
  attempts: number;
  at: string;
  /** Redacted: the target's URL path and query never appear. */
  error?: string;
}

export interface RunReport {
  operation: "backup";
  backupId: string;
  scope: Scope;
  host: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  ok: boolean;
  interrupted: boolean;
  units: UnitReport[];
  /** The automatic disaster-recovery bundle (backup.update_recovery_bundle), when configured. */
  recoveryBundle?: { path?: string; error?: string };
  /** The notifications sent for this run (start and outcome), when targets are configured. */
  notifications?: NotifyResult[];
  /** Each configured copy (config `copies:`, docs/copies.md); a failed copy leaves `ok` alone. */
  copies?: CopyReport[];
}

/** One copy target after a run: what went over, what it holds, how far behind it is. */
export interface CopyReport {
  name: string;
  ok: boolean;
  error?: string;
  /** The copy repository was created in this run (`init --copy-chunker-params`). */
  created?: boolean;
  /** Time the copy took (listing, copying, its retention). */
  durationMs?: number;
  /** Restore points copied (`unit backup_id`), oldest first. */
  copied: string[];
  /** Snapshots its retention forgot there. */
  forgotten?: number;
  /** The newest complete point on the copy, when it could be read. */
  newest?: { backupId: string; time: string };
  /**
   * Run start of the oldest point the copy lacks (ISO 8601), when it is behind: the lag is the
   * time since. Unknown (undefined) when the copy could not even be read.
   */
  behindSince?: string;
  warnings: string[];
}
