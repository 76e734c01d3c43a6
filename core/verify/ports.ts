/**
 * The sandbox journal: which objects a restore drill may create, written (and fsynced) before the
 * first of them exists and cleared after the last is removed, so the next stowage command removes
 * what a killed drill left (app/host_lock.ts). adapters/sandbox_journal.ts keeps it in one file.
 */
import type { SandboxObjects } from "./sandbox.ts";

export interface SandboxRecord extends SandboxObjects {
  /** The stowage process running the drill. */
  pid: number;
  since: string;
  /** `--keep`: left for a person; only `stowage verify --cleanup` removes it. */
  keep?: boolean;
}

export interface SandboxJournal {
  read(): Promise<SandboxRecord[]>;
  /** Adds or replaces the record of this run id. */
  record(r: SandboxRecord): Promise<void>;
  clear(runId: string): Promise<void>;
}
