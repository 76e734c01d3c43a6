/**
 * Sinks for a verified bundle's second read: extracting it into a directory, or installing its
 * files where they lived on the old host. Both stage first (a 0700 temp directory; temp files
 * next to each target) and commit only after the whole bundle read back clean, so a failure
 * leaves nothing behind. Installing follows recover.sh: a file already in place is left alone, a
 * different one is kept aside as PATH.before-recovery-<id>; new directories are 0700, files 0600.
 */
import { createHash } from "node:crypto";
import type {
  BundleManifest,
  BundleSink,
  InstallTarget,
  ManifestFile,
} from "../../core/recovery/mod.ts";
import { exists, ioError } from "../files.ts";
import { fileChunks } from "./bundle_io.ts";

async function writeAll(f: Deno.FsFile, chunk: Uint8Array) {
  let off = 0;
  while (off < chunk.length) off += await f.write(chunk.subarray(off));
}

async function writeStreamTo(path: string, body: AsyncIterable<Uint8Array>, mode: number) {
  const f = await Deno.open(path, { write: true, createNew: true, mode });
  try {
    await Deno.chmod(path, mode);
    for await (const c of body) await writeAll(f, c);
    await f.sync();
  } finally {
    f.close();
  }
}

async function sha256File(path: string): Promise<string | undefined> {
  try {
    const st = await Deno.lstat(path);
    if (!st.isFile) return undefined;
    const h = createHash("sha256");
    for await (const c of fileChunks(path)) h.update(c);
    return h.digest("hex");
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

const dirname = (p: string) => p.substring(0, p.lastIndexOf("/")) || "/";
const basename = (p: string) => p.substring(p.lastIndexOf("/") + 1);

/** Extracts into `<parent>/<bundle root>/`, which must not exist yet. */
export class ExtractSink implements BundleSink {
  #tmp: string | undefined;
  #root: string | undefined;
  constructor(readonly parent: string) {}

  /** The staging directory while the bundle is read (undefined before begin and after commit). */
  get stagedPath(): string | undefined {
    return this.#tmp;
  }

  async begin(manifest: BundleManifest, raw: Uint8Array) {
    this.#root = `stowage-recovery-${manifest.bundle_id}`;
    const target = `${this.parent}/${this.#root}`;
    if (await exists(target)) {
      throw ioError(
        `extract the bundle into '${target}'`,
        new Deno.errors.AlreadyExists("it already exists"),
      );
    }
    this.#tmp = `${this.parent}/.${this.#root}.tmp-${crypto.randomUUID().slice(0, 8)}`;
    try {
      await Deno.mkdir(this.#tmp, { mode: 0o700 });
      await Deno.chmod(this.#tmp, 0o700);
      await Deno.mkdir(`${this.#tmp}/files`, { mode: 0o700 });
      await Deno.chmod(`${this.#tmp}/files`, 0o700);
      await Deno.writeFile(`${this.#tmp}/manifest.json`, raw, { mode: 0o600, createNew: true });
    } catch (e) {
      throw ioError(`extract the bundle into '${this.parent}'`, e);
    }
  }

  async file(file: ManifestFile, body: AsyncIterable<Uint8Array>) {
    const path = `${this.#tmp}/${file.name}`;
    try {
      await writeStreamTo(path, body, parseInt(file.mode, 8));
    } catch (e) {
      throw ioError(`extract '${file.name}' into '${this.parent}'`, e);
    }
  }

  /** Moves the staged directory into place; returns its path. */
  async commit(): Promise<string> {
    const target = `${this.parent}/${this.#root}`;
    try {
      await Deno.rename(this.#tmp!, target);
    } catch (e) {
      throw ioError(`extract the bundle into '${target}'`, e);
    }
    this.#tmp = undefined;
    return target;
  }

  async abort() {
    if (this.#tmp) await Deno.remove(this.#tmp, { recursive: true }).catch(() => {});
    this.#tmp = undefined;
  }
}

export interface InstallResult {
  path: string;
  name: string;
  action: "installed" | "in place" | "replaced";
  /** Where the previous file was moved when it differed. */
  kept?: string;
  createdDirs: string[];
}

interface Staged {
  file: ManifestFile;
  dest: string;
  tmp: string;
  createdDirs: string[];
}

/**
 * Installs the files `installTargets` approved (core/recovery/install_plan.ts), each at its
 * approved path; every other file is read past. The manifest's install_path alone never decides.
 */
export class InstallSink implements BundleSink {
  #staged: Staged[] = [];
  #createdDirs: string[] = [];
  #bundleId = "";
  readonly #targets: Map<string, string>;

  constructor(targets: InstallTarget[]) {
    this.#targets = new Map(targets.map((t) => [t.file.name, t.path]));
  }

  begin(manifest: BundleManifest) {
    this.#bundleId = manifest.bundle_id;
  }

  async #ensureDir(dir: string): Promise<string[]> {
    const missing: string[] = [];
    let d = dir;
    while (d !== "/" && !(await exists(d))) {
      missing.unshift(d);
      d = dirname(d);
    }
    for (const m of missing) {
      await Deno.mkdir(m, { mode: 0o700 });
      await Deno.chmod(m, 0o700);
      this.#createdDirs.push(m);
    }
    return missing;
  }

  async file(file: ManifestFile, body: AsyncIterable<Uint8Array>) {
    const dest = this.#targets.get(file.name);
    if (dest === undefined) {
      for await (const _ of body) { /* not installed */ }
      return;
    }
    const tmp = `${dirname(dest)}/.${basename(dest)}.stowage-tmp-${
      crypto.randomUUID().slice(0, 8)
    }`;
    try {
      const createdDirs = await this.#ensureDir(dirname(dest));
      this.#staged.push({ file, dest, tmp, createdDirs });
      await writeStreamTo(tmp, body, 0o600);
    } catch (e) {
      throw ioError(`install '${dest}'`, e);
    }
  }

  async commit(): Promise<InstallResult[]> {
    const results: InstallResult[] = [];
    for (const s of this.#staged) {
      try {
        const current = await sha256File(s.dest);
        if (current === s.file.sha256) {
          await Deno.remove(s.tmp);
          await Deno.chmod(s.dest, 0o600);
          results.push({
            path: s.dest,
            name: s.file.name,
            action: "in place",
            createdDirs: s.createdDirs,
          });
          continue;
        }
        let kept: string | undefined;
        if (await exists(s.dest)) {
          kept = `${s.dest}.before-recovery-${this.#bundleId}`;
          if (await exists(kept)) kept = `${kept}.${Deno.pid}`;
          await Deno.rename(s.dest, kept);
        }
        await Deno.rename(s.tmp, s.dest);
        results.push({
          path: s.dest,
          name: s.file.name,
          action: kept ? "replaced" : "installed",
          kept,
          createdDirs: s.createdDirs,
        });
      } catch (e) {
        await this.abort();
        throw ioError(`install '${s.dest}'`, e);
      }
    }
    this.#staged = [];
    this.#createdDirs = [];
    return results;
  }

  /** Removes staged files and the (then empty) directories this sink created. */
  async abort() {
    for (const s of this.#staged) await Deno.remove(s.tmp).catch(() => {});
    for (const d of [...this.#createdDirs].reverse()) await Deno.remove(d).catch(() => {});
    this.#staged = [];
    this.#createdDirs = [];
  }
}
