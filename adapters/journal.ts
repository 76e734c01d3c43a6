/**
 * The restart journal on disk: one JSON file in the state directory, replaced atomically and
 * fsynced on every change, so a SIGKILL or power loss between stop and start leaves a record
 * of what must be started again. Only the holder of the host lock writes it.
 */
import type { JournalEntry, RestartJournal } from "../core/ports.ts";
import { readTextIfExists, writeFileAtomic } from "./files.ts";

export class FileRestartJournal implements RestartJournal {
  constructor(readonly path: string) {}

  async read(): Promise<JournalEntry[]> {
    const text = await readTextIfExists(this.path);
    if (!text) return [];
    try {
      const doc = JSON.parse(text) as { entries?: JournalEntry[] };
      return doc.entries ?? [];
    } catch {
      // A torn file cannot happen with rename, but a hand-edited one can: keep it for a human.
      await Deno.rename(this.path, `${this.path}.unreadable-${Date.now()}`).catch(() => {});
      return [];
    }
  }

  async record(entry: JournalEntry): Promise<void> {
    const entries = (await this.read()).filter((e) => e.unit !== entry.unit);
    await this.#write([...entries, entry]);
  }

  async clear(unit: string): Promise<void> {
    const entries = await this.read();
    const rest = entries.filter((e) => e.unit !== unit);
    if (rest.length !== entries.length) await this.#write(rest);
  }

  async #write(entries: JournalEntry[]) {
    if (entries.length === 0) {
      await Deno.remove(this.path).catch(() => {});
      return;
    }
    await writeFileAtomic(this.path, JSON.stringify({ entries }, null, 2) + "\n", 0o600);
    // The rename must be durable too: sync the directory.
    const dir = this.path.substring(0, this.path.lastIndexOf("/")) || ".";
    try {
      const d = await Deno.open(dir, { read: true });
      try {
        await d.sync();
      } finally {
        d.close();
      }
    } catch { /* some file systems refuse fsync on a directory; the file itself is synced */ }
  }
}
