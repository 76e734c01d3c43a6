/**
 * A small streaming ustar writer and reader: regular files and directories only, which is all a
 * recovery bundle holds. Streaming it ourselves means no plaintext copy of a secret ever touches
 * the disk on the way into the bundle and `verify` can check a bundle without extracting it
 * (docs/adr/0002-recovery-bundle-tar.md). GNU tar and busybox tar read what this writes.
 */

export const BLOCK = 512;
/** GNU tar pads archives to 20 blocks; doing the same keeps `tar` from warning. */
const RECORD = 20 * BLOCK;

export interface TarHeader {
  name: string;
  type: "file" | "dir";
  mode: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
}

export interface TarEntry {
  header: TarHeader;
  /** File content; its length must equal header.size. Absent for directories. */
  body?: Uint8Array | AsyncIterable<Uint8Array>;
}

export class TarFormatError extends Error {
  override name = "TarFormatError";
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: false });

function splitName(name: string): { name: Uint8Array; prefix: Uint8Array } {
  const bytes = enc.encode(name);
  if (bytes.length <= 100) return { name: bytes, prefix: new Uint8Array() };
  // ustar: prefix (up to 155 bytes) + "/" + name (up to 100 bytes), split at a slash.
  for (let i = bytes.length - 1; i > 0; i--) {
    if (bytes[i] === 0x2f && i <= 155 && bytes.length - i - 1 <= 100 && bytes.length - i - 1 > 0) {
      return { name: bytes.subarray(i + 1), prefix: bytes.subarray(0, i) };
    }
  }
  throw new TarFormatError(`name too long for ustar: ${name}`);
}

function writeOctal(block: Uint8Array, offset: number, width: number, value: number) {
  const digits = value.toString(8).padStart(width - 1, "0");
  if (digits.length > width - 1) {
    throw new TarFormatError(`value ${value} does not fit ${width} bytes`);
  }
  block.set(enc.encode(digits), offset);
  block[offset + width - 1] = 0;
}

/** Sizes of 8 GiB and more use GNU's base-256 form (first byte 0x80, big-endian). */
function writeSize(block: Uint8Array, offset: number, size: number) {
  if (size < 8 ** 11) return writeOctal(block, offset, 12, size);
  block[offset] = 0x80;
  let v = BigInt(size);
  for (let i = 11; i >= 1; i--) {
    block[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function checksum(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return sum;
}

export function encodeHeader(h: TarHeader): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const name = h.type === "dir" && !h.name.endsWith("/") ? `${h.name}/` : h.name;
  const parts = splitName(name);
  block.set(parts.name, 0);
  writeOctal(block, 100, 8, h.mode & 0o7777);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeSize(block, 124, h.type === "dir" ? 0 : h.size);
  writeOctal(block, 136, 12, Math.max(0, Math.floor(h.mtime)));
  block[156] = h.type === "dir" ? 0x35 : 0x30;
  block.set(enc.encode("ustar\u000000"), 257);
  block.set(enc.encode("root"), 265);
  block.set(enc.encode("root"), 297);
  block.set(parts.prefix, 345);
  const sum = checksum(block);
  block.set(enc.encode(sum.toString(8).padStart(6, "0")), 148);
  block[154] = 0;
  block[155] = 0x20;
  return block;
}

function readString(block: Uint8Array, offset: number, width: number): string {
  const field = block.subarray(offset, offset + width);
  const nul = field.indexOf(0);
  return dec.decode(nul === -1 ? field : field.subarray(0, nul));
}

function readNumber(block: Uint8Array, offset: number, width: number, what: string): number {
  if (block[offset] & 0x80) {
    let v = 0n;
    for (let i = 1; i < width; i++) v = (v << 8n) | BigInt(block[offset + i]);
    if (block[offset] !== 0x80 || v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new TarFormatError(`bad ${what} field`);
    }
    return Number(v);
  }
  const text = readString(block, offset, width).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`bad ${what} field`);
  return parseInt(text, 8);
}

/** The header in a block, or null for an all-zero block (end of archive). */
export function decodeHeader(block: Uint8Array): TarHeader | null {
  if (block.length !== BLOCK) throw new TarFormatError("short header block");
  if (block.every((b) => b === 0)) return null;
  if (readString(block, 257, 5) !== "ustar") throw new TarFormatError("not a ustar header");
  if (readNumber(block, 148, 8, "checksum") !== checksum(block)) {
    throw new TarFormatError("header checksum mismatch");
  }
  const typeflag = block[156];
  const prefix = readString(block, 345, 155);
  const base = readString(block, 0, 100);
  const name = prefix ? `${prefix}/${base}` : base;
  let type: TarHeader["type"];
  if (typeflag === 0x30 || typeflag === 0) type = "file";
  else if (typeflag === 0x35) type = "dir";
  else {throw new TarFormatError(
      `unsupported entry type '${String.fromCharCode(typeflag)}' for ${name}`,
    );}
  return {
    name: type === "dir" ? name.replace(/\/+$/, "") : name,
    type,
    mode: readNumber(block, 100, 8, "mode"),
    size: type === "dir" ? 0 : readNumber(block, 124, 12, "size"),
    mtime: readNumber(block, 136, 12, "mtime"),
  };
}

async function* bodyChunks(
  body: Uint8Array | AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) yield body;
  else yield* body;
}

