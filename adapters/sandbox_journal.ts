/**
 * The sandbox journal on disk (core/verify/ports.ts): one JSON file in the state directory,
 * replaced atomically on every change like the restart journal. Only the holder of the host lock
 * writes it.
 */
import type { SandboxJournal, SandboxRecord } from "../core/verify/ports.ts";
import { RecordFile } from "./record_file.ts";

export class FileSandboxJournal implements SandboxJournal {
  readonly #file: RecordFile<SandboxRecord>;
  constructor(readonly path: string) {
    this.#file = new RecordFile<SandboxRecord>(path, "sandboxes", (r) => r.runId);
  }

  read(): Promise<SandboxRecord[]> {
    return this.#file.read();
  }

  record(r: SandboxRecord): Promise<void> {
    return this.#file.put(r);
  }

  clear(runId: string): Promise<void> {
    return this.#file.remove(runId);
  }
}
