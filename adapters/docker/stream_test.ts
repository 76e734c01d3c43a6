import assert from "node:assert/strict";
import { demuxDockerStream, FrameDecoder } from "./stream.ts";

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
