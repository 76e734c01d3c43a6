/**
 * What the application layer may use of the outside world, as one typed record built once by
 * main.ts (`Runtime.app`). Each use case declares the narrow part it needs
 * (`Pick<Services, ...>`), so a reader sees its effects from its signature and a test or the
 * daemon can hand it other implementations. app/ never imports adapters/.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import type { HostLock, LockHolder, LockOptions } from "../core/host_lock.ts";
import type {
  BackupRepository,
  Clock,
  DockerEngine,
  HostFiles,
  ProcessRunner,
  RestartJournal,
} from "../core/ports.ts";
import type { RunReport } from "../core/report.ts";
import type { ResultsDoc } from "../core/service/results.ts";

/** The host lock (an flock on `<state>/backup.lock`, adapters/lock.ts). */
export interface HostLocks {
  acquire(path: string, opts: LockOptions): Promise<HostLock>;
  /** Who holds it, if anyone, without taking it. */
  holder(path: string): Promise<LockHolder | undefined>;
}

/** The persisted results of runs (adapters/results_store.ts), read by the status endpoint. */
export interface ResultsStore {
  record(path: string, report: RunReport): Promise<void>;
  read(path: string): Promise<ResultsDoc>;
}

export interface Services {
  clock: Clock;
  runner: ProcessRunner;
  hostname: string;
  engine(loaded: LoadedConfig): DockerEngine;
  /** With `prepare`, the embedded default's password file is generated when missing. */
  repository(loaded: LoadedConfig, opts?: { prepare?: boolean }): Promise<BackupRepository>;
  locks: HostLocks;
  /** The restart journal kept in this file (adapters/journal.ts). */
  journal(path: string): RestartJournal;
  hostFiles: HostFiles;
  results: ResultsStore;
  /** Writes the automatic disaster-recovery bundle and rotates old ones. */
  refreshRecoveryBundle(loaded: LoadedConfig): Promise<{ path: string }>;
}
