/**
 * Bundle bytes on disk and on the wire: measuring payload files, streaming the archive through
 * gzip and the OpenSSL-compatible cipher into a 0600 temp file that is renamed into place (or to
 * stdout), and reading a bundle back through the same layers. Every stage streams with
 * backpressure, so memory stays flat whatever the size; no plaintext is ever written here.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import { StowageError } from "../../core/errors.ts";
import {
  type BundleSink,
  type Measured,
  measureText,
  type PayloadSpec,
  readBundleArchive,
  type ReadResult,
} from "../../core/recovery/mod.ts";
import { PBKDF2_ITERATIONS, READ_ITERATIONS } from "../../core/recovery/format.ts";
import { TarFormatError } from "../../core/recovery/tar.ts";
import { ioError } from "../files.ts";
import {
  createDecryptor,
  createEncryptor,
  DecryptError,
  deriveKeyIv,
  HEADER_LENGTH,
} from "./openssl.ts";
import { createDecipheriv } from "node:crypto";

/** Reads a file as a stream of chunks. */
export async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  const f = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(64 * 1024);
    while (true) {
      const n = await f.read(buf);
      if (n === null) break;
      // A fresh copy: downstream stages may hold on to it after the next read.
      yield buf.slice(0, n);
    }
  } finally {
    f.close();
  }
}

const ROLE_WORDS: Record<string, string> = {
  config: "config file",
  "repository-password": "repository password file",
  "env-file": "repository.env_file",
  "ssh-key": "repository.ssh_key",
  "known-hosts": "repository.known_hosts",
};

/** Size and SHA-256 of every payload file; files that cannot be read become problems. */
export async function measurePayload(
  payload: PayloadSpec[],
): Promise<{ measured: Measured[]; problems: string[] }> {
  const measured: Measured[] = [];
  const problems: string[] = [];
  for (const p of payload) {
    if ("text" in p.source) {
      measured.push(measureText(p.name, p.source.text));
      continue;
    }
    const path = p.source.file;
    const what = ROLE_WORDS[p.role] ?? p.role;
    try {
      const st = await Deno.stat(path);
      if (!st.isFile) {
        problems.push(`${what} '${path}' is not a file; left out of the bundle`);
        continue;
      }
      const hash = createHash("sha256");
      let size = 0;
      for await (const c of fileChunks(path)) {
        hash.update(c);
        size += c.length;
      }
      measured.push({ name: p.name, size, sha256: hash.digest("hex") });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        problems.push(`${what} '${path}' does not exist; left out of the bundle`);
      } else if (e instanceof Deno.errors.PermissionDenied) {
        problems.push(
          `${what} '${path}' cannot be read (permission denied); left out of the bundle`,
        );
      } else throw ioError(`read '${path}'`, e);
    }
  }
  return { measured, problems };
}

function isAbort(e: unknown): boolean {
  return e instanceof Error &&
    (e.name === "AbortError" || (e as { code?: string }).code === "ABORT_ERR");
}

const interrupted = (what: string) =>
  new StowageError(
    "interrupted",
    `Interrupted while ${what}`,
    "Nothing was left behind; run the command again.",
  );

function writeError(e: unknown, target: string): unknown {
  if (e instanceof StowageError) return e;
  if (isAbort(e)) return interrupted("writing the recovery bundle");
  if (e instanceof TarFormatError) {
    return new StowageError(
      "io",
      `Cannot write the recovery bundle: a file changed while it was being written (${e.message})`,
      "Run the command again.",
    );
  }
  if (e instanceof Deno.errors.BrokenPipe || (e as { code?: string })?.code === "EPIPE") {
    return new StowageError(
      "io",
      `Cannot write the recovery bundle to ${target}: the reader went away`,
      "Check the command the bundle was piped into.",
    );
  }
  return ioError(`write the recovery bundle '${target}'`, e);
}

async function writeAll(f: { write(p: Uint8Array): Promise<number> }, chunk: Uint8Array) {
  let off = 0;
  while (off < chunk.length) off += await f.write(chunk.subarray(off));
}

/**
 * Encrypts the archive into `dir/fileName` (0600): a temp file in the same directory, fsync,
 * rename. The temp file is removed on every failure, interruption included.
 */
