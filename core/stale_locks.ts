/**
 * A lock left by a killed restic, removed only when a command fails on it (docs/repository.md,
 * "Stale locks"): backups and restores share this, so neither lists locks up front.
 */
import type { BackupRepository, EventSink } from "./ports.ts";
import { isStowageError } from "./errors.ts";

/**
 * Runs `fn`; when it fails because the repository is locked, removes stale locks once (`restic
 * unlock` removes only locks whose process is gone, or that nobody refreshed for 30 minutes) and
 * runs it again. A killed restic leaves such a lock; looking for one only when a command fails on
 * it, instead of listing locks at every run, saves a restic process (a repository open) per run.
 * A live lock stays, and the second failure stands.
 */
export async function removingStaleLocks<T>(
  repo: Pick<BackupRepository, "unlock">,
  sink: EventSink,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!isStowageError(e, "repo.locked")) throw e;
    // Another run may be removing the same stale lock (restic then fails on the file it just
    // deleted): whatever unlock says, the second try tells whether the repository opens now.
    await repo.unlock().catch(() => {});
    const out = await fn();
    sink.emit({
      type: "log",
      level: "info",
      message: "Removed stale repository locks left by an interrupted restic.",
    });
    return out;
  }
}
