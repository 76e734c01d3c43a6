/**
 * BackupRepository on the restic binary: one typed method per subcommand, --json where restic
 * has it, stderr kept as a bounded tail for error messages. Secrets never reach argv, which any
 * local user can read in /proc/PID/cmdline: the password travels as a file named in
 * RESTIC_PASSWORD_FILE (never RESTIC_PASSWORD), the location (which may hold backend credentials,
 * rest:https://user:password@host/) as RESTIC_REPOSITORY in the child's environment.
 *
 * restic is spawned directly (not through ProcessRunner) because backups stream both ways:
 * progress lines come out while stowage feeds stdin itself. It runs in a session of its own
 * without a controlling terminal (withoutTerminal): neither restic nor the ssh it starts for sftp
 * can ever prompt on, or be stopped by, the operator's terminal.
 */
import { isAbsolute, resolve } from "node:path";
import { StowageError } from "../../core/errors.ts";
import type {
  BackupOptions,
  BackupRepository,
  BackupSummary,
  CopyDestination,
  ResticSnapshot,
  StreamSource,
} from "../../core/ports.ts";
import { setsidFailure, spawnError, withoutTerminal } from "../process.ts";
import { classifyResticFailure, redactLocation, RESTIC_EXIT, StderrTail } from "./errors.ts";
import {
  errorItem,
  ignoredIds,
  lines,
  parseBackupLine,
  parseLockIds,
  parseSnapshots,
  parseStats,
  parseVersion,
  resticTime,
  toProgress,
  toSummary,
} from "./json.ts";
import type { BackupErrorMessage, BackupSummaryMessage } from "./json.ts";
import { concatBytes as concat } from "../../core/bytes.ts";

export interface ResticOptions {
  /** The restic program (name on PATH or a path). Default "restic". */
  binary?: string;
  /** restic repository location: /path, sftp:..., rest:..., s3:..., ... */
  location: string;
  /** File holding the repository password (read by restic itself). */
  passwordFile: string;
  /** Extra environment for backend credentials (AWS_ACCESS_KEY_ID, B2_ACCOUNT_ID, ...). */
  env?: Record<string, string>;
  /** Extra global arguments, e.g. ["-o", "sftp.command=ssh ..."]. No secrets here: argv is public. */
  extraArgs?: string[];
  /** restic's cache directory (--cache-dir); restic's default (~/.cache/restic) when unset. */
  cacheDir?: string;
  /** Problems found while opening (e.g. a password file readable by others), for doctor. */
  warnings?: string[];
}

/** Environment names restic would otherwise pick up from ours and use instead of our settings. */
const NEUTRALISED_ENV = [
  "RESTIC_PASSWORD",
  "RESTIC_PASSWORD_COMMAND",
  "RESTIC_REPOSITORY",
  "RESTIC_REPOSITORY_FILE",
  "RESTIC_KEY_HINT",
  "RESTIC_FROM_PASSWORD",
  "RESTIC_FROM_PASSWORD_COMMAND",
  "RESTIC_FROM_PASSWORD_FILE",
  "RESTIC_FROM_REPOSITORY",
  "RESTIC_FROM_REPOSITORY_FILE",
  "RESTIC_FROM_KEY_HINT",
];

/** How long restic gets to exit after SIGINT before it is killed (it then leaves a stale lock). */
const INTERRUPT_GRACE_MS = 30_000;

interface Exited {
  code: number;
  signal?: string;
  stderr: string[];
}

interface RunOpts {
  signal?: AbortSignal;
  env?: Record<string, string>;
  /** The location named in error messages, when not this repository's. */
  location?: string;
  /** Global arguments instead of this repository's (cache, extra args). */
  globalArgs?: string[];
}

interface Spawned {
  child: Deno.ChildProcess;
  tail: StderrTail;
  /** restic 0.14 writes `backup --json` error messages (unreadable files) to stderr. */
  errors: BackupErrorMessage[];
  errorCount: number;
  /** Resolves when stderr is drained. */
  stderrDone: Promise<void>;
}

export class Restic implements BackupRepository {
  readonly binary: string;
  readonly location: string;
  readonly passwordFile: string;
  readonly warnings: readonly string[];
  readonly #env: Record<string, string>;
  readonly #extraArgs: string[];
  readonly #cacheDir?: string;

