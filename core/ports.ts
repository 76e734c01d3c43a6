/**
 * The small interfaces core/ talks through. Each method documents its contract; adapters in
 * adapters/ implement them against the real Docker Engine, restic, processes, files and clock.
 * Contract suites in tests/ run against the real adapters.
 */
import type {
  EngineContainer,
  EngineImage,
  EngineNetwork,
  EngineState,
  EngineVersion,
  EngineVolume,
} from "./engine_types.ts";
import type { StowageEvent } from "./events.ts";

// ---------------------------------------------------------------------------------------------
// Docker Engine

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A command running in a container whose stdout is read as a stream (docs/dumps.md). */
export interface ExecStream {
  /** Its stdout, unframed; errors when the connection breaks. */
  stdout: ReadableStream<Uint8Array>;
  /** Once stdout was read to its end: the exit code and stderr's last 16 KiB. */
  finished: Promise<{ exitCode: number; stderr: string }>;
}

export interface VolumeSpec {
  Name: string;
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels?: Record<string, string>;
}

export interface NetworkSpec {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: EngineNetwork["IPAM"];
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
}

/**
 * The Docker Engine API. Errors: StowageError `engine.unavailable` (socket missing / engine
 * down), `engine.permission` (socket not accessible), `engine.notfound` (no such object),
 * `engine.error` (any other non-2xx answer, with the Engine's message).
 */
