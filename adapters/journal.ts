/**
 * The restart journal on disk: one JSON file in the state directory, replaced atomically and
 * fsynced on every change, so a SIGKILL or power loss between stop and start leaves a record
 * of what must be started again. Only the holder of the host lock writes it.
 */
import type { JournalEntry, RestartJournal } from "../core/ports.ts";
import { RecordFile } from "./record_file.ts";

export class FileRestartJournal implements RestartJournal {
  readonly #file: RecordFile<JournalEntry>;
  constructor(readonly path: string) {
    this.#file = new RecordFile<JournalEntry>(path, "entries", (e) => e.unit);
  }

  read(): Promise<JournalEntry[]> {
    return this.#file.read();
  }

  record(entry: JournalEntry): Promise<void> {
    return this.#file.put(entry);
  }

  clear(unit: string): Promise<void> {
    return this.#file.remove(unit);
  }
}
