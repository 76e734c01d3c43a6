/**
 * A small list of records kept in one JSON file in the state directory (the restart journal, the
 * restore drills' sandbox journal, the filesystem snapshot journal): replaced atomically (temp
 * file, fsync, rename) and the directory fsynced on every change, so a SIGKILL or power loss
 * leaves either the old list or the new one. Only the holder of the host lock writes them.
 */
import { readTextIfExists, writeFileAtomic } from "./files.ts";

export class RecordFile<T> {
  /**
   * `key`: the document's list property (`{ "<key>": [...] }`); `id`: a record's identity (one
   * record per id); `unreadable`: what a file that is not JSON becomes — `keep` renames it aside
   * for a human and reads as empty, `throw` fails the read.
   */
  constructor(
    readonly path: string,
    readonly key: string,
    readonly id: (record: T) => string,
    readonly unreadable: "keep" | "throw" = "keep",
  ) {}

  async read(): Promise<T[]> {
    const text = await readTextIfExists(this.path);
    if (!text) return [];
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      if (this.unreadable === "throw") throw e;
      // A torn file cannot happen with rename, but a hand-edited one can: keep it for a human.
      await Deno.rename(this.path, `${this.path}.unreadable-${Date.now()}`).catch(() => {});
      return [];
    }
    const list = doc?.[this.key];
    return Array.isArray(list) ? list as T[] : [];
  }

  /** Adds the record, replacing one with the same id. */
  async put(record: T): Promise<void> {
    const rest = (await this.read()).filter((r) => this.id(r) !== this.id(record));
    await this.#write([...rest, record]);
  }

  /** Drops the record with this id; the file goes when the list is empty. */
  async remove(id: string): Promise<void> {
    const all = await this.read();
    const rest = all.filter((r) => this.id(r) !== id);
    if (rest.length !== all.length) await this.#write(rest);
  }

  async #write(records: T[]) {
    if (records.length === 0) {
      await Deno.remove(this.path).catch(() => {});
    } else {
      await writeFileAtomic(
        this.path,
        JSON.stringify({ [this.key]: records }, null, 2) + "\n",
        0o600,
      );
    }
    // The rename (or removal) must be durable too: sync the directory.
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
