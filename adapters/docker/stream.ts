/**
 * The Engine's attach framing for a container or exec started without a TTY: frames of an 8-byte
 * header (stream type: 0 stdin, 1 stdout, 2 stderr; three zero bytes; payload size as uint32
 * big-endian) followed by the payload. API 1.42+ labels it application/vnd.docker.multiplexed-stream,
 * older ones application/vnd.docker.raw-stream; with Tty false the bytes are framed either way.
 */
import { concatBytes as concat } from "../../core/bytes.ts";

export interface Demuxed {
  stdout: string;
  stderr: string;
}

/** Splits a framed stream into stdout and stderr; a TTY stream (`tty`) is all stdout. */
export class FrameDecoder {
  #pending = new Uint8Array(0);
  readonly stdout: Uint8Array[] = [];
  readonly stderr: Uint8Array[] = [];

  constructor(readonly tty = false) {}

  push(chunk: Uint8Array) {
    if (this.tty) {
      this.stdout.push(chunk);
      return;
    }
    let buf = this.#pending.length ? concat([this.#pending, chunk]) : chunk;
    while (buf.length >= 8) {
      const size = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(4);
      if (buf.length < 8 + size) break;
      const payload = buf.slice(8, 8 + size);
      if (buf[0] === 2) this.stderr.push(payload);
      else this.stdout.push(payload);
      buf = buf.subarray(8 + size);
    }
    this.#pending = buf.slice();
  }

  /** Bytes of an unfinished frame left at the end (a truncated stream). */
  get leftover(): number {
    return this.#pending.length;
  }

  result(): Demuxed {
    const d = new TextDecoder();
    return { stdout: d.decode(concat(this.stdout)), stderr: d.decode(concat(this.stderr)) };
  }
}

/**
 * Reads a whole attach stream. Aborting `signal` cancels the read (closing the connection) and
 * rejects with the signal's reason.
 */
export async function demuxDockerStream(
  body: ReadableStream<Uint8Array> | null,
  opts: { tty?: boolean; signal?: AbortSignal } = {},
): Promise<Demuxed> {
  const { signal } = opts;
  const dec = new FrameDecoder(opts.tty ?? false);
  if (!body) return dec.result();
  const reader = body.getReader();
  const onAbort = () => reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    signal?.throwIfAborted();
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      dec.push(value);
    }
    signal?.throwIfAborted();
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
  return dec.result();
}
