/** HostFiles on the local file system; sizes through `du` (faster than walking in JS). */
import type { HostFiles, ProcessRunner } from "../core/ports.ts";
import { exists } from "./files.ts";

/** Paths per `du` call in `sizes` (well below any argument-length limit). */
const SIZE_BATCH = 256;

export class LocalHostFiles implements HostFiles {
  constructor(private runner: ProcessRunner) {}

  async canReadDir(path: string): Promise<boolean> {
    try {
      for await (const _ of Deno.readDir(path)) break;
      return true;
    } catch {
      return false;
    }
  }

  async mode(path: string): Promise<number | undefined> {
    try {
      return ((await Deno.stat(path)).mode ?? 0o644) & 0o7777;
    } catch {
      return undefined;
    }
  }

  async existing(paths: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const p of paths) if (await exists(p)) out.push(p);
    return out;
  }

  /**
   * A different device than its parent folder: a disk, share, loop or tmpfs mounted there. Deno
   * refuses /proc/self/mountinfo without --allow-all, so a bind mount from the same file system
   * is not seen; restic reads through either kind, this only feeds what dry-run says.
   */
  async isMountPoint(path: string): Promise<boolean> {
    try {
      const p = path.length > 1 ? path.replace(/\/+$/, "") : path;
      if (p === "/") return true;
      const [self, parent] = await Promise.all([
        Deno.stat(p),
        Deno.stat(p.slice(0, p.lastIndexOf("/")) || "/"),
      ]);
      return self.isDirectory && self.dev !== parent.dev;
    } catch {
      return false;
    }
  }

  async size(path: string): Promise<number | undefined> {
    try {
      const r = await this.runner.run("du", ["-sb", "--", path]);
      if (r.code !== 0) return undefined;
      const n = Number(r.stdout.split(/\s/)[0]);
      return Number.isFinite(n) ? n : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * `size` of each path from as few `du` processes as give the same answers: one call for all the
   * paths that neither hold nor lie inside another (du counts a folder it meets twice only once),
   * the others one by one, and one by one again for a call that fails (a path unreadable or gone)
   * or leaves a path out, so one bad path never hides the others' sizes. Differs from one `du` per
   * path only for a file hard-linked between two of the paths: it is counted under the first.
   */
  async sizes(paths: string[]): Promise<Map<string, number | undefined>> {
    const unique = [...new Set(paths)];
    const out = new Map<string, number | undefined>();
    const real = await Promise.all(unique.map((p) => Deno.realPath(p).catch(() => p)));
    const within = (a: string, b: string) => a === b || a.startsWith(b === "/" ? b : `${b}/`);
    const alone: string[] = [];
    const shared: string[] = [];
    unique.forEach((p, i) =>
      (real.some((r, j) => j !== i && (within(real[i], r) || within(r, real[i]))) ? alone : shared)
        .push(p)
    );
    for (let i = 0; i < shared.length; i += SIZE_BATCH) {
      const batch = shared.slice(i, i + SIZE_BATCH);
      const got = batch.length > 1 ? await this.#du(batch) : new Map();
      for (const p of batch) {
        if (!got.has(p)) alone.push(p);
        else out.set(p, got.get(p));
      }
    }
    for (const p of alone) out.set(p, await this.size(p));
    return out;
  }

  /** One `du -s` over several paths; empty when it fails, so the caller measures them one by one. */
  async #du(paths: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    try {
      const r = await this.runner.run("du", ["-sb0", "--", ...paths]);
      if (r.code !== 0) return out;
      for (const rec of r.stdout.split("\0")) {
        const tab = rec.indexOf("\t");
        const n = Number(rec.slice(0, tab));
        if (tab > 0 && Number.isFinite(n)) out.set(rec.slice(tab + 1), n);
      }
    } catch {
      out.clear();
    }
    return out;
  }

  async readFile(
    path: string,
  ): Promise<{ bytes: Uint8Array; mode: number } | "absent" | "unreadable" | "not-a-file"> {
    try {
      const st = await Deno.stat(path);
      if (!st.isFile) return "not-a-file";
      return { bytes: await Deno.readFile(path), mode: (st.mode ?? 0o644) & 0o7777 };
    } catch (e) {
      return e instanceof Deno.errors.NotFound ? "absent" : "unreadable";
    }
  }

  async walk(
    dir: string,
  ): Promise<
    | { rel: string; type: "file" | "dir" | "symlink" | "other"; size: number }[]
    | "absent"
    | "unreadable"
    | "not-a-folder"
  > {
    try {
      if (!(await Deno.stat(dir)).isDirectory) return "not-a-folder";
    } catch (e) {
      return e instanceof Deno.errors.NotFound ? "absent" : "unreadable";
    }
    const out: { rel: string; type: "file" | "dir" | "symlink" | "other"; size: number }[] = [];
    const visit = async (rel: string) => {
      const entries: Deno.DirEntry[] = [];
      for await (const e of Deno.readDir(rel ? `${dir}/${rel}` : dir)) entries.push(e);
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory) {
          out.push({ rel: r, type: "dir", size: 0 });
          await visit(r);
        } else if (e.isSymlink) out.push({ rel: r, type: "symlink", size: 0 });
        else if (e.isFile) {
          const size = (await Deno.lstat(`${dir}/${r}`).catch(() => undefined))?.size ?? 0;
          out.push({ rel: r, type: "file", size });
        } else out.push({ rel: r, type: "other", size: 0 });
      }
    };
    try {
      await visit("");
    } catch {
      return "unreadable";
    }
    return out;
  }
}