export interface DockerEngine {
  /** Negotiates the API version on first use; returns the engine's version. */
  version(): Promise<EngineVersion>;
  /** Containers (running and stopped), each fully inspected. */
  listContainers(filters?: { label?: string[] }): Promise<EngineContainer[]>;
  inspectContainer(idOrName: string): Promise<EngineContainer>;
  /** Stops with the given timeout in seconds; already-stopped is not an error. */
  stopContainer(idOrName: string, timeoutSeconds: number): Promise<void>;
  /** Starts; already-running is not an error. */
  startContainer(idOrName: string): Promise<void>;
  removeContainer(idOrName: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
  /** Creates a container from an Engine create body; returns its id. */
  createContainer(name: string, body: Record<string, unknown>): Promise<string>;
  listVolumes(): Promise<EngineVolume[]>;
  inspectVolume(name: string): Promise<EngineVolume>;
  createVolume(spec: VolumeSpec): Promise<EngineVolume>;
  removeVolume(name: string, force?: boolean): Promise<void>;
  listNetworks(): Promise<EngineNetwork[]>;
  inspectNetwork(idOrName: string): Promise<EngineNetwork>;
  createNetwork(spec: NetworkSpec): Promise<string>;
  removeNetwork(idOrName: string): Promise<void>;
  connectNetwork(
    network: string,
    container: string,
    endpoint?: { IPAMConfig?: { IPv4Address?: string; IPv6Address?: string }; Aliases?: string[] },
  ): Promise<void>;
  listImages(): Promise<EngineImage[]>;
  /** GET /images/{name}/get: the image (with the tag `name` when it is one) as a tar stream. */
  exportImage(name: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /** POST /images/load from a `docker save` tar stream; returns what the engine says it loaded. */
  loadImage(tar: ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<string[]>;
  /** POST /images/{name}/tag. */
  tagImage(name: string, repo: string, tag: string): Promise<void>;
  /** GET /containers/{id}/archive: a tar stream of `path` inside the container. */
  getArchive(
    idOrName: string,
    path: string,
    signal?: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>>;
  /** PUT /containers/{id}/archive: extracts a tar stream at `path` inside the container. */
  putArchive(
    idOrName: string,
    path: string,
    tar: ReadableStream<Uint8Array> | Uint8Array,
  ): Promise<void>;
  /** Runs argv inside a running container and waits for it. */
  exec(
    idOrName: string,
    argv: string[],
    opts?: { user?: string; env?: string[]; signal?: AbortSignal },
  ): Promise<ExecResult>;
  /**
   * Runs argv inside a running container without a TTY (so stdout is the program's bytes, never
   * mixed with stderr) and hands stdout on as a stream; `finished` settles after it was read.
   */
  execStream(
    idOrName: string,
    argv: string[],
    opts?: { user?: string; env?: string[]; signal?: AbortSignal },
  ): Promise<ExecStream>;
  /** Runs argv inside a running container with `stdin` as its standard input, then waits. */
  execWithStdin(
    idOrName: string,
    argv: string[],
    stdin: ReadableStream<Uint8Array>,
    opts?: { user?: string; env?: string[]; signal?: AbortSignal },
  ): Promise<ExecResult>;
  /** Containers, volumes, networks, images and the compose/.env files their labels name. */
  gatherState(): Promise<EngineState>;
  /**
   * GET /containers/{id}/changes (`docker diff`): what the container changed in its writable
   * layer, Kind 0 modified, 1 added, 2 deleted; [] when nothing.
   */
  containerChanges(idOrName: string): Promise<{ Path: string; Kind: number }[]>;
  /**
   * GET /events: the Engine's events from `since` on (past ones replayed first, then live ones as
   * they happen) matching `filters` (e.g. `{ type: ["container"], label: ["k=v"] }`), until
   * `signal` aborts. Optional: engines that cannot stream events leave it out.
   */
  events?(
    opts: { since: Date; filters?: Record<string, string[]> },
    signal: AbortSignal,
  ): AsyncIterable<EngineEvent>;
}

/** One Engine event (`docker events --format json`). */
export interface EngineEvent {
  Type: string;
  /** e.g. `start`, `die`, `health_status: healthy`. */
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  /** Nanoseconds since the epoch. */
  timeNano: number;
}

/**
 * Parts of the Engine, for consumers that use only one concern: take the narrowest that fits, so a
 * signature says what a function may do to Docker (and a test fake implements only that).
 */
export type EngineLifecycle = Pick<
  DockerEngine,
  "inspectContainer" | "stopContainer" | "startContainer" | "removeContainer" | "createContainer"
>;
/** Runs commands inside containers (hooks). */
export type EngineExec = Pick<DockerEngine, "inspectContainer" | "exec">;
/** Reads and writes files inside containers (the archive API). */
export type EngineArchive = Pick<DockerEngine, "getArchive" | "putArchive">;
/** Reads what exists, changes nothing. */
export type EngineInventory = Pick<
  DockerEngine,
  | "version"
  | "listContainers"
  | "inspectContainer"
  | "listVolumes"
  | "inspectVolume"
  | "listNetworks"
  | "inspectNetwork"
  | "listImages"
  | "gatherState"
  | "containerChanges"
>;

// ---------------------------------------------------------------------------------------------
// Backup repository (restic)

export interface ResticSnapshot {
  id: string;
  short_id: string;
  time: string;
  hostname: string;
  paths: string[];
  tags?: string[];
  parent?: string;
  tree?: string;
  /** Set by `restic copy` on the copy: the source snapshot's id. */
  original?: string;
}

export interface BackupSummary {
  snapshotId: string;
  filesNew: number;
  filesChanged: number;
  filesUnmodified: number;
  dataAdded: number;
  totalFilesProcessed: number;
  totalBytesProcessed: number;
  durationSeconds: number;
  /** Source files restic could not read; only set when `allowPartial` let such a run through. */
  unreadable?: string[];
}

export interface BackupProgress {
  percentDone: number;
  totalFiles?: number;
  filesDone?: number;
  totalBytes?: number;
  bytesDone?: number;
}

export interface BackupOptions {
  tags: string[];
  host?: string;
  /** Snapshot time; defaults to now. Lets tests and retention use a controlled clock. */
  time?: Date;
  excludes?: string[];
  signal?: AbortSignal;
  onProgress?: (p: BackupProgress) => void;
  /**
   * When some source files cannot be read (restic exit 3), restic still saves a snapshot of the
   * rest. By default that throws `repo.error` naming the files and the saved snapshot; with
   * `allowPartial` it returns the summary with `unreadable` set instead.
   */
  allowPartial?: boolean;
  /**
   * `--parent`: the snapshot restic compares files against (unchanged size, mtime and inode are
   * not read again). Without it restic guesses one by host, paths and time, and a clock step turns
   * an incremental pass into a full read (issue 11). A short id prefix is accepted.
   */
  parent?: string;
  /**
   * Return the id restic reported (restic 0.14: the short id) without the extra `snapshots` call
   * that resolves it; the caller resolves a batch later (core/backup/ids.ts), outside the downtime.
   */
  shortId?: boolean;
  /**
   * Directory backups only: read-only bind mounts over the given paths, made in a private mount
   * namespace only this restic run sees (a filesystem snapshot read under the live path's name,
   * so the stored paths and the comparison with the parent are a cold read's; issue 18).
   */
  mounts?: { source: string; target: string }[];
}

/** A byte stream to store as one file, and the producer's verdict on it. */
export interface StreamSource {
  stream: ReadableStream<Uint8Array>;
  /**
   * Resolves when the producer finished successfully, rejects when it failed. The repository
   * commits the snapshot only after the stream ended AND this resolved; otherwise it aborts
   * restic so no truncated snapshot exists.
   */
  done: Promise<void>;
  /**
   * A fresh copy of the same bytes, for sources held in memory: the repository may then try again
   * when another process held the repository's lock (restic 0.14 cannot wait for it itself).
   */
  replay?: () => StreamSource;
}

export interface RetentionPolicy {
  latest?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
}

/**
 * A restic repository. Errors: `repo.missing`, `repo.password`, `repo.locked`, `repo.error`
 * (with restic's last stderr lines), `dependency.missing` (no restic binary), `interrupted`.
 */
export interface BackupRepository {
  /** restic's version, e.g. "0.14.0". */
  version(): Promise<string>;
  /** True when a repository exists at the location and the password opens it (takes no lock). */
  exists(): Promise<boolean>;
  init(): Promise<void>;
  /**
   * Every snapshot (or those with all `tags`, or of `host`). Takes no repository lock unless
   * `lock`: a listing only reads, and restic 0.14's lock costs about 0.4 s per process (it writes a
   * lock file, waits 200 ms for others, removes it). A backup's first listing takes it: that is how
   * a stale exclusive lock left by a killed restic is found (`repo.locked`) before anything
   * depends on the repository.
   */
  snapshots(
    filter?: { tags?: string[]; host?: string },
    opts?: { lock?: boolean },
  ): Promise<ResticSnapshot[]>;
  /** Directory/file backup; owners, modes, xattrs, ACLs and links are kept. */
  backupPaths(paths: string[], opts: BackupOptions): Promise<BackupSummary>;
  backupStream(filename: string, source: StreamSource, opts: BackupOptions): Promise<BackupSummary>;
  /** Removes snapshots by id (no prune). */
  forget(ids: string[]): Promise<void>;
  prune(): Promise<void>;
  /** `readDataPercent`: `--read-data-subset=N%` (restic reads that share of the data packs). */
  check(opts?: { readData?: boolean; readDataPercent?: number }): Promise<void>;
  /**
   * One file of a snapshot, whole (a recipe, a networks document, an archived volume's tar). Takes
   * no lock: a prune running meanwhile can only make it fail, never read wrong data (restic checks
   * every blob it reads).
   */
  dump(snapshotId: string, path: string): Promise<Uint8Array>;
  /**
   * One file of a snapshot as a stream (never held in memory whole); `done` rejects when restic
   * failed. For large files (saved images).
   */
  dumpStream?(snapshotId: string, path: string, signal?: AbortSignal): Promise<StreamSource>;
  restore(
    snapshotId: string,
    target: string,
    opts?: { include?: string[]; path?: string; signal?: AbortSignal },
  ): Promise<void>;
  stats(opts?: { snapshotIds?: string[]; mode?: "restore-size" | "raw-data" }): Promise<{
    totalSize: number;
    totalFileCount?: number;
  }>;
  /** Removes stale locks only (restic's default). */
  unlock(): Promise<void>;
  /** Lists lock ids currently present. */
  locks(): Promise<string[]>;
  /**
   * Copies snapshots of this repository into `destination` (restic's `copy`; all of them when no
   * ids are given; ones already there are skipped). Each copy records its source id as `original`.
   */
  copy(
    destination: CopyDestination,
    snapshotIds?: string[],
    opts?: { signal?: AbortSignal },
  ): Promise<void>;
  /**
   * Creates `destination` with this repository's chunker parameters (`init --copy-chunker-params`),
   * so data copied there deduplicates as it does here.
   */
  initCopy(destination: CopyDestination): Promise<void>;
}

/** A second repository as `copy` reaches it. Secrets only in memory and restic's environment. */
export interface CopyDestination {
  location: string;
  passwordFile: string;
  /** Its backend environment (credentials), merged with the source's; a clash is refused. */
  env?: Record<string, string>;
  /** Global restic arguments it needs (`-o sftp.command=...`); a clash is refused. */
  extraArgs?: string[];
}

// ---------------------------------------------------------------------------------------------
// Processes, files, clock, events

export interface RunResult {
  code: number;
  /** Set when the process was killed by a signal. */
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** Added to the inherited environment. */
  env?: Record<string, string>;
  stdin?: string | Uint8Array;
  signal?: AbortSignal;
  /** Kill the whole process group after this long. */
  timeoutMs?: number;
}

/** Runs external programs. A program that is not installed raises `dependency.missing`. */
export interface ProcessRunner {
  run(program: string, args: string[], opts?: RunOptions): Promise<RunResult>;
}

export interface Clock {
  now(): Date;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** What the core needs to know about host paths (volume folders, compose files). */
export interface HostFiles {
  /** True when `path` is a directory this process can list (false for a rootless/remote engine). */
  canReadDir(path: string): Promise<boolean>;
  /** Permission bits of a file, or undefined when it does not exist. */
  mode(path: string): Promise<number | undefined>;
  /** The subset of `paths` that exist. */
  existing(paths: string[]): Promise<string[]>;
  /** Bytes used below a path (du), or undefined when it cannot be measured. */
  size(path: string): Promise<number | undefined>;
  /** `size` of several paths at once (fewer processes); every path is in the map. */
  sizes?(paths: string[]): Promise<Map<string, number | undefined>>;
  /** True when `path` is itself a mount point (a disk or share mounted there); false if unknown. */
  isMountPoint(path: string): Promise<boolean>;
  /**
   * A file's bytes and permission bits (files the compose files reference). `absent` when nothing
   * is there, `unreadable` when it cannot be read, `not-a-file` for a folder or special file.
   */
  readFile?(path: string): Promise<
    { bytes: Uint8Array; mode: number } | "absent" | "unreadable" | "not-a-file"
  >;
  /**
   * Every entry below a folder, paths relative to it (`/`-separated), depth first, symlinks not
   * followed. `absent` / `unreadable` for the folder itself; `not-a-folder` for anything else.
   */
  walk?(dir: string): Promise<
    | { rel: string; type: "file" | "dir" | "symlink" | "other"; size: number }[]
    | "absent"
    | "unreadable"
    | "not-a-folder"
  >;
}

export interface JournalEntry {
  unit: string;
  backupId: string;
  /** The stowage process that stopped the containers. */
  pid: number;
  since: string;
  /** Containers that were running before the stop, in start order. */
  containers: string[];
}

/**
 * The restart journal: which containers a run stopped and must start again. Written (and
 * fsynced) before the first stop, cleared after the last start, read after a crash.
 */
export interface RestartJournal {
  record(entry: JournalEntry): Promise<void>;
  clear(unit: string): Promise<void>;
  read(): Promise<JournalEntry[]>;
}

/** The engine never prints: it emits events, and the CLI renders them. */
export interface EventSink {
  emit(event: StowageEvent): void;
}
