/**
 * Which restic commands take the repository's lock (adapters/restic/restic.ts). restic 0.14's lock
 * costs about 0.4 s per process, so listings and small document reads take none; the backup's
 * first listing does, because that is how a lock left by a killed restic is found before the run
 * depends on the repository. Real restic against a local repository holding an exclusive lock.
 */
import assert from "node:assert/strict";
import { Restic } from "../adapters/restic/restic.ts";
import { bytesSource } from "../core/backup/stream_source.ts";
import { isStowageError } from "../core/errors.ts";
import { createTestRepository, writeLock } from "./support/restic_repo.ts";

Deno.test("listings, document reads and the existence check take no lock; the locking listing finds a stale lock", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-locks-" });
  try {
    await Deno.writeTextFile(`${dir}/pw`, "locks-test", { mode: 0o600 });
    await createTestRepository(`${dir}/repo`, "locks-test");
    const repo = new Restic({ location: `${dir}/repo`, passwordFile: `${dir}/pw` });
    const saved = await repo.backupStream("recipe.json", bytesSource('{"a":1}\n'), {
      tags: ["stowage"],
    });
    // A process that ended: its pid on this host holds the lock, so the lock is stale.
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    await writeLock(`${dir}/repo`, "locks-test", {
      exclusive: true,
      hostname: Deno.hostname(),
      pid: gone.pid,
    });

    assert.equal(await repo.exists(), true);
    assert.equal((await repo.snapshots()).length, 1);
    assert.equal((await repo.snapshots({ tags: ["stowage"] })).length, 1);
    assert.equal(
      new TextDecoder().decode(await repo.dump(saved.snapshotId, "/recipe.json")),
      '{"a":1}\n',
    );
    await assert.rejects(
      repo.snapshots({}, { lock: true }),
      (e) => isStowageError(e, "repo.locked"),
    );
    // The lock's holder is gone: unlock removes it, and the locking listing opens again.
    await repo.unlock();
    assert.equal((await repo.snapshots({}, { lock: true })).length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
