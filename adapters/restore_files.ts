/** RestoreFiles on the local file system (Deno built-ins). */
import type { PathState } from "../core/restore/plan.ts";
import type { RestoreFiles } from "../core/restore/ports.ts";
import { exists, ioError, readTextIfExists, writeFileAtomic } from "./files.ts";

export class LocalRestoreFiles implements RestoreFiles {
  async probeDir(path: string): Promise<PathState> {
    try {
      for await (const _ of Deno.readDir(path)) return "data";
      return "empty";
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return "absent";
      if (e instanceof Deno.errors.NotADirectory) return "data";
      return "unreadable";
    }
  }

  async readText(path: string): Promise<string | null> {
    try {
      return (await readTextIfExists(path)) ?? null;
    } catch (e) {
      throw ioError(`read '${path}'`, e);
    }
  }

  async writeFile(path: string, content: string | Uint8Array, mode: number): Promise<void> {
    await this.mkdirp(path.substring(0, path.lastIndexOf("/")) || "/");
    await writeFileAtomic(path, content, mode);
  }

  async mkdirp(path: string): Promise<void> {
    try {
      await Deno.mkdir(path, { recursive: true });
    } catch (e) {
      throw ioError(`create folder '${path}'`, e);
    }
  }

  async makeSibling(path: string, tag: string): Promise<string> {
    const parent = path.substring(0, path.lastIndexOf("/")) || "/";
    const base = path.substring(path.lastIndexOf("/") + 1);
    await this.mkdirp(parent);
    try {
      return await Deno.makeTempDir({ dir: parent, prefix: `${base}.${tag}-` });
    } catch (e) {
      throw ioError(`create a staging folder next to '${path}'`, e);
    }
  }

  /**
   * The mount point holding each path after symlinks are resolved: the longest of `findmnt`'s
   * targets that contains it, from one listing for all paths (Deno refuses /proc/self/mountinfo
   * without --allow-all).
   */
  async mountsOf(paths: string[]): Promise<(string | undefined)[]> {
    if (paths.length === 0) return [];
    let listing: string;
    try {
      const out = await new Deno.Command("findmnt", {
        args: ["-rn", "-o", "TARGET"],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).output();
      if (!out.success) return paths.map(() => undefined);
      listing = new TextDecoder().decode(out.stdout);
    } catch {
      return paths.map(() => undefined);
    }
    // findmnt -r writes unusual characters as \xHH.
    const points = listing.split("\n").filter((l) => l.startsWith("/")).map((line) =>
      line.replaceAll(/\\x([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)))
    );
    const out: (string | undefined)[] = [];
    for (const path of paths) {
      const real = await realAncestor(path);
      let best: string | undefined;
      if (real !== undefined) {
        for (const point of points) {
          const within = point === "/" || real === point || real.startsWith(`${point}/`);
          if (within && (best === undefined || point.length > best.length)) best = point;
        }
      }
      out.push(best);
    }
    return out;
  }

  async rename(from: string, to: string): Promise<void> {
    try {
      await Deno.rename(from, to);
    } catch (e) {
      throw ioError(`move '${from}' to '${to}'`, e);
    }
  }

  async removeTree(path: string): Promise<void> {
    try {
      await Deno.remove(path, { recursive: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw ioError(`remove '${path}'`, e);
    }
  }

  exists(path: string): Promise<boolean> {
    return exists(path);
  }

  async list(path: string): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const e of Deno.readDir(path)) out.push(e.name);
    } catch (e) {
      throw ioError(`list '${path}'`, e);
    }
    return out.sort();
  }
}

/** The path with symlinks resolved, or its nearest existing ancestor's; undefined if none. */
async function realAncestor(path: string): Promise<string | undefined> {
  for (let p = path;; p = p.substring(0, p.lastIndexOf("/")) || "/") {
    try {
      return await Deno.realPath(p);
    } catch {
      if (p === "/") return undefined;
    }
  }
}