/** Streams the archive: header, content, padding per entry, then the end-of-archive blocks. */
export async function* writeTar(
  entries: Iterable<TarEntry> | AsyncIterable<TarEntry>,
): AsyncGenerator<Uint8Array> {
  let written = 0;
  for await (const entry of entries) {
    yield encodeHeader(entry.header);
    written += BLOCK;
    if (entry.header.type !== "file") continue;
    let n = 0;
    for await (const chunk of bodyChunks(entry.body ?? new Uint8Array())) {
      n += chunk.length;
      if (n > entry.header.size) {
        throw new TarFormatError(`${entry.header.name} is longer than its header says`);
      }
      if (chunk.length) yield chunk;
    }
    if (n !== entry.header.size) {
      throw new TarFormatError(`${entry.header.name} is shorter than its header says`);
    }
    written += n;
    const pad = (BLOCK - (n % BLOCK)) % BLOCK;
    if (pad) {
      yield new Uint8Array(pad);
      written += pad;
    }
  }
  const end = 2 * BLOCK + ((RECORD - ((written + 2 * BLOCK) % RECORD)) % RECORD);
  yield new Uint8Array(end);
}

/** Pulls exact byte counts out of a chunked stream. */
export class ByteReader {
  #it: AsyncIterator<Uint8Array>;
  #buf: Uint8Array = new Uint8Array();
  #done = false;
  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    while (this.#buf.length === 0) {
      if (this.#done) return false;
      const r = await this.#it.next();
      if (r.done) {
        this.#done = true;
        return false;
      }
      this.#buf = r.value;
    }
    return true;
  }

  /** Exactly n bytes, or throws at a premature end. */
  async readExact(n: number, what: string): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      if (!(await this.#fill())) throw new TarFormatError(`archive ends inside ${what}`);
      const take = Math.min(n - off, this.#buf.length);
      out.set(this.#buf.subarray(0, take), off);
      this.#buf = this.#buf.subarray(take);
      off += take;
    }
    return out;
  }

  /** Up to n (at least 1) bytes, as they arrived: no copy, no collecting. */
  async readUpTo(n: number, what: string): Promise<Uint8Array> {
    if (!(await this.#fill())) throw new TarFormatError(`archive ends inside ${what}`);
    const take = Math.min(n, this.#buf.length);
    const piece = this.#buf.subarray(0, take);
    this.#buf = this.#buf.subarray(take);
    return piece;
  }

  /** Reads to the end; returns whether anything but zero bytes was left. */
  async drain(): Promise<boolean> {
    let junk = false;
    while (await this.#fill()) {
      if (this.#buf.some((b) => b !== 0)) junk = true;
      this.#buf = new Uint8Array();
    }
    return junk;
  }
}

export interface TarReadEntry {
  header: TarHeader;
  /** Must be consumed (or `skip`ped) before the next entry is requested. */
  body: AsyncIterable<Uint8Array>;
}

/**
 * Entries in archive order. The whole input is read, end-of-archive padding included, so
 * whatever sits below (gzip trailer, cipher padding) gets checked before this returns.
 */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarReadEntry> {
  const reader = new ByteReader(source);
  while (true) {
    const header = decodeHeader(await reader.readExact(BLOCK, "a header"));
    if (header === null) break;
    let left = header.size;
    const body = (async function* () {
      while (left > 0) {
        const piece = await reader.readUpTo(left, header.name);
        left -= piece.length;
        yield piece;
      }
    })();
    yield { header, body };
    // Whatever the consumer left unread is skipped, so the next header lines up.
    while (left > 0) left -= (await reader.readUpTo(left, header.name)).length;
    const pad = (BLOCK - (header.size % BLOCK)) % BLOCK;
    if (pad) await reader.readExact(pad, `${header.name} padding`);
  }
  if (await reader.drain()) throw new TarFormatError("data after the end of the archive");
}
