/**
 * What the application layer may use of the outside world, as one typed record built once by
 * main.ts (`Runtime.app`). Each use case declares the narrow part it needs
 * (`Pick<Services, ...>`), so a reader sees its effects from its signature and a test or the
 * daemon can hand it other implementations. app/ never imports adapters/.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import type { ConfigLocation } from "../core/config/files.ts";
import type { StowagePaths } from "../core/paths.ts";
import type { OsRelease } from "../core/deps.ts";
import type { WritableProbe } from "../core/doctor.ts";
import type { HostLock, LockHolder, LockOptions } from "../core/host_lock.ts";
import type {
  BackupRepository,
  Clock,
  CopyDestination,
  DockerEngine,
  HostFiles,
  ProcessRunner,
  RestartJournal,
} from "../core/ports.ts";
import type { NotifyResult, RunReport } from "../core/report.ts";
import type { RestoreFiles } from "../core/restore/ports.ts";
import type { HookHost } from "../core/hooks/host.ts";
import type { NotifySender } from "../core/notify/ports.ts";
import type { FsSnapshots } from "../core/fs_snapshot/ports.ts";
import type { SandboxJournal } from "../core/verify/ports.ts";
import type { SshClient, SshHostKeys } from "../core/ssh.ts";
import type { Tailnet } from "../core/tailscale.ts";
import type { ResultsDoc } from "../core/service/results.ts";
import type { VerifyResult } from "../core/service/verify_results.ts";
import type { Notifier } from "../core/service/daemon.ts";
import type { HealthVerdict } from "../core/service/health.ts";
import type { ListenAddress } from "../core/service/listen.ts";
import type {
  BundleManifest,
  BundleSink,
  InstallTarget,
  Measured,
  PayloadSpec,
  ReadResult,
} from "../core/recovery/mod.ts";

/** The host lock (an flock on `<state>/backup.lock`, adapters/lock.ts). */
export interface HostLocks {
  acquire(path: string, opts: LockOptions): Promise<HostLock>;
  /** Who holds it, if anyone, without taking it. */
  holder(path: string): Promise<LockHolder | undefined>;
}

/** The persisted results of runs (adapters/results_store.ts), read by the status endpoint. */
export interface ResultsStore {
  record(path: string, report: RunReport): Promise<void>;
  /** Notification results of a run that ended before it had a report. */
  recordNotifications(path: string, results: NotifyResult[]): Promise<void>;
  read(path: string): Promise<ResultsDoc>;
  /** Folds a restore drill's result in (`stowage verify`). */
  recordVerify(path: string, result: VerifyResult): Promise<void>;
  /** Drops a unit's results; false when it had none. */
  forgetUnit(path: string, unit: string): Promise<boolean>;
}

/** sd_notify and the watchdog, as systemd set them up for this process (adapters/systemd/). */
export interface Systemd {
  /** The notifier systemd asked for, or a silent one; `problem` says why when it matters. */
  notifier(
    onError: (message: string) => void,
  ): { notifier: Notifier & { close(): Promise<void> }; problem?: string };
  /** The WATCHDOG=1 period meant for this process; undefined: no watchdog. */
  watchdogMs(): number | undefined;
}

/** The answers of the status endpoint (GET /health, /status, /metrics). */
export interface StatusSource {
  health(): Promise<HealthVerdict>;
  status(): Promise<unknown>;
  metrics(): Promise<string>;
}

/** The HTTP status endpoint (adapters/status_server.ts). */
export interface StatusServer {
  serve(
    source: StatusSource,
    opts: { token?: string },
    addr: ListenAddress,
  ): Promise<{ url: string; shutdown(): Promise<void> }>;
  /** The bearer token in this file (status.token_file), checked for safe permissions. */
  readToken(path: string): Promise<string>;
}

