import assert from "node:assert/strict";
import { demuxDockerStream, FrameDecoder, splitDockerStream } from "./stream.ts";

function frame(stream: number, text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + payload.length);
  out[0] = stream;
  new DataView(out.buffer).setUint32(4, payload.length);
  out.set(payload, 8);
  return out;
}

const join = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};

Deno.test("frames are split into stdout and stderr, whatever the chunk boundaries", () => {
  const bytes = join(frame(1, "hello "), frame(2, "oops\n"), frame(1, "wörld\n"), frame(1, ""));
  for (const size of [1, 3, 7, 8, 9, 1000]) {
    const d = new FrameDecoder();
    for (let i = 0; i < bytes.length; i += size) d.push(bytes.subarray(i, i + size));
    assert.deepEqual(
      d.result(),
      { stdout: "hello wörld\n", stderr: "oops\n" },
      `chunk size ${size}`,
    );
    assert.equal(d.leftover, 0);
  }
});

Deno.test("a truncated frame is left over, not invented", () => {
  const d = new FrameDecoder();
  d.push(frame(1, "complete").subarray(0));
  d.push(frame(1, "cut off").subarray(0, 10));
  assert.equal(d.result().stdout, "complete");
  assert.equal(d.leftover, 10);
});

Deno.test("a TTY stream is all stdout", () => {
  const d = new FrameDecoder(true);
  d.push(new TextEncoder().encode("raw bytes"));
  assert.deepEqual(d.result(), { stdout: "raw bytes", stderr: "" });
});

Deno.test("demuxDockerStream reads a whole stream, and an abort cancels it", async () => {
  const body = ReadableStream.from([frame(1, "a"), frame(2, "b")]);
  assert.deepEqual(await demuxDockerStream(body), { stdout: "a", stderr: "b" });
  assert.deepEqual(await demuxDockerStream(null), { stdout: "", stderr: "" });

  const ctl = new AbortController();
  let cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull: (c) => {
      c.enqueue(frame(1, "x"));
      ctl.abort(new Error("timed out"));
    },
    cancel: () => {
      cancelled = true;
    },
  });
  await assert.rejects(demuxDockerStream(endless, { signal: ctl.signal }), /timed out/);
  assert.ok(cancelled);
});

function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.slice(i, i + size));
  return ReadableStream.from(parts);
}

Deno.test("a streamed exec hands stdout on as it comes and keeps stderr for the end", async () => {
  const bytes = join(frame(1, "hello "), frame(2, "oops\n"), frame(1, "wörld\n"), frame(1, ""));
  for (const size of [1, 5, 9, 1000]) {
    const { stdout, ended } = splitDockerStream(chunked(bytes, size));
    const text = await new Response(stdout).text();
    assert.equal(text, "hello wörld\n");
    assert.equal(await ended, "oops\n");
  }
});

Deno.test("a streamed exec cut inside a frame is an error, never a clean end", async () => {
  const bytes = join(frame(1, "complete frame\n"), frame(1, "cut here"));
  const { stdout, ended } = splitDockerStream(chunked(bytes.subarray(0, bytes.length - 3), 4));
  await assert.rejects(new Response(stdout).text(), /ended inside a frame/);
  await assert.rejects(ended, /truncated/);
});
