import assert from "node:assert/strict";
import type { BackupRepository } from "../core/ports.ts";
import type { SnapshotInfo } from "../core/model.ts";
import { isStowageError } from "../core/errors.ts";
import { readThroughOriginals } from "./copies.ts";

const hex = (c: string) => c.repeat(64);
const snap = (id: string, original?: string): SnapshotInfo => ({
  id,
  shortId: id.slice(0, 8),
  time: "2026-11-29T02:00:00Z",
  hostname: "h",
  paths: [],
  tags: [],
  ...(original ? { original } : {}),
});

/** Stands in for restic only to record which snapshot id a read was sent to. */
function recording(): { repo: BackupRepository; dumped: string[] } {
  const dumped: string[] = [];
  const repo = {
    dump: (id: string) => {
      dumped.push(id);
      return Promise.resolve(new Uint8Array());
    },
  } as unknown as BackupRepository;
  return { repo, dumped };
}

async function readsFrom(snapshots: SnapshotInfo[], id: string): Promise<string> {
  const r = recording();
  await readThroughOriginals(r.repo, snapshots).dump(id, "/x.tar");
  return r.dumped[0];
}

// The primary's image snapshot (a recipe names it by its 8-hex short id) and its copy.
const original = "abcd1234" + "0".repeat(56);
const itsCopy = snap(hex("c"), original);

Deno.test("a copy reads a recipe's snapshot id (full or short) from the snapshot copied from it", async () => {
  const snapshots = [snap(hex("d"), hex("e")), itsCopy];
  assert.equal(await readsFrom(snapshots, original), itsCopy.id);
  assert.equal(await readsFrom(snapshots, "abcd1234"), itsCopy.id);
  // The copy's own ids (from its listing) pass through.
  assert.equal(await readsFrom(snapshots, hex("d")), hex("d"));
});

Deno.test("a short id of an original is not taken for a copied snapshot whose own id starts with it", async () => {
  // Restic would resolve the short id to this unrelated copied snapshot.
  const unrelated = snap("abcd1234" + "f".repeat(56), hex("e"));
  assert.equal(await readsFrom([unrelated, itsCopy], "abcd1234"), itsCopy.id);
  assert.equal(await readsFrom([itsCopy, unrelated], "abcd1234"), itsCopy.id);
});

Deno.test("a short id that names both an original and a snapshot saved in the copy itself is refused", async () => {
  // Saved into this repository directly (no original): its recipes name it by its own id.
  const direct = snap("abcd1234" + "f".repeat(56));
  await assert.rejects(
    readsFrom([direct, itsCopy], "abcd1234"),
    (e) => isStowageError(e, "restore.failed") && /abcd1234.*2 snapshots/.test(e.message),
  );
  // Alone, it is read by its own id.
  assert.equal(await readsFrom([direct], "abcd1234"), direct.id);
});

Deno.test("a short id that two originals start with is refused, not guessed", async () => {
  const other = snap(hex("9"), "abcd1234" + "1".repeat(56));
  await assert.rejects(
    readsFrom([itsCopy, other], "abcd1234"),
    (e) => isStowageError(e, "restore.failed") && /ambiguous/.test(e.message),
  );
});

Deno.test("a short id whose original was never copied fails instead of reading an unrelated copied snapshot", async () => {
  const unrelated = snap("abcd1234" + "f".repeat(56), hex("e"));
  await assert.rejects(
    readsFrom([unrelated], "abcd1234"),
    (e) => isStowageError(e, "snapshot.notfound") && /abcd1234/.test(e.message),
  );
  // An id nothing in the listing knows goes to restic as it is (restic says it is not there).
  assert.equal(await readsFrom([unrelated], "12345678"), "12345678");
});

Deno.test("two copies of the same original are the same content: either one is read", async () => {
  const again = snap(hex("b"), original);
  assert.ok([itsCopy.id, again.id].includes(await readsFrom([itsCopy, again], "abcd1234")));
});