  constructor(opts: ResticOptions) {
    this.binary = opts.binary ?? "restic";
    this.location = opts.location;
    this.passwordFile = opts.passwordFile;
    this.warnings = opts.warnings ?? [];
    this.#env = { ...opts.env };
    this.#extraArgs = [...(opts.extraArgs ?? [])];
    this.#cacheDir = opts.cacheDir;
  }

  /** The location as it may be shown (userinfo passwords masked). */
  get displayLocation(): string {
    return redactLocation(this.location);
  }

  // -------------------------------------------------------------------------------------------
  // plumbing

  /** No repository here: the location goes through the environment (#childEnv). */
  #globalArgs(): string[] {
    return [...(this.#cacheDir ? ["--cache-dir", this.#cacheDir] : []), ...this.#extraArgs];
  }

  #childEnv(extra: Record<string, string> = {}): Record<string, string> {
    const env: Record<string, string> = {};
    for (const n of NEUTRALISED_ENV) env[n] = "";
    return {
      ...env,
      ...this.#env,
      RESTIC_REPOSITORY: this.location,
      RESTIC_PASSWORD_FILE: this.passwordFile,
      ...extra,
    };
  }

  #spawn(
    args: string[],
    opts: {
      stdin?: boolean;
      env?: Record<string, string>;
      mounts?: { source: string; target: string }[];
    } = {},
  ): Spawned {
    let child: Deno.ChildProcess;
    try {
      const cmd = opts.mounts?.length
        ? withoutTerminal("unshare", inMountNamespace(opts.mounts, this.binary, args))
        : withoutTerminal(this.binary, args);
      child = new Deno.Command(cmd.program, {
        args: cmd.args,
        env: opts.env ?? this.#childEnv(),
        stdin: opts.stdin ? "piped" : "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      throw spawnError(this.binary, e);
    }
    const s: Spawned = {
      child,
      tail: new StderrTail(20),
      errors: [],
      errorCount: 0,
      stderrDone: Promise.resolve(),
    };
    s.stderrDone = (async () => {
      for await (const line of lines(child.stderr)) {
        const m = parseBackupLine(line);
        if (m?.message_type === "error") {
          s.errorCount++;
          if (s.errors.length < MAX_UNREADABLE) s.errors.push(m);
        } else {
          s.tail.push(line + "\n");
        }
      }
    })().catch(() => {});
    return s;
  }

  async #exited(s: Spawned): Promise<Exited> {
    const st = await s.child.status;
    await s.stderrDone;
    const stderr = s.tail.lines();
    const notStarted = setsidFailure(this.binary, st.code, stderr.join("\n"));
    if (notStarted) throw notStarted;
    return { code: st.code, signal: st.signal ?? undefined, stderr };
  }

  /** SIGINT (restic cleans up and exits 130), then SIGKILL if it hangs. Once per child. */
  #interrupt(child: Deno.ChildProcess) {
    if (interrupted.has(child)) return;
    interrupted.add(child);
    try {
      child.kill("SIGINT");
    } catch { /* already gone */ }
    const t = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, INTERRUPT_GRACE_MS);
    child.status.finally(() => clearTimeout(t));
  }

  #fail(ex: Exited, action: string, location = this.location): StowageError {
    const code = ex.signal === "SIGINT" ? RESTIC_EXIT.interrupted : ex.code;
    return classifyResticFailure(code, ex.stderr, action, location);
  }

  /**
   * Runs a restic command to completion; returns stdout bytes, throws a typed error on failure.
   * A repository locked by another process (another host's backup while this one forgets or
   * prunes, or its prune while this one lists) is waited for with backoff up to LOCK_WAIT_MS, as
   * restic 0.16's --retry-lock does; 0.14 has no such flag. Streams are not retried (not
   * replayable); directory backups are (backupPaths).
   */
  async #run(
    action: string,
    args: string[],
    opts: RunOpts = {},
  ): Promise<{ stdout: Uint8Array; stderr: string[] }> {
    return await retryWhileLocked(() => this.#runOnce(action, args, opts), opts.signal);
  }

  async #runOnce(
    action: string,
    args: string[],
    opts: RunOpts = {},
  ): Promise<{ stdout: Uint8Array; stderr: string[] }> {
    opts.signal?.throwIfAborted();
    const s = this.#spawn([...(opts.globalArgs ?? this.#globalArgs()), ...args], { env: opts.env });
    const onAbort = () => this.#interrupt(s.child);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const chunks: Uint8Array[] = [];
      for await (const c of s.child.stdout) chunks.push(c);
      const ex = await this.#exited(s);
      if (ex.code !== 0 || ex.signal) throw this.#fail(ex, action, opts.location);
      return { stdout: concat(chunks), stderr: ex.stderr };
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }

  async #text(action: string, args: string[], opts?: RunOpts) {
    const r = await this.#run(action, args, opts);
    return { stdout: new TextDecoder().decode(r.stdout), stderr: r.stderr };
  }

  // -------------------------------------------------------------------------------------------
  // BackupRepository

  async version(): Promise<string> {
    const r = await this.#text("read restic's version", ["version"], { globalArgs: [] });
    return parseVersion(r.stdout);
  }

  async exists(): Promise<boolean> {
    try {
      // Only reads: no lock (a locked repository exists all the same).
      await this.#run(`open the repository`, ["cat", "config", "--no-lock"]);
      return true;
    } catch (e) {
      if (e instanceof StowageError && e.code === "repo.missing") return false;
      throw e;
    }
  }

  async init(): Promise<void> {
    await this.#run(`initialise a repository at '${this.displayLocation}'`, ["init"]);
  }

  async snapshots(
    filter: { tags?: string[]; host?: string } = {},
    opts: { lock?: boolean } = {},
  ): Promise<ResticSnapshot[]> {
    const args = ["snapshots", "--json", ...(opts.lock ? [] : ["--no-lock"])];
    // One --tag with a comma list means "has all of these" (several --tag would mean "any").
    if (filter.tags?.length) args.push("--tag", tagList(filter.tags));
    if (filter.host) args.push("--host", filter.host);
    const r = await this.#text("list snapshots", args);
    return parseSnapshots(r.stdout);
  }

  async backupPaths(paths: string[], opts: BackupOptions): Promise<BackupSummary> {
    return await retryWhileLocked(() => this.#backupPathsOnce(paths, opts), opts.signal);
  }

  async #backupPathsOnce(paths: string[], opts: BackupOptions): Promise<BackupSummary> {
    if (paths.length === 0) throw new Error("backupPaths: no paths given");
    // restic stores relative arguments under their last component only; keep full paths.
    const abs = paths.map((p) => (isAbsolute(p) ? p : resolve(p)));
    const action = `back up ${abs.map((p) => `'${p}'`).join(", ")}`;
    if (opts.signal?.aborted) throw interruptedError(action);
    const s = this.#spawn([...this.#globalArgs(), ...backupArgs(opts), "--", ...abs], {
      env: this.#childEnv({ TZ: "UTC" }),
      mounts: opts.mounts,
    });
    const onAbort = () => this.#interrupt(s.child);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const out = await readBackupOutput(s.child.stdout, opts);
      const ex = await this.#exited(s);
      return await this.#finishBackup(ex, withErrors(out, s), action, opts);
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }

  async backupStream(
    filename: string,
    source: StreamSource,
    opts: BackupOptions,
  ): Promise<BackupSummary> {
    // Only a source that can be read again waits for another process's lock (see #run).
    if (!source.replay) return await this.#backupStreamOnce(filename, source, opts);
    let next = source;
    return await retryWhileLocked(() => {
      const current = next;
      next = current.replay!();
      return this.#backupStreamOnce(filename, current, opts);
    }, opts.signal);
  }

  async #backupStreamOnce(
    filename: string,
    source: StreamSource,
    opts: BackupOptions,
  ): Promise<BackupSummary> {
    const name = filename.replace(/^\/+/, "");
    if (!name) throw new Error("backupStream: empty file name");
    const action = `store '${name}' from a stream`;
    if (opts.signal?.aborted) {
      source.done.catch(() => {});
      await source.stream.cancel(opts.signal.reason).catch(() => {});
      throw interruptedError(action);
    }
    // Whatever happens below, a late rejection of `done` must not become an unhandled rejection.
    let producerError: { error: unknown } | undefined;
    const done = source.done.then(() => undefined, (error) => ({ error }));

    const s = this.#spawn(
      [...this.#globalArgs(), ...backupArgs(opts), "--stdin", "--stdin-filename", name],
      { stdin: true, env: this.#childEnv({ TZ: "UTC" }) },
    );
    const reader = source.stream.getReader();
    const writer = s.child.stdin.getWriter();
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      this.#interrupt(s.child);
      reader.cancel(opts.signal?.reason).catch(() => {});
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    // A producer that fails while its stream is still open must stop the feed at once.
    done.then((r) => {
      if (r && !producerError) {
        producerError = r;
        reader.cancel(r.error).catch(() => {});
      }
    });
    // restic exiting before stdin was closed has failed: stop waiting for the producer.
    let stdinClosed = false;
    s.child.status.then(() => {
      if (!stdinClosed) reader.cancel(new Error("restic exited")).catch(() => {});
    });

    const output = readBackupOutput(s.child.stdout, opts);
    let resticGone = false;
    try {
      // Feed restic. stdin stays open until the producer's verdict is in: closing it is what
      // makes restic commit, so on any failure restic is interrupted with stdin still open.
      while (!aborted) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          producerError = { error };
          break;
        }
        if (chunk.done) break;
        try {
          await writer.write(chunk.value);
        } catch {
          // restic exited early (it failed, e.g. wrong password): stop the producer, report restic.
          resticGone = true;
          reader.cancel(new Error("restic exited")).catch(() => {});
          break;
        }
      }
      if (!aborted && !producerError && !resticGone) {
        producerError = await Promise.race([done, s.child.status.then(() => undefined)]);
        if (!producerError && !aborted) {
          // restic may already have exited (failed); then `done` has not been awaited: no commit
          // can happen without EOF, so the restic failure below is the answer.
          try {
            stdinClosed = true;
            await writer.close();
          } catch {
            resticGone = true;
          }
        }
      }
      if (aborted || producerError) this.#interrupt(s.child);
      const out = await output;
      const ex = await this.#exited(s);
      // Only now, with restic gone, may its stdin be closed (a no-op after a clean close).
      await writer.abort().catch(() => {});
      if (producerError) throw producerError.error;
      if (aborted) throw interruptedError(action);
      return await this.#finishBackup(ex, withErrors(out, s), action, opts);
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      try {
        reader.releaseLock();
      } catch { /* a read is still pending only when the stream itself hangs */ }
    }
  }

  async #finishBackup(
    ex: Exited,
    out: { summary?: BackupSummaryMessage; unreadable: string[]; unreadableCount: number },
    action: string,
    opts: BackupOptions,
  ): Promise<BackupSummary> {
    const wasInterrupted = ex.code === RESTIC_EXIT.interrupted || ex.signal === "SIGINT";
    if (
      wasInterrupted || opts.signal?.aborted && ex.code !== 0 && ex.code !== RESTIC_EXIT.partial
    ) {
      throw interruptedError(action);
    }
    if (ex.code !== 0 && ex.code !== RESTIC_EXIT.partial) throw this.#fail(ex, action);
    if (!out.summary) {
      throw new StowageError(
        "repo.error",
        `Cannot ${action}: restic exited ${ex.code} without reporting a saved snapshot`,
        "Check the repository with `stowage doctor`; restic's last lines are below.",
        { details: ex.stderr.slice(-5) },
      );
    }
    const fullId = opts.shortId
      ? out.summary.snapshot_id
      : await this.#resolveId(out.summary.snapshot_id);
    const summary = toSummary(out.summary, fullId);
    if (ex.code === RESTIC_EXIT.partial) {
      if (opts.allowPartial) return { ...summary, unreadable: out.unreadable };
      const more = out.unreadableCount - out.unreadable.length;
      throw new StowageError(
        "repo.error",
        `Cannot ${action} completely: ${out.unreadableCount} source file(s) could not be read; ` +
          `snapshot ${summary.snapshotId.slice(0, 8)} was saved without them`,
        "Make the files readable (or exclude them) and back up again; the partial snapshot can be forgotten.",
        {
          details: [
            ...out.unreadable.map((p) => `unreadable: ${p}`),
            ...(more > 0 ? [`... and ${more} more`] : []),
            `partial snapshot: ${summary.snapshotId}`,
          ],
        },
      );
    }
    return summary;
  }

  /**
   * restic 0.14's summary carries only the short id. `snapshots --json <id>` resolves it: restic
   * matches the prefix against the snapshot files themselves, so the answer is exact.
   */
  async #resolveId(id: string): Promise<string> {
    if (/^[0-9a-f]{64}$/.test(id)) return id;
    const r = await this.#text(`look up snapshot ${id}`, ["snapshots", "--json", id]);
    const match = parseSnapshots(r.stdout).filter((s) => s.id.startsWith(id));
    if (match.length !== 1) {
      throw new StowageError(
        "repo.error",
        `Cannot look up the snapshot restic just saved (${id}): ${match.length} matches`,
        "List the snapshots with `stowage admin snapshot list`.",
      );
    }
    return match[0].id;
  }

  async forget(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const r = await this.#run(`forget ${ids.length} snapshot(s)`, ["forget", "--", ...ids]);
    const missing = ignoredIds(r.stderr);
    if (missing.length) {
      throw new StowageError(
        "snapshot.notfound",
        `Cannot forget snapshot(s) ${
          missing.join(", ")
        }: not in the repository '${this.displayLocation}'`,
        "The other snapshots were forgotten. List snapshots with `stowage admin snapshot list`.",
      );
    }
  }

  async prune(): Promise<void> {
    await this.#run("prune the repository", ["prune"]);
  }

  async check(opts: { readData?: boolean; readDataPercent?: number } = {}): Promise<void> {
    const pct = opts.readDataPercent;
    const subset = !opts.readData && pct !== undefined && pct > 0 && pct <= 100;
    await this.#run(
      opts.readData
        ? "check the repository and all its data"
        : subset
        ? `check the repository and ${pct}% of its data`
        : "check the repository",
      [
        "check",
        ...(opts.readData ? ["--read-data"] : subset ? [`--read-data-subset=${pct}%`] : []),
      ],
    );
  }

  async dump(snapshotId: string, path: string): Promise<Uint8Array> {
    const r = await this.#run(`read '${path}' from snapshot ${snapshotId}`, [
      "dump",
      "--no-lock",
      "--",
      snapshotId,
      path,
    ]);
    return r.stdout;
  }

  /**
   * `restic dump` as a stream: restic's stdout is handed on as it comes, never held whole. `done`
   * settles when restic exited (rejecting with the classified failure); an abort interrupts it.
   */
  dumpStream(snapshotId: string, path: string, signal?: AbortSignal): Promise<StreamSource> {
    const action = `read '${path}' from snapshot ${snapshotId}`;
    if (signal?.aborted) return Promise.reject(interruptedError(action));
    const s = this.#spawn([...this.#globalArgs(), "dump", "--", snapshotId, path]);
    const onAbort = () => this.#interrupt(s.child);
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = this.#exited(s).then((ex) => {
      signal?.removeEventListener("abort", onAbort);
      if (signal?.aborted) throw interruptedError(action);
      if (ex.code !== 0 || ex.signal) throw this.#fail(ex, action);
    });
    done.catch(() => {}); // observed by the consumer
    return Promise.resolve({ stream: s.child.stdout, done });
  }

  async restore(
    snapshotId: string,
    target: string,
    opts: { include?: string[]; path?: string; signal?: AbortSignal } = {},
  ): Promise<void> {
    const dest = resolve(target);
    const includes = (opts.include ?? []).flatMap((p) => ["--include", p]);
    if (!opts.path) {
      await this.#run(`restore snapshot ${snapshotId} to '${dest}'`, [
        "restore",
        "--target",
        dest,
        ...includes,
        "--",
        snapshotId,
      ], { signal: opts.signal });
      return;
    }
    // restic 0.14 has no `id:subpath`: restore the subtree into a staging folder next to the
    // target (same file system, so renames are cheap and atomic), then move it into place.
    const sub = "/" + opts.path.replace(/^\/+|\/+$/g, "");
    const parent = dest.replace(/\/[^/]*$/, "") || "/";
    await Deno.mkdir(parent, { recursive: true });
    const staging = await Deno.makeTempDir({ dir: parent, prefix: ".stowage-restore-" });
    try {
      await this.#run(`restore '${sub}' of snapshot ${snapshotId} to '${dest}'`, [
        "restore",
        "--target",
        staging,
        ...(includes.length ? includes : ["--include", sub]),
        "--",
        snapshotId,
      ], { signal: opts.signal });
      const restored = staging + (sub === "/" ? "" : sub);
      let st: Deno.FileInfo;
      try {
        st = await Deno.lstat(restored);
      } catch {
        throw new StowageError(
          "snapshot.notfound",
          `Cannot restore '${sub}' of snapshot ${snapshotId}: no such path in the snapshot`,
          "List the snapshot's paths with `stowage admin snapshot list --json`.",
        );
      }
      await moveInto(restored, st, dest);
    } finally {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
    }
  }

  async stats(
    opts: { snapshotIds?: string[]; mode?: "restore-size" | "raw-data" } = {},
  ): Promise<{ totalSize: number; totalFileCount?: number }> {
    const ids = opts.snapshotIds ?? [];
    const r = await this.#text("read repository statistics", [
      "stats",
      "--json",
      "--mode",
      opts.mode ?? "restore-size",
      ...(ids.length ? ["--", ...ids] : []),
    ]);
    const missing = ignoredIds(r.stderr);
    if (missing.length) {
      throw new StowageError(
        "snapshot.notfound",
        `Cannot read statistics of snapshot(s) ${
          missing.join(", ")
        }: not in the repository '${this.displayLocation}'`,
        "List snapshots with `stowage admin snapshot list`.",
      );
    }
    return parseStats(r.stdout);
  }

  async unlock(): Promise<void> {
    await this.#run("remove stale locks", ["unlock"]);
  }

  async locks(): Promise<string[]> {
    const r = await this.#text("list locks", ["list", "locks"]);
    return parseLockIds(r.stdout);
  }

  /** This repository as another one's copy destination (for app/copies.ts's use of `copy`). */
  get asCopyDestination(): CopyDestination {
    return {
      location: this.location,
      passwordFile: this.passwordFile,
      env: { ...this.#env },
      extraArgs: [...this.#extraArgs],
    };
  }

  /**
   * restic 0.14: `restic copy` with RESTIC_REPOSITORY=DEST and RESTIC_FROM_REPOSITORY=SRC in the
   * environment (never argv). Each password travels as a file named in the environment
   * (RESTIC_PASSWORD_FILE for the destination, RESTIC_FROM_PASSWORD_FILE for this repository).
   * restic runs both backends in one process with one environment and one set of `-o` options,
   * so the two sides' backend env and extra args are merged, and a clash is refused rather than
   * one side silently using the other's credentials or ssh command.
   */
  async copy(
    destination: CopyDestination,
    snapshotIds: string[] = [],
    opts: { signal?: AbortSignal } = {},
  ): Promise<void> {
    for (const id of snapshotIds) {
      if (!/^[0-9a-f]{8,64}$/.test(id)) throw new Error(`copy: bad snapshot id ${id}`);
    }
    const where = `${this.displayLocation} -> ${redactLocation(destination.location)}`;
    const both = this.#bothSides(destination);
    await this.#run(
      `copy snapshots to '${redactLocation(destination.location)}'`,
      ["copy", ...(snapshotIds.length ? ["--", ...snapshotIds] : [])],
      { env: both.env, location: where, globalArgs: both.globalArgs, signal: opts.signal },
    );
  }

  async initCopy(destination: CopyDestination): Promise<void> {
    const both = this.#bothSides(destination);
    await this.#run(
      `initialise a copy of '${this.displayLocation}' at '${redactLocation(destination.location)}'`,
      ["init", "--copy-chunker-params"],
      {
        env: both.env,
        location: redactLocation(destination.location),
        globalArgs: both.globalArgs,
      },
    );
  }

  #bothSides(destination: CopyDestination): { env: Record<string, string>; globalArgs: string[] } {
    const dest = redactLocation(destination.location);
    const env: Record<string, string> = { ...this.#env };
    for (const [k, v] of Object.entries(destination.env ?? {})) {
      if (k in env && env[k] !== v) {
        // The name only: the values are credentials.
        throw new StowageError(
          "config.invalid",
          `Cannot copy to '${dest}': it and '${this.displayLocation}' both set ${k} to different values, and restic copy runs both with one environment`,
          "Use one set of backend credentials valid for both repositories, or a different backend for the copy.",
        );
      }
      env[k] = v;
    }
    const mine = this.#extraArgs;
    const theirs = destination.extraArgs ?? [];
    if (mine.length && theirs.length && mine.join("\u0000") !== theirs.join("\u0000")) {
      throw new StowageError(
        "config.invalid",
        `Cannot copy to '${dest}': it and '${this.displayLocation}' need different ssh commands (sftp), and restic copy uses one for both`,
        "Reach one of them another way (rest:, rclone:), or use the same host, user, key and known_hosts for both.",
      );
    }
    const childEnv = {
      ...this.#childEnv(),
      ...env,
      RESTIC_REPOSITORY: destination.location,
      RESTIC_PASSWORD_FILE: destination.passwordFile,
      RESTIC_FROM_REPOSITORY: this.location,
      RESTIC_FROM_PASSWORD_FILE: this.passwordFile,
    };
    return {
      env: childEnv,
      globalArgs: [
        ...(this.#cacheDir ? ["--cache-dir", this.#cacheDir] : []),
        ...(mine.length ? mine : theirs),
      ],
    };
  }
}

