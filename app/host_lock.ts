/**
 * The host lock and crash recovery, written once: take the lock, then start whatever the restart
 * journal says a dead run left stopped. Backup, restore, doctor, `admin system recover-journal`
 * and the daemon all go through here, so they agree on the order (lock first: a live backup owns
 * its journal entries).
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import type { HostLock, LockHolder } from "../core/host_lock.ts";
import type { EngineLifecycle, EventSink, RestartJournal } from "../core/ports.ts";
import { recoverFromJournal, type RecoveryResult } from "../core/backup/recover.ts";
import { isStowageError } from "../core/errors.ts";
import type { FsSnapshots } from "../core/fs_snapshot/ports.ts";
import { cleanLeftovers, type LeftoverResult } from "../core/fs_snapshot/run.ts";
import type { Services } from "./services.ts";
import {
  removeRecordedSandboxes,
  type SandboxEngine,
  type SandboxRemoval,
  verifyRoot,
} from "../core/verify/cleanup.ts";

/** Where the sandbox journal of restore drills lives. */
export function sandboxJournalFile(loaded: LoadedConfig): string {
  return `${loaded.paths.stateDir}/verify-sandboxes.json`;
}

/**
 * The sandboxes a killed drill left (the sandbox journal lists them and, under the host lock, no
 * live drill owns them): removed, each with a log line. Kept ones (`verify --keep`) stay.
 */
async function removeLeftoverSandboxes(
  svc: HostLockServices,
  loaded: LoadedConfig,
  engine: EngineLifecycle & Partial<SandboxEngine>,
  sink: EventSink,
  who: string,
): Promise<SandboxRemoval[]> {
  if (!svc.sandboxJournal || !svc.restoreFiles) return [];
  const journal = svc.sandboxJournal(sandboxJournalFile(loaded));
  if (!(await journal.read()).some((r) => !r.keep)) return [];
  if (!isSandboxEngine(engine)) return [];
  const removed = await removeRecordedSandboxes(
    journal,
    engine,
    svc.restoreFiles,
    verifyRoot(loaded.paths.stateDir),
  );
  for (const r of removed) {
    sink.emit({
      type: "log",
      level: r.problems.length ? "warning" : "info",
      message: r.problems.length
        ? `${who}: could not remove all of the restore drill sandbox ${r.runId} of ${r.unit} a stopped run left: ${
          r.problems.join("; ")
        }`
        : `${who}: removed the restore drill sandbox ${r.runId} of ${r.unit} a stopped run left (${r.removed.length} objects)`,
      unit: r.unit,
    });
  }
  return removed;
}

function isSandboxEngine(e: object): e is SandboxEngine {
  const x = e as Partial<SandboxEngine>;
  return typeof x.listContainers === "function" && typeof x.listVolumes === "function" &&
    typeof x.listNetworks === "function" && typeof x.removeVolume === "function" &&
    typeof x.removeNetwork === "function";
}

export type HostLockServices =
  & Pick<Services, "clock" | "locks" | "journal" | "fsSnapshots">
  & Partial<Pick<Services, "sandboxJournal" | "restoreFiles">>;

export interface LockedHost {
  lock: HostLock;
  journal: RestartJournal;
  /** What the journal listed and what was started again. */
  recovered: RecoveryResult;
  /** Filesystem snapshots, after a killed run's leftovers were deleted (issue 18). */
  fsSnapshots?: FsSnapshots;
  /** What the snapshot journal listed and what became of it. */
  snapshotsLeft?: LeftoverResult;
  /** Sandboxes of restore drills a dead run left, removed now (app/verify.ts). */
  sandboxes: SandboxRemoval[];
  [Symbol.dispose](): void;
}

/**
 * Takes the host lock (waiting as asked), then recovers from the restart journal under it.
 * Dispose the result to release the lock; it is released at once if recovery throws.
 */
export async function lockAndRecover(
  svc: HostLockServices,
  loaded: LoadedConfig,
  engine: EngineLifecycle,
  sink: EventSink,
  opts: {
    command: string;
    waitSeconds?: number;
    signal?: AbortSignal;
    units?: string[];
    onWait?: (holder: LockHolder | undefined) => void;
  },
): Promise<LockedHost> {
  const lock = await svc.locks.acquire(loaded.paths.lockFile, { ...opts, clock: svc.clock });
  try {
    const journal = svc.journal(loaded.paths.journalFile);
    const recovered = await recoverFromJournal(journal, engine, sink, opts.command);
    const fsSnapshots = svc.fsSnapshots?.(loaded.paths.journalFile);
    const snapshotsLeft = fsSnapshots
      ? await removeLeftoverSnapshots(fsSnapshots, sink, opts.command)
      : undefined;
    const sandboxes = await removeLeftoverSandboxes(svc, loaded, engine, sink, opts.command);
    return {
      lock,
      journal,
      recovered,
      fsSnapshots,
      snapshotsLeft,
      sandboxes,
      [Symbol.dispose]: () => lock.release(),
    };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/**
 * Crash leftovers for commands that touch Docker outside a run: if the journal lists anything and
 * no backup holds the host lock, start it. "busy" when a live run holds the lock (it starts its
 * containers itself). Used by `admin system recover-journal` (the units' ExecStopPost).
 */
export async function recoverLeftovers(
  svc: HostLockServices,
  loaded: LoadedConfig,
  engine: EngineLifecycle,
  sink: EventSink,
  who: string,
): Promise<RecoveryResult | "busy"> {
  const journal = svc.journal(loaded.paths.journalFile);
  const snapshotsLeft = await svc.fsSnapshots?.(loaded.paths.journalFile).entries().catch(() => []);
  const sandboxes = svc.sandboxJournal?.(sandboxJournalFile(loaded));
  const leftSandboxes = (await sandboxes?.read() ?? []).some((r) => !r.keep);
  if ((await journal.read()).length === 0 && !snapshotsLeft?.length && !leftSandboxes) {
    return { started: [], failed: [], units: [] };
  }
  try {
    using host = await lockAndRecover(svc, loaded, engine, sink, { command: who });
    return host.recovered;
  } catch (e) {
    if (isStowageError(e, "lock.held")) return "busy";
    throw e;
  }
}

/** Filesystem snapshots a killed run left are deleted; what cannot be is said, never fatal. */
async function removeLeftoverSnapshots(
  port: FsSnapshots,
  sink: EventSink,
  who: string,
): Promise<LeftoverResult> {
  const r = await cleanLeftovers(port);
  if (r.removed.length > 0) {
    sink.emit({
      type: "log",
      level: "info",
      message: `deleted filesystem snapshot(s) left by an interrupted run (found by ${who}): ${
        r.removed.join(", ")
      }`,
    });
  }
  for (const f of r.failed) {
    sink.emit({
      type: "log",
      level: "warning",
      message: `could not delete the filesystem snapshot ${f.snapshot}: ${f.error}`,
    });
  }
  return r;
}
