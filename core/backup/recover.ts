/**
 * Crash recovery: start whatever the restart journal says a dead run left stopped. Called with the
 * host lock held (so no live backup owns those entries) by every command that touches Docker,
 * by doctor, and by the systemd units' ExecStopPost.
 */
import type { EngineLifecycle, EventSink, RestartJournal } from "../ports.ts";
import { errorMessage } from "../errors.ts";

export interface RecoveryResult {
  started: string[];
  failed: { container: string; error: string }[];
  units: string[];
}

export async function recoverFromJournal(
  journal: RestartJournal,
  engine: EngineLifecycle,
  sink: EventSink,
  startedBy: string,
): Promise<RecoveryResult> {
  const result: RecoveryResult = { started: [], failed: [], units: [] };
  for (const entry of await journal.read()) {
    result.units.push(entry.unit);
    let ok = true;
    for (const name of entry.containers) {
      try {
        await engine.startContainer(name);
        result.started.push(name);
      } catch (e) {
        // A container removed since the crash cannot be started; anything else is kept for retry.
        const gone = (e as { code?: string }).code === "engine.notfound";
        if (!gone) ok = false;
        result.failed.push({ container: name, error: errorMessage(e) });
      }
    }
    if (ok) await journal.clear(entry.unit);
  }
  if (result.units.length > 0) {
    sink.emit({ type: "journal.recovered", containers: result.started, startedBy });
  }
  return result;
}
