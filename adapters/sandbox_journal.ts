/**
 * The sandbox journal on disk (core/verify/ports.ts): one JSON file in the state directory,
 * replaced atomically on every change like the restart journal. Only the holder of the host lock
 * writes it.
 */
import type { SandboxJournal, SandboxRecord } from "../core/verify/ports.ts";
import { readTextIfExists, writeFileAtomic } from "./files.ts";

export class FileSandboxJournal implements SandboxJournal {
  constructor(readonly path: string) {}

  async read(): Promise<SandboxRecord[]> {
    const text = await readTextIfExists(this.path);
    if (!text) return [];
    try {
      const doc = JSON.parse(text) as { sandboxes?: SandboxRecord[] };
      return Array.isArray(doc.sandboxes) ? doc.sandboxes : [];
    } catch {
      await Deno.rename(this.path, `${this.path}.unreadable-${Date.now()}`).catch(() => {});
      return [];
    }
  }

  async record(r: SandboxRecord): Promise<void> {
    const rest = (await this.read()).filter((x) => x.runId !== r.runId);
    await this.#write([...rest, r]);
  }

  async clear(runId: string): Promise<void> {
    const all = await this.read();
    const rest = all.filter((x) => x.runId !== runId);
    if (rest.length !== all.length) await this.#write(rest);
  }

  async #write(sandboxes: SandboxRecord[]) {
    if (sandboxes.length === 0) {
      await Deno.remove(this.path).catch(() => {});
      return;
    }
    await writeFileAtomic(this.path, JSON.stringify({ sandboxes }, null, 2) + "\n", 0o600);
    const dir = this.path.substring(0, this.path.lastIndexOf("/")) || ".";
    try {
      const d = await Deno.open(dir, { read: true });
      try {
        await d.sync();
      } finally {
        d.close();
      }
    } catch { /* fsync on a directory may be refused; the file itself is synced */ }
  }
}
