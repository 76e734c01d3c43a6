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

/** stderr kept from a streamed exec: its tail, enough for an error message. */
const STDERR_TAIL = 16 * 1024;

/**
 * Splits a framed stream as it arrives: stdout as a stream of its own (never held whole, for
 * dumps of any size), stderr's last 16 KiB when the stream ended. `ended` rejects when the
 * connection broke or ended inside a frame (a truncated stream is never a clean end), and the
 * stdout stream errors the same way.
 */
export function splitDockerStream(body: ReadableStream<Uint8Array> | null): {
  stdout: ReadableStream<Uint8Array>;
  ended: Promise<string>;
} {
  let resolve!: (stderr: string) => void, reject!: (e: unknown) => void;
  const ended = new Promise<string>((res, rej) => ((resolve = res), (reject = rej)));
  ended.catch(() => {});
  let stderr: Uint8Array = new Uint8Array(0);
  const dec = new FrameDecoder();
  const reader = body?.getReader();
  const stdout = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        // Read until a stdout payload can be handed on (stderr frames are only collected).
        while (true) {
          const r = reader ? await reader.read() : undefined;
          if (!r || r.done) {
            if (dec.leftover > 0) {
              throw new Error(
                `the exec stream ended inside a frame (${dec.leftover} bytes left): truncated`,
              );
            }
            controller.close();
            resolve(new TextDecoder().decode(stderr));
            return;
          }
          dec.push(r.value);
          const err = dec.stderr.splice(0);
          if (err.length > 0) {
            stderr = concat([stderr, ...err]);
            if (stderr.length > STDERR_TAIL) stderr = stderr.slice(stderr.length - STDERR_TAIL);
          }
          const out = dec.stdout.splice(0);
          if (out.length > 0) {
            controller.enqueue(out.length === 1 ? out[0] : concat(out));
            return;
          }
        }
      } catch (e) {
        reject(e);
        controller.error(e);
      }
    },
    cancel(reason) {
      reject(reason ?? new Error("cancelled"));
      return reader?.cancel(reason);
    },
  });
  return { stdout, ended };
}