export async function writeBundleFile(
  archive: AsyncIterable<Uint8Array>,
  opts: {
    password: string;
    dir: string;
    fileName: string;
    signal?: AbortSignal;
    /** Only for tests that make bundles the way older stowage did. */
    iterations?: number;
  },
): Promise<{ path: string; bytes: number }> {
  const path = `${opts.dir}/${opts.fileName}`;
  try {
    await Deno.mkdir(opts.dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw ioError(`create the bundle directory '${opts.dir}'`, e);
  }
  const tmp = `${opts.dir}/.${opts.fileName}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  let bytes = 0;
  let f: Deno.FsFile | undefined;
  try {
    f = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
    await Deno.chmod(tmp, 0o600);
    const file = f;
    await pipeline(
      archive,
      createGzip(),
      await createEncryptor(opts.password, opts.iterations ?? PBKDF2_ITERATIONS),
      async (source: AsyncIterable<Uint8Array>) => {
        for await (const c of source) {
          await writeAll(file, c);
          bytes += c.length;
        }
      },
      { signal: opts.signal },
    );
    await f.sync();
    f.close();
    f = undefined;
    await Deno.rename(tmp, path);
    return { path, bytes };
  } catch (e) {
    throw writeError(e, path);
  } finally {
    try {
      f?.close();
    } catch { /* already closed */ }
    await Deno.remove(tmp).catch(() => {});
  }
}

/** Encrypts the archive to a writer (stdout for --stream). */
export async function writeBundleStream(
  archive: AsyncIterable<Uint8Array>,
  opts: { password: string; out: { write(p: Uint8Array): Promise<number> }; signal?: AbortSignal },
): Promise<{ bytes: number }> {
  let bytes = 0;
  try {
    await pipeline(
      archive,
      createGzip(),
      await createEncryptor(opts.password, PBKDF2_ITERATIONS),
      async (source: AsyncIterable<Uint8Array>) => {
        for await (const c of source) {
          await writeAll(opts.out, c);
          bytes += c.length;
        }
      },
      { signal: opts.signal },
    );
    return { bytes };
  } catch (e) {
    throw writeError(e, "stdout");
  }
}

function passwordError(bundle: string): StowageError {
  return new StowageError(
    "bundle.password",
    `Cannot open recovery bundle '${bundle}': wrong password`,
    "Use the password shown when the bundle was made (for automatic bundles: the file named by recovery_bundle_password_file). A bundle damaged in its first bytes looks the same.",
  );
}

const invalid = (bundle: string, why: string) =>
  new StowageError(
    "bundle.invalid",
    `Cannot open recovery bundle '${bundle}': ${why}`,
    "Use another copy of the bundle, or make a new one on the old host if it still runs.",
  );

const GZIP_MAGIC = [0x1f, 0x8b, 0x08];

/**
 * Which PBKDF2 count opens this bundle: the first of READ_ITERATIONS whose key turns block one
 * into the start of a gzip stream. When none does (a wrong password, or not a bundle), the
 * current count, and the decryptor's own checks say what is wrong.
 */
async function iterationsFor(path: string, password: string): Promise<number> {
  const head = new Uint8Array(HEADER_LENGTH + 16);
  let n = 0;
  const f = await Deno.open(path, { read: true });
  try {
    while (n < head.length) {
      const r = await f.read(head.subarray(n));
      if (r === null) break;
      n += r;
    }
  } finally {
    f.close();
  }
  if (n < head.length) return PBKDF2_ITERATIONS;
  for (const iterations of READ_ITERATIONS) {
    const { key, iv } = await deriveKeyIv(password, head.subarray(8, HEADER_LENGTH), iterations);
    const block = createDecipheriv("aes-256-cbc", key, iv).setAutoPadding(false)
      .update(head.subarray(HEADER_LENGTH));
    if (GZIP_MAGIC.every((b, i) => block[i] === b)) return iterations;
  }
  return PBKDF2_ITERATIONS;
}

/**
 * Decrypts, decompresses and reads a bundle file, handing each file to the sink (nothing is
 * written here). Every failure becomes one line: bundle.password for a wrong password,
 * bundle.invalid for anything truncated, damaged or inconsistent.
 */
export async function readBundleFile(
  path: string,
  password: string,
  opts: { sink?: BundleSink; signal?: AbortSignal } = {},
): Promise<ReadResult> {
  try {
    const st = await Deno.stat(path);
    if (!st.isFile) {
      throw new StowageError(
        "usage",
        `Cannot open recovery bundle '${path}': it is not a file`,
        "Name the .tar.gz.enc file.",
      );
    }
  } catch (e) {
    if (e instanceof StowageError) throw e;
    if (e instanceof Deno.errors.NotFound) {
      throw new StowageError(
        "io",
        `Cannot open recovery bundle '${path}': no such file`,
        "Check the path of the .tar.gz.enc file.",
      );
    }
    throw ioError(`read recovery bundle '${path}'`, e);
  }
  let iterations: number;
  try {
    iterations = await iterationsFor(path, password);
  } catch (e) {
    throw ioError(`read recovery bundle '${path}'`, e);
  }
  const decryptor = createDecryptor(password, iterations);
  let result: ReadResult | undefined;
  try {
    await pipeline(
      createReadStream(path, { highWaterMark: 64 * 1024 }),
      decryptor.stream,
      createGunzip(),
      async (source: AsyncIterable<Uint8Array>) => {
        result = await readBundleArchive(source, path, opts.sink);
      },
      { signal: opts.signal },
    );
  } catch (e) {
    if (isAbort(e)) throw interrupted(`reading recovery bundle '${path}'`);
    if (e instanceof DecryptError && e.reason === "header") {
      throw invalid(path, "it is not an encrypted stowage bundle (no OpenSSL 'Salted__' header)");
    }
    const first = decryptor.firstBlock();
    if (first === undefined) throw invalid(path, "it is truncated (shorter than one cipher block)");
    if (!GZIP_MAGIC.every((b, i) => first[i] === b)) throw passwordError(path);
    if (e instanceof StowageError) throw e;
    if (e instanceof DecryptError) {
      throw invalid(path, "it is truncated or damaged (decryption failed at its end)");
    }
    const code = (e as { code?: string })?.code;
    if (typeof code === "string" && code.startsWith("Z_")) {
      throw invalid(path, `it is damaged (gzip: ${(e as Error).message})`);
    }
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
      throw ioError(`read recovery bundle '${path}'`, e);
    }
    throw e;
  }
  if (!result) throw invalid(path, "it holds no archive");
  return result;
}
