/** RestoreFiles on the local file system (Deno built-ins). */
import type { PathState } from "../core/restore/plan.ts";
import type { RestoreFiles } from "../core/restore/ports.ts";
import { exists, ioError, readTextIfExists, writeFileAtomic } from "./files.ts";
import { mountOf, parseFindmnt } from "./fs_snapshot.ts";
import type { MountInfo } from "../core/fs_snapshot/plan.ts";

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
   * The mount point holding each path after symlinks are resolved (`mountOf`, as the filesystem
   * snapshot probe finds it), from one `findmnt` listing for all paths (Deno refuses
   * /proc/self/mountinfo without --allow-all).
   */
  async mountsOf(paths: string[]): Promise<(string | undefined)[]> {
    if (paths.length === 0) return [];
    let mounts: MountInfo[];
    try {
      const out = await new Deno.Command("findmnt", {
        args: ["-J", "-l", "-o", "TARGET"],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).output();
      if (!out.success) return paths.map(() => undefined);
      mounts = parseFindmnt(new TextDecoder().decode(out.stdout));
    } catch {
      return paths.map(() => undefined);
    }
    const out: (string | undefined)[] = [];
    for (const path of paths) {
      const real = await realAncestor(path);
      out.push(real === undefined ? undefined : mountOf(real, mounts)?.target);
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