// ---------------------------------------------------------------------------------------------

const interrupted = new WeakSet<Deno.ChildProcess>();

function interruptedError(action: string): StowageError {
  return new StowageError(
    "interrupted",
    `Interrupted while trying to ${action}; no snapshot was saved`,
    "Run the backup again.",
  );
}

function tagList(tags: string[]): string {
  for (const t of tags) {
    // restic splits --tag values on commas; a comma would silently make two tags.
    if (!t || t.includes(",")) {
      throw new Error(`restic tag ${JSON.stringify(t)} is empty or contains a comma`);
    }
  }
  return tags.join(",");
}

function backupArgs(opts: BackupOptions): string[] {
  const args = ["backup", "--json"];
  for (const t of opts.tags) args.push("--tag", tagList([t]));
  if (opts.host) args.push("--host", opts.host);
  if (opts.time) args.push("--time", resticTime(opts.time));
  if (opts.parent !== undefined) {
    if (!/^[0-9a-f]{8,64}$/.test(opts.parent)) {
      throw new Error(`backup: bad parent id ${opts.parent}`);
    }
    args.push("--parent", opts.parent);
  }
  for (const e of opts.excludes ?? []) args.push("--exclude", e);
  return args;
}

const MAX_UNREADABLE = 50;

async function readBackupOutput(stdout: ReadableStream<Uint8Array>, opts: BackupOptions) {
  let summary: BackupSummaryMessage | undefined;
  const unreadable: string[] = [];
  let unreadableCount = 0;
  for await (const line of lines(stdout)) {
    const m = parseBackupLine(line);
    if (!m) continue;
    if (m.message_type === "status") {
      try {
        opts.onProgress?.(toProgress(m));
      } catch { /* a broken progress renderer must not break a backup */ }
    } else if (m.message_type === "summary") {
      summary = m;
    } else {
      unreadableCount++;
      if (unreadable.length < MAX_UNREADABLE) unreadable.push(errorItem(m));
    }
  }
  return { summary, unreadable, unreadableCount };
}

