/** File helpers with the guarantees stowage promises: atomic writes, private modes, no half files. */
import { StowageError } from "../core/errors.ts";
import type { WritableProbe } from "../core/doctor.ts";

/** Writes via a temp file in the same directory, fsync, rename. Mode applies from the first byte. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600) {
  const dir = path.substring(0, path.lastIndexOf("/")) || ".";
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${dir}/.${path.substring(dir.length + 1)}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  try {
    const f = await Deno.open(tmp, { write: true, createNew: true, mode });
    await Deno.chmod(tmp, mode); // umask must not widen or narrow the promised mode
    try {
      let off = 0;
      while (off < bytes.length) off += await f.write(bytes.subarray(off));
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw ioError(`write '${path}'`, e);
  }
}

/** A file's text, or undefined when there is no file at `path` (missing, or a directory there). */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (
      e instanceof Deno.errors.NotFound || e instanceof Deno.errors.IsADirectory ||
      e instanceof Deno.errors.NotADirectory
    ) return undefined;
    throw e;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** 48+ characters from [A-Za-z0-9], from the OS's CSPRNG, without modulo bias. */
export function randomPassword(length = 48): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < 248 && out.length < length) out += alphabet[b % 62];
    }
  }
  return out;
}

export function ioError(action: string, e: unknown): StowageError {
  const msg = e instanceof Error ? e.message.split(":")[0] : String(e);
  const hint = e instanceof Deno.errors.PermissionDenied
    ? "Run as root, or fix the owner/mode of the path."
    : e instanceof Deno.errors.NotFound
    ? "Check the path exists."
    : "Check free space and permissions.";
  return new StowageError("io", `Cannot ${action}: ${msg}`, hint, { cause: e });
}

/**
 * Whether files can be created in `path` (or, when it does not exist yet, in the nearest existing
 * ancestor where it would be created): makes and removes one empty temporary file. Creates nothing
 * else; the answer accounts for read-only mounts (ProtectSystem) as well as modes.
 */
export async function probeWritableDir(path: string): Promise<WritableProbe> {
  let dir = path.replace(/\/+$/, "") || "/";
  let exists = true;
  for (;;) {
    const st = await Deno.stat(dir).catch(() => undefined);
    if (st?.isDirectory) break;
    if (st) {
      return { exists: false, probed: dir, writable: false, error: `${dir} is not a directory` };
    }
    exists = false;
    if (dir === "/") break;
    dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
  }
  try {
    const tmp = await Deno.makeTempFile({ dir, prefix: ".stowage-write-probe-" });
    await Deno.remove(tmp);
    return { exists, probed: dir, writable: true };
  } catch (e) {
    return {
      exists,
      probed: dir,
      writable: false,
      error: e instanceof Error ? e.message : String(e),
    };
  }
}
