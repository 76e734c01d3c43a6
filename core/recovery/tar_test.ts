import assert from "node:assert/strict";
import {
  BLOCK,
  decodeHeader,
  encodeHeader,
  readTar,
  type TarEntry,
  TarFormatError,
  writeTar,
} from "./tar.ts";

async function bytesOf(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function sample(): TarEntry[] {
  const big = new Uint8Array(3000).map((_, i) => i % 251);
  return [
    { header: { name: "root", type: "dir", mode: 0o700, size: 0, mtime: 1700000000 } },
    {
      header: { name: "root/a.txt", type: "file", mode: 0o600, size: 5, mtime: 1700000000 },
      body: enc.encode("hello"),
    },
    {
      header: { name: "root/empty", type: "file", mode: 0o600, size: 0, mtime: 1700000000 },
      body: new Uint8Array(),
    },
    {
      header: {
        name: "root/big.bin",
        type: "file",
        mode: 0o700,
        size: big.length,
        mtime: 1700000000,
      },
      body: chunked(big, 700),
    },
  ];
}

Deno.test("tar: what writeTar streams, readTar reads back (names, types, modes, content)", async () => {
  const archive = await bytesOf(writeTar(sample()));
  assert.equal(archive.length % (20 * BLOCK), 0, "padded to whole 10 KiB records like GNU tar");
  const got: { name: string; type: string; mode: number; body: string }[] = [];
  // Odd chunk sizes make headers and bodies straddle chunk boundaries.
  for await (const e of readTar(chunked(archive, 333))) {
    got.push({
      name: e.header.name,
      type: e.header.type,
      mode: e.header.mode,
      body: dec.decode(await bytesOf(e.body)).slice(0, 5),
    });
  }
  assert.deepEqual(got.map((g) => [g.name, g.type, g.mode]), [
    ["root", "dir", 0o700],
    ["root/a.txt", "file", 0o600],
    ["root/empty", "file", 0o600],
    ["root/big.bin", "file", 0o700],
  ]);
  assert.equal(got[1].body, "hello");
});

Deno.test("tar: a body the reader does not consume is skipped, and the next header still lines up", async () => {
  const archive = await bytesOf(writeTar(sample()));
  const names: string[] = [];
  for await (const e of readTar(chunked(archive, 100))) names.push(e.header.name);
  assert.deepEqual(names, ["root", "root/a.txt", "root/empty", "root/big.bin"]);
});

Deno.test("tar: long names split into ustar prefix + name; huge sizes use base-256", () => {
  const name = `${"d".repeat(120)}/${"f".repeat(90)}`;
  const h = decodeHeader(
    encodeHeader({ name, type: "file", mode: 0o644, size: 10 * 1024 ** 3, mtime: 1 }),
  );
  assert.equal(h?.name, name);
  assert.equal(h?.size, 10 * 1024 ** 3);
  assert.throws(
    () => encodeHeader({ name: "x".repeat(300), type: "file", mode: 0o644, size: 0, mtime: 1 }),
    TarFormatError,
  );
});

Deno.test("tar: a corrupted header, a truncated archive and trailing data are errors", async () => {
  const archive = await bytesOf(writeTar(sample()));
  const bad = archive.slice();
  bad[BLOCK + 10] ^= 0x01; // name byte of the second header: checksum no longer matches
  await assert.rejects(async () => {
    for await (const e of readTar(chunked(bad, 512))) await bytesOf(e.body);
  }, /checksum/);
  await assert.rejects(async () => {
    for await (const e of readTar(chunked(archive.subarray(0, 4 * BLOCK + 100), 512))) {
      await bytesOf(e.body);
    }
  }, /archive ends inside/);
  const trailing = new Uint8Array(archive.length + 1);
  trailing.set(archive);
  trailing[archive.length] = 7;
  await assert.rejects(async () => {
    for await (const e of readTar(chunked(trailing, 4096))) await bytesOf(e.body);
  }, /after the end/);
});

Deno.test("tar: the writer refuses a body that does not match its header's size", async () => {
  const short: TarEntry = {
    header: { name: "x", type: "file", mode: 0o600, size: 10, mtime: 0 },
    body: enc.encode("abc"),
  };
  await assert.rejects(() => bytesOf(writeTar([short])), /shorter/);
  const long: TarEntry = {
    header: { name: "x", type: "file", mode: 0o600, size: 2, mtime: 0 },
    body: enc.encode("abc"),
  };
  await assert.rejects(() => bytesOf(writeTar([long])), /longer/);
});

Deno.test("tar: entry types other than files and directories are refused", () => {
  const block = encodeHeader({ name: "link", type: "file", mode: 0o777, size: 0, mtime: 0 });
  block[156] = 0x32; // symlink
  // fix the checksum so only the type is wrong
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  block.set(enc.encode(sum.toString(8).padStart(6, "0")), 148);
  assert.throws(() => decodeHeader(block), /unsupported entry type/);
});
