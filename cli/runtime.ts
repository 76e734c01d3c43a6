/**
 * What a command needs from the outside world, built once by main.ts. Commands get adapters
 * from here and never construct them, so tests and the daemon can wire their own.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import type { StowagePaths } from "../core/paths.ts";
import type { Services } from "../app/services.ts";
import type { BackupRepository, Clock, DockerEngine, ProcessRunner } from "../core/ports.ts";

export type { LoadedConfig };

export interface GlobalOptions {
  config?: string;
  logLevel?: string;
}

export interface Runtime {
  env(name: string): string | undefined;
  uid: number | null;
  /** The host name snapshots carry: the machine's, replaced by config `host:` once loaded. */
  hostname: string;
  /** Default paths before config (state_dir) is applied. */
  paths: StowagePaths;
  stdinIsTerminal: boolean;
  stdoutIsTerminal: boolean;
  stderrIsTerminal: boolean;
  /** The terminal's width in columns now (it may be resized); undefined when unknown. */
  terminalColumns?(): number | undefined;
  write(text: string): void;
  writeErr(text: string): void;
  clock: Clock;
  runner: ProcessRunner;
  /** Fires on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Reads and validates config per --config / STOWAGE_CONFIG / default path. Never writes. */
  loadConfig(globals: GlobalOptions): Promise<LoadedConfig>;
  engine(loaded: LoadedConfig): DockerEngine;
  /**
   * The configured repository. With `prepare`, the embedded default's password file is generated
   * when missing (the only write a config read may cause, and only for commands that use the repo).
   */
  repository(loaded: LoadedConfig, opts?: { prepare?: boolean }): Promise<BackupRepository>;
  /** The services the use cases in app/ run on, built once by main.ts from the same adapters. */
  app: Services;
}