/** How restic will be run for a config (adapters/restic/open.ts), as far as bundles need it. */
export interface RepositoryConfig {
  settings(loaded: LoadedConfig, env: (name: string) => string | undefined): {
    location: string;
    passwordFile: string;
    binary: string;
    extraArgs: string[];
    envFile?: string;
    env: Record<string, string>;
  };
  /** KEY=VALUE lines of repository.env_file. */
  parseEnvFile(text: string, path: string): Record<string, string>;
  /** A warning when a secret file is readable by group or others. */
  modeWarning(what: string, path: string, mode: number | null): string | undefined;
  /** The known_hosts file stowage pins the repository's host keys in. */
  trustFile(loaded: LoadedConfig, env: (name: string) => string | undefined): string;
  /** Every known_hosts file ssh checks for the repository's host, in order. */
  knownHostsFiles(loaded: LoadedConfig, env: (name: string) => string | undefined): string[];
  /** The parts of an sftp location (a config error when it is not one). */
  parseSftpLocation(location: string): { user?: string; host: string; port?: string; path: string };
}

/** One file --install wrote (adapters/recovery/install.ts). */
export interface InstallResult {
  path: string;
  name: string;
  action: "installed" | "in place" | "replaced";
  /** Where the previous file was moved when it differed. */
  kept?: string;
  createdDirs: string[];
}

export interface ExtractSink extends Required<BundleSink> {
  /** The staging directory while the bundle is read. */
  readonly stagedPath: string | undefined;
  commit(): Promise<string>;
  abort(): Promise<void>;
}

export interface InstallSink {
  begin(manifest: BundleManifest): void;
  file(file: InstallTarget["file"], body: AsyncIterable<Uint8Array>): Promise<void>;
  commit(): Promise<InstallResult[]>;
  abort(): Promise<void>;
}

/** The bytes of recovery bundles: measure, encrypt, write, decrypt, extract, install. */
export interface RecoveryBundleIo {
  fileChunks(path: string): AsyncIterable<Uint8Array>;
  measurePayload(payload: PayloadSpec[]): Promise<{ measured: Measured[]; problems: string[] }>;
  writeFile(
    archive: AsyncIterable<Uint8Array>,
    opts: { password: string; dir: string; fileName: string; signal?: AbortSignal },
  ): Promise<{ path: string; bytes: number }>;
  writeStream(
    archive: AsyncIterable<Uint8Array>,
    opts: {
      password: string;
      out: { write(p: Uint8Array): Promise<number> };
      signal?: AbortSignal;
    },
  ): Promise<{ bytes: number }>;
  read(
    path: string,
    password: string,
    opts?: { sink?: BundleSink; signal?: AbortSignal },
  ): Promise<ReadResult>;
  extractSink(parent: string): ExtractSink;
  installSink(targets: InstallTarget[]): InstallSink;
}

/** Config files (adapters/config_store.ts). */
export interface ConfigStore {
  /** Where the config is: --config, STOWAGE_CONFIG or the default path. */
  locate(flag: string | undefined): { path: string; explicit: boolean };
  exists(path: string): Promise<boolean>;
  /** Atomic 0600 write of a config document. */
  write(path: string, doc: unknown): Promise<void>;
  /** Creates the password file with a random password (0600) unless it exists. */
  ensurePasswordFile(path: string): Promise<"created" | "exists">;
  /** The file's text; undefined when a default (not explicit) location has no file. */
  readText(loc: ConfigLocation): Promise<string | undefined>;
  /** Atomic 0600 write of the text as given (comments kept). */
  writeText(path: string, text: string): Promise<void>;
  /** Copies the current file to `<path>.bak` (0600); undefined when there is none. */
  backup(path: string): Promise<string | undefined>;
  /** A 0600 copy in a private 0700 temp dir, for an editor; removed on dispose. */
  privateCopy(text: string): Promise<
    { path: string; read(): Promise<string>; [Symbol.asyncDispose](): Promise<void> }
  >;
  /** Runs the editor on this terminal; its exit code. */
  runEditor(program: string, args: string[]): Promise<number>;
}

