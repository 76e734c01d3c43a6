import assert from "node:assert/strict";
import { StowageError } from "../errors.ts";
import { readBundleArchive } from "./read.ts";
import { archiveBytes, once, openFrom, sampleBundle, sampleFiles } from "./testing.ts";
import { archiveStream } from "./write.ts";
import { encodeHeader, writeTar } from "./tar.ts";

const isInvalid = (re: RegExp) => (e: unknown) =>
  e instanceof StowageError && e.code === "bundle.invalid" && re.test(e.message);

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
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

Deno.test("read: a bundle's archive reads back; every file reaches the sink with its content", async () => {
  const bundle = sampleBundle();
  const got = new Map<string, string>();
  const res = await readBundleArchive(once(await archiveBytes(bundle)), "b", {
    async file(f, body) {
      got.set(f.name, new TextDecoder().decode(await collect(body)));
    },
  });
  assert.equal(res.root, bundle.root);
  assert.equal(res.manifest.bundle_id, "2025-01-31T23-59-59Z");
  assert.equal(got.get("files/ssh_key"), sampleFiles["/root/.ssh/stowage"]);
  assert.equal(got.size, bundle.manifest.files.length);
});

Deno.test("read: a changed byte in a file is a manifest mismatch", async () => {
  const bytes = await archiveBytes(sampleBundle());
  const at = new TextDecoder().decode(bytes).lastIndexOf("repository-password");
  bytes[at] ^= 0x20;
  await assert.rejects(
    () => readBundleArchive(once(bytes), "b"),
    isInvalid(/does not match its manifest: files\/repository.password does not match its SHA-256/),
  );
});

Deno.test("read: a file missing from the archive, or one the manifest does not list, is refused", async () => {
  const bundle = sampleBundle();
  const missing = {
    ...bundle,
    entries: bundle.entries.filter((e) => e.name !== "files/known_hosts"),
  };
  await assert.rejects(
    async () => await readBundleArchive(once(await archiveBytes(missing)), "b"),
    isInvalid(/files\/known_hosts is missing/),
  );
  const extra = {
    ...bundle,
    entries: [...bundle.entries, {
      name: "files/extra",
      mode: 0o600,
      size: 1,
      sha256: "0".repeat(64),
      source: { text: "x" },
    }],
  };
  await assert.rejects(
    async () => await readBundleArchive(once(await archiveBytes(extra)), "b"),
    isInvalid(/files\/extra is not in the manifest/),
  );
});

Deno.test("read: the manifest must come first and name the bundle's directory", async () => {
  const bundle = sampleBundle();
  const reordered = { ...bundle, entries: [...bundle.entries.slice(1), bundle.entries[0]] };
  await assert.rejects(
    async () => await readBundleArchive(once(await archiveBytes(reordered)), "b"),
    isInvalid(/first file is .*README.txt., not manifest.json/),
  );
  const renamed = { ...bundle, root: "stowage-recovery-2020-01-01T00-00-00Z" };
  await assert.rejects(
    async () => await readBundleArchive(once(await archiveBytes(renamed)), "b"),
    isInvalid(/does not match the manifest's bundle id/),
  );
});

Deno.test("read: a bundle from a newer stowage is refused before anything else is read", async () => {
  const bundle = sampleBundle();
  const text = JSON.stringify({ ...bundle.manifest, format: 99, stowage_version: "9.0.0" });
  const newer = {
    ...bundle,
    entries: [{
      ...bundle.entries[0],
      size: new TextEncoder().encode(text).length,
      source: { text },
    }, ...bundle.entries.slice(1)],
  };
  let sinkCalled = false;
  await assert.rejects(
    async () =>
      await readBundleArchive(once(await archiveBytes(newer)), "b", {
        begin: () => void (sinkCalled = true),
        file: () => Promise.resolve(void (sinkCalled = true)),
      }),
    isInvalid(/made by a newer stowage \(9.0.0\) \(bundle format 99; this stowage reads up to 1\)/),
  );
  assert.equal(sinkCalled, false);
});

Deno.test("read: entries outside the bundle directory and foreign archives are refused", async () => {
  const foreign = await collect(
    writeTar([{
      header: { name: "etc/passwd", type: "file", mode: 0o644, size: 1, mtime: 0 },
      body: new Uint8Array(1),
    }]),
  );
  await assert.rejects(
    () => readBundleArchive(once(foreign), "b"),
    isInvalid(/not a stowage recovery bundle directory/),
  );
  const bundle = sampleBundle();
  const traversal = await collect(
    (async function* () {
      const good = await archiveBytes(bundle);
      yield good.subarray(0, 512); // the directory header
      yield encodeHeader({
        name: `${bundle.root}/../../etc/cron.d/x`,
        type: "file",
        mode: 0o644,
        size: 0,
        mtime: 0,
      });
      yield new Uint8Array(1024);
    })(),
  );
  await assert.rejects(
    () => readBundleArchive(once(traversal), "b"),
    isInvalid(/outside its bundle directory/),
  );
});

Deno.test("write: a payload file that changes between measuring and writing fails the bundle", async () => {
  const bundle = sampleBundle();
  const changed = { ...sampleFiles, "/root/.ssh/known_hosts": "nas ssh-ed25519 BBBB\n" };
  await assert.rejects(
    () => collect(archiveStream(bundle, openFrom(changed), 0)),
    /changed while the bundle was being written/,
  );
});
