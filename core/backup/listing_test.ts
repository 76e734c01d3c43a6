import assert from "node:assert/strict";
import type { ResticSnapshot } from "../ports.ts";
import { isStowageError, StowageError } from "../errors.ts";
import { MemorySink } from "../events.ts";
import { imageSnapshot, RunListing, warmSnapshots } from "./listing.ts";
import { removingStaleLocks } from "../stale_locks.ts";

let n = 0;
function raw(tags: string[], host = "h1", time = "2025-01-31T10:00:00Z"): ResticSnapshot {
  const id = (++n).toString(16).padStart(8, "0") + "a".repeat(56);
  return { id, short_id: id.slice(0, 8), time, hostname: host, paths: ["/x.tar"], tags };
}

const IMG = "sha256:" + "b".repeat(64);
const imageTags = (id = IMG) => [
  "stowage",
  "format=3",
  "unit=_images",
  "type=image",
  "backup_id=2025-01-31T10-00-00Z",
  "timestamp=2025-01-31T10:00:00Z",
  "scope=standard",
  `image=${id}`,
];

Deno.test("a run lists the repository once, again only when asked, and drops what it forgot", async () => {
  const a = raw([]), b = raw([]);
  let calls = 0;
  const listing = new RunListing({
    snapshots: () => {
      calls++;
      return Promise.resolve([a, b]);
    },
  });
  assert.deepEqual(await listing.current(), [a, b]);
  assert.deepEqual(await listing.current(), [a, b]);
  assert.equal(calls, 1);
  listing.forgot([a.id]);
  assert.deepEqual(await listing.current(), [b]);
  assert.deepEqual(await listing.refresh(), [a, b]);
  assert.equal(calls, 2);
  // A listing made before the run (the repository check) serves the first question.
  const given = new RunListing({ snapshots: () => Promise.reject(new Error("not called")) }, [b]);
  assert.deepEqual(await given.current(), [b]);
});

Deno.test("an image's snapshot is the newest stowage one for that image id, from any host", () => {
  const old = raw(imageTags(), "h2", "2025-01-01T00:00:00Z");
  const newer = raw(imageTags(), "h1", "2025-01-02T00:00:00Z");
  const other = raw(imageTags("sha256:" + "c".repeat(64)), "h1", "2025-01-03T00:00:00Z");
  // The same tags without `stowage`, or with an invalid one, are nobody's image snapshot.
  const foreign = raw(imageTags().slice(1), "h1", "2025-01-04T00:00:00Z");
  const invalid = raw([...imageTags(), "scope=huge"], "h1", "2025-01-05T00:00:00Z");
  const found = imageSnapshot([old, newer, other, foreign, invalid], IMG);
  assert.equal(found?.id, newer.id);
  assert.equal(imageSnapshot([other], IMG), undefined);
});

Deno.test("warm snapshots to forget are the unit's, made by this host, with restic's own ids", () => {
  const mine = raw(["stowage-warm", "warm_unit=wp", "warm_backup_id=x"]);
  const otherUnit = raw(["stowage-warm", "warm_unit=wp2"]);
  const otherHost = raw(["stowage-warm", "warm_unit=wp"], "h2");
  const notWarm = raw(["warm_unit=wp"]);
  const badId = { ...raw(["stowage-warm", "warm_unit=wp"]), id: "../x" };
  assert.deepEqual(warmSnapshots([mine, otherUnit, otherHost, notWarm, badId], "wp", "h1"), [
    mine.id,
  ]);
});

Deno.test("a command that fails on a lock runs again once after stale locks were removed", async () => {
  const locked = () => new StowageError("repo.locked", "locked by PID 1 on h1");
  let unlocked = 0;
  const repo = {
    unlock: () => {
      unlocked++;
      return Promise.resolve();
    },
  };
  const sink = new MemorySink();
  let attempts = 0;
  const out = await removingStaleLocks(repo, sink, () => {
    attempts++;
    return attempts === 1 ? Promise.reject(locked()) : Promise.resolve("listed");
  });
  assert.equal(out, "listed");
  assert.equal(unlocked, 1);
  assert.ok(sink.events.some((e) => e.type === "log" && /Removed stale/.test(e.message)));
  // A live lock stays: the second failure stands, and nothing claims a removal.
  const quiet = new MemorySink();
  await assert.rejects(
    removingStaleLocks(repo, quiet, () => Promise.reject(locked())),
    (e) => isStowageError(e, "repo.locked"),
  );
  assert.equal(quiet.events.length, 0);
  // Any other failure is not a lock: no unlock.
  await assert.rejects(
    removingStaleLocks(repo, quiet, () => Promise.reject(new StowageError("repo.missing", "x"))),
    (e) => isStowageError(e, "repo.missing"),
  );
  assert.equal(unlocked, 2);
  // Another run removed the same stale lock first (restic's unlock fails on the deleted file):
  // the command still runs again, and its second answer is the result.
  let tries = 0;
  const racing = {
    unlock: () => Promise.reject(new StowageError("repo.error", "lock does not exist")),
  };
  const again = await removingStaleLocks(racing, new MemorySink(), () => {
    tries++;
    return tries === 1 ? Promise.reject(locked()) : Promise.resolve("listed");
  });
  assert.equal(again, "listed");
});