export interface Services {
  clock: Clock;
  runner: ProcessRunner;
  hostname: string;
  /** This process's id (journal entries, lock holder). */
  pid: number;
  env(name: string): string | undefined;
  /** Paths before a config's state_dir is applied. */
  paths: StowagePaths;
  /** The config file used when none is named (--config, STOWAGE_CONFIG). */
  defaultConfigFile: string;
  /** Reads and validates the config at `path` (default: the usual lookup). Never writes. */
  loadConfig(path?: string): Promise<LoadedConfig>;
  engine(loaded: LoadedConfig): DockerEngine;
  /** With `prepare`, the embedded default's password file is generated when missing. */
  repository(loaded: LoadedConfig, opts?: { prepare?: boolean }): Promise<BackupRepository>;
  /** The copy named `name` (config `copies:`) and how the primary's `copy` reaches it. */
  copyRepository(
    loaded: LoadedConfig,
    name: string,
  ): Promise<{ repo: BackupRepository; destination: CopyDestination }>;
  locks: HostLocks;
  /** The restart journal kept in this file (adapters/journal.ts). */
  journal(path: string): RestartJournal;
  /** Filesystem snapshots, their journal beside the restart journal (adapters/fs_snapshot.ts). */
  fsSnapshots?(journalFile: string): FsSnapshots;
  /** The restore drills' sandbox journal kept in this file (adapters/sandbox_journal.ts). */
  sandboxJournal(path: string): SandboxJournal;
  hostFiles: HostFiles;
  /** The small file port restore probes, stages and writes through (adapters/restore_files.ts). */
  restoreFiles: RestoreFiles;
  /** Hook programs and modules on the host (adapters/hooks/). */
  hookHost: HookHost;
  results: ResultsStore;
  /** A file's mode, or undefined when it cannot be read (missing, no permission). */
  fileMode(path: string): Promise<{ mode: number | null } | undefined>;
  /** Whether a path exists (any kind of file). */
  pathExists(path: string): Promise<boolean>;
  /** Whether files can be created in this directory (or where it would be created). */
  probeWritableDir(path: string): Promise<WritableProbe>;
  systemd: Systemd;
  statusServer: StatusServer;
  /** Writes the automatic disaster-recovery bundle and rotates old ones. */
  refreshRecoveryBundle(loaded: LoadedConfig): Promise<{ path: string }>;
  repositoryConfig: RepositoryConfig;
  configStore: ConfigStore;
  bundles: RecoveryBundleIo;
  /** The names in a directory; none when it does not exist. */
  bundleNames(dir: string): Promise<string[]>;
  /** A secret file's text (`io` errors naming `what`) and, on demand, its mode. */
  secretFile(path: string, what: string): Promise<{ text: string; mode(): Promise<number | null> }>;
  readTextFile(path: string): Promise<string>;
  /** Atomic write (temp file, fsync, rename) with this mode. */
  writeFile(path: string, content: string, mode: number): Promise<void>;
  removeFile(path: string): Promise<void>;
  /** /etc/os-release, parsed; undefined when there is none. */
  osRelease(): Promise<OsRelease | undefined>;
  /** Whether an executable of this name is on PATH (or in the sbin directories). */
  onPath(program: string): Promise<boolean>;
  /** A random password of letters and digits. */
  randomPassword(length: number): string;
  /** Delivers notifications: HTTP, SMTP, programs (adapters/notify/). */
  notifySender: NotifySender;
  /** SSH host keys: scanned, looked up, staged and pinned (adapters/ssh_host_keys.ts). */
  sshHostKeys: SshHostKeys;
  /** stowage's own SSH key and a login with it (adapters/ssh_client.ts). */
  sshClient: SshClient;
  /** The Tailscale network this host is on (adapters/tailscale.ts). */
  tailnet: Tailnet;
}