/** Error messages from both streams (stdout in newer restic, stderr in 0.14). */
function withErrors(
  out: Awaited<ReturnType<typeof readBackupOutput>>,
  s: Spawned,
): Awaited<ReturnType<typeof readBackupOutput>> {
  const unreadable = [...out.unreadable, ...s.errors.map(errorItem)].slice(0, MAX_UNREADABLE);
  return { ...out, unreadable, unreadableCount: out.unreadableCount + s.errorCount };
}

/**
 * Puts a restored tree at `dest`: a plain rename when dest is absent or an empty directory that
 * can be removed; otherwise (e.g. a mount point) its entries are moved in one by one, replacing
 * same-named ones, and the root's mode, owner and times are copied.
 */
async function moveInto(src: string, st: Deno.FileInfo, dest: string) {
  let destInfo: Deno.FileInfo | undefined;
  try {
    destInfo = await Deno.lstat(dest);
  } catch { /* absent */ }
  if (!destInfo) {
    await Deno.rename(src, dest);
    return;
  }
  if (!st.isDirectory || !destInfo.isDirectory) {
    await Deno.remove(dest, { recursive: true });
    await Deno.rename(src, dest);
    return;
  }
  for await (const e of Deno.readDir(src)) {
    const to = `${dest}/${e.name}`;
    await Deno.remove(to, { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
    await Deno.rename(`${src}/${e.name}`, to);
  }
  if (st.uid !== null && st.gid !== null) await Deno.chown(dest, st.uid, st.gid);
  if (st.mode !== null) await Deno.chmod(dest, st.mode & 0o7777);
  if (st.atime && st.mtime) await Deno.utime(dest, st.atime, st.mtime);
}

/**
 * A lock left by a restic that died on this host (restic 0.14 does not clear it): waiting cannot
 * help, `stowage admin repo unlock` does. Read from restic's "locked by PID N on HOST" text.
 */
async function heldByDeadProcess(message: string): Promise<boolean> {
  const m = /PID (\d+) on (\S+)/.exec(message);
  if (!m || m[2] !== Deno.hostname()) return false;
  return !(await processExists(m[1]));
}

/**
 * Whether process `pid` runs on this host. Deno refuses /proc without --allow-all (NotCapable, so
 * a stat there always failed and every live local lock looked dead), so `sh` looks; `kill -0`
 * would say no for another user's process. When sh cannot be run, the process counts as alive:
 * waiting for a dead lock costs time, not waiting for a live one fails the command.
 */
async function processExists(pid: string): Promise<boolean> {
  try {
    return (await new Deno.Command("sh", {
      args: ["-c", 'test -d "/proc/$1"', "sh", pid],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output()).success;
  } catch {
    return true;
  }
}

/** How long a command waits for another process's lock on the repository before it fails. */
export const LOCK_WAIT_MS = 90_000;

/**
 * Runs `attempt` again while it fails with `repo.locked`, after 1, 2, 4, 8, 15, 15, ... seconds,
 * until LOCK_WAIT_MS has passed; then the last error stands. An abort ends the wait at once.
 */
export async function retryWhileLocked<T>(
  attempt: () => Promise<T>,
  signal?: AbortSignal,
  waitMs = LOCK_WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let delay = 1000;; delay = Math.min(delay * 2, 15_000)) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof StowageError && e.code === "repo.locked")) throw e;
      if (Date.now() + delay > deadline || signal?.aborted) throw e;
      if (await heldByDeadProcess(e.message)) throw e;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, delay);
        function done() {
          clearTimeout(t);
          signal?.removeEventListener("abort", done);
          resolve();
        }
        signal?.addEventListener("abort", done, { once: true });
      });
      if (signal?.aborted) throw e;
    }
  }
}

/**
 * `unshare` arguments that bind each source read-only over its target in a private mount
 * namespace, then exec restic there: the host and its containers never see these mounts, and
 * they vanish with the process, whatever kills it.
 */
export function inMountNamespace(
  mounts: { source: string; target: string }[],
  program: string,
  args: string[],
): string[] {
  for (const m of mounts) {
    if (!m.source.startsWith("/") || !m.target.startsWith("/")) {
      throw new Error(`mount paths must be absolute: ${m.source} -> ${m.target}`);
    }
  }
  const script = [
    "set -e",
    'while [ "$1" != "--" ]; do',
    '  mount --bind "$1" "$2"',
    '  mount -o remount,bind,ro "$2"',
    "  shift 2",
    "done",
    "shift",
    'exec "$@"',
  ].join("\n");
  return [
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    script,
    "sh",
    ...mounts.flatMap((m) => [m.source, m.target]),
    "--",
    program,
    ...args,
  ];
}
