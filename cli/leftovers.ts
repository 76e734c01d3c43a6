/**
 * Crash leftovers for commands that touch Docker: if no backup holds the host lock, start what the
 * restart journal lists. Used by restore, doctor-like commands and `admin system recover-journal`
 * (the systemd units' ExecStopPost); backup does the same under the lock it already holds.
 */
import type { LoadedConfig, Runtime } from "./runtime.ts";
import type { DockerEngine, EventSink } from "../core/ports.ts";
import { recoverFromJournal, type RecoveryResult } from "../core/backup/recover.ts";
import { acquireHostLock } from "../adapters/lock.ts";
import { FileRestartJournal } from "../adapters/journal.ts";
import { isStowageError } from "../core/errors.ts";

export async function recoverLeftovers(
  rt: Runtime,
  loaded: LoadedConfig,
  engine: DockerEngine,
  sink: EventSink,
  who: string,
): Promise<RecoveryResult | "busy"> {
  const journal = new FileRestartJournal(loaded.paths.journalFile);
  if ((await journal.read()).length === 0) return { started: [], failed: [], units: [] };
  try {
    using _lock = await acquireHostLock(loaded.paths.lockFile, { clock: rt.clock, command: who });
    return await recoverFromJournal(journal, engine, sink, who);
  } catch (e) {
    // A live backup owns the journal entries; it will start its containers itself.
    if (isStowageError(e, "lock.held")) return "busy";
    throw e;
  }
}
