/**
 * The BackupRepository contract, run against every way stowage reaches a repository:
 * tests/repository_contract_*_test.ts each run it against one kind of target (a local directory,
 * SFTP on a real sshd on loopback, REST on a real `rclone serve restic`, an rclone remote), one
 * file per target so the suite runs them side by side. Each target gets its own temp dirs and
 * repositories and removes them. Everything here is real restic; nothing is faked.
 */
import assert from "node:assert/strict";
import { Restic } from "../../adapters/restic/restic.ts";
import { redactLocation } from "../../adapters/restic/errors.ts";
import { isStowageError, StowageError } from "../../core/errors.ts";
import type { BackupProgress, StreamSource } from "../../core/ports.ts";
import { sh } from "./docker.ts";
import { startRestServer } from "./rest_server.ts";
import { cheapenKey } from "./restic_repo.ts";

export interface ContractTarget {
  /** A location where no repository exists yet. */
  newLocation(): Promise<string>;
  /** restic's global args for a location (what the adapter adds besides -r). */
  extraArgs: string[];
  /** Backend environment restic gets (e.g. RCLONE_CONFIG). */
  env?: Record<string, string>;
  /** The server refuses deletion: forget is `repo.appendonly`, prune is never asked. */
  appendOnly?: boolean;
  /**
   * The local directory that holds the files of the repository at `location`, for targets that
   * keep them on this machine's disk. After restic creates a repository there, the contract swaps
   * its key for one restic opens cheaply (tests/support/restic_repo.ts says why).
   */
  storageDir?(location: string): string;
  cleanup(): Promise<void>;
}

interface Harness {
  dir: string;
  target: ContractTarget;
  passwordFile: string;
  open(location: string, passwordFile?: string): Restic;
}

const enc = new TextEncoder();

async function writePassword(
  dir: string,
  name: string,
  value = crypto.randomUUID(),
): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, value + "\n", { mode: 0o600 });
  return path;
}

/** A stream of `chunks` chunks of `size` bytes (byte i of chunk n is n), then `end`. */
function chunkStream(
  chunks: number,
  size: number,
  end: "close" | "error" | "hang" = "close",
  error = new Error("producer stream broke"),
): ReadableStream<Uint8Array> {
  let n = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (n < chunks) {
        c.enqueue(new Uint8Array(size).fill(n++ % 256));
        return;
      }
      if (end === "close") c.close();
      else if (end === "error") c.error(error);
      // "hang": never enqueue again.
      return end === "hang" ? new Promise(() => {}) : undefined;
    },
  });
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(bytes);
      c.close();
    },
  });
}

/** Swaps the key of a repository restic just created, where the target stores it on local disk. */
async function cheapen(h: Harness, location: string, passwordFile: string) {
  if (!h.target.storageDir) return;
  const password = (await Deno.readTextFile(passwordFile)).replace(/\r?\n$/, "");
  await cheapenKey(h.target.storageDir(location), password);
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<StowageError> {
  try {
    await p;
  } catch (e) {
    assert.ok(
      isStowageError(e),
      `expected StowageError ${code}, got ${e instanceof Error ? e.stack : e}`,
    );
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

async function xattrs(path: string): Promise<string> {
  return (await sh("getfattr", ["-h", "-d", "--absolute-names", path])).stdout.split("\n").slice(1)
    .join("\n");
}

async function acl(path: string): Promise<string> {
  return (await sh("getfacl", ["-c", "-p", path])).stdout;
}

export function repositoryContract(name: string, makeTarget: () => Promise<ContractTarget>) {
  Deno.test({
    name: `repository contract: ${name}`,
    sanitizeResources: true,
    sanitizeOps: true,
    async fn(t) {
      const target = await makeTarget();
      const dir = await Deno.makeTempDir({ prefix: "stowage-contract-" });
      const h: Harness = {
        dir,
        target,
        passwordFile: await writePassword(dir, "password"),
        open: (location, passwordFile = h.passwordFile) =>
          new Restic({
            location,
            passwordFile,
            extraArgs: target.extraArgs,
            env: target.env,
            cacheDir: `${dir}/cache`,
          }),
      };
      try {
        await runContract(t, h);
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        await target.cleanup();
      }
    },
  });
}

async function runContract(t: Deno.TestContext, h: Harness) {
  const location = await h.target.newLocation();
  const repo = h.open(location);

  await t.step("version parses restic's version", async () => {
    assert.match(await repo.version(), /^\d+\.\d+\.\d+/);
  });

  await t.step(
    "a missing repository: exists() is false, other commands say repo.missing",
    async () => {
      assert.equal(await repo.exists(), false);
      const e = await rejectsWith(repo.snapshots(), "repo.missing");
      assert.ok(e.message.includes(redactLocation(location)), e.message);
    },
  );

  await t.step("init, then exists() is true and there are no snapshots", async () => {
    await repo.init();
    await cheapen(h, location, h.passwordFile);
    assert.equal(await repo.exists(), true);
    assert.deepEqual(await repo.snapshots(), []);
  });

  await t.step("init twice fails as a repository error", async () => {
    await rejectsWith(repo.init(), "repo.error");
  });

  await t.step("a wrong password is repo.password, from exists() too", async () => {
    const wrong = h.open(location, await writePassword(h.dir, "wrong"));
    await rejectsWith(wrong.snapshots(), "repo.password");
    await rejectsWith(wrong.exists(), "repo.password");
    // restic fails while the producer still has data to send (and never finishes by itself):
    // the stream is cancelled and restic's error is reported, nothing hangs.
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull: () => new Promise(() => {}),
      cancel: () => void (cancelled = true),
    });
    await rejectsWith(
      wrong.backupStream("x", { stream, done: new Promise(() => {}) }, { tags: ["case=wrong-pw"] }),
      "repo.password",
    );
    assert.ok(cancelled, "the producer's stream was not cancelled");
  });

  await t.step("the password stays out of restic's argv and stderr-derived messages", async () => {
    const secret = (await Deno.readTextFile(h.passwordFile)).trim();
    const wrong = h.open(await h.target.newLocation());
    const e = await rejectsWith(wrong.snapshots(), "repo.missing");
    assert.ok(!JSON.stringify({ m: e.message, h: e.hint, d: e.details }).includes(secret));
  });

  // ----- directory backups -------------------------------------------------------------------
  const src = `${h.dir}/src`;
  await t.step(
    "backupPaths keeps owners, modes, xattrs, ACLs, hard links and symlinks",
    async () => {
      await Deno.mkdir(`${src}/sub`, { recursive: true });
      await Deno.writeTextFile(`${src}/owned`, "owned by 1234:5678\n");
      await Deno.chown(`${src}/owned`, 1234, 5678);
      await Deno.chmod(`${src}/owned`, 0o640);
      await Deno.writeTextFile(`${src}/sub/setgid-dir-file`, "x");
      await Deno.chmod(`${src}/sub`, 0o2750);
      await Deno.writeTextFile(`${src}/attrs`, "with xattr and acl\n");
      await sh("setfattr", ["-n", "user.stowage", "-v", "kept", `${src}/attrs`]);
      await sh("setfacl", ["-m", "u:4321:rw", `${src}/attrs`]);
      await Deno.writeTextFile(`${src}/hard1`, "linked\n");
      await Deno.link(`${src}/hard1`, `${src}/hard2`);
      await Deno.symlink("owned", `${src}/link`);
      await Deno.symlink("/nonexistent/target", `${src}/dangling`);
      await Deno.writeTextFile(`${src}/skip.tmp`, "excluded\n");

      const progress: BackupProgress[] = [];
      const summary = await repo.backupPaths([src], {
        tags: ["stowage", "type=volume", "unit=contract"],
        host: "contract-host",
        excludes: ["*.tmp"],
        onProgress: (p) => progress.push(p),
      });
      assert.match(summary.snapshotId, /^[0-9a-f]{64}$/);
      assert.ok(summary.filesNew >= 5, `filesNew ${summary.filesNew}`);
      assert.ok(progress.length > 0, "no progress reported");

      const out = `${h.dir}/restored-full`;
      await repo.restore(summary.snapshotId, out);
      const r = `${out}${src}`;
      const owned = await Deno.lstat(`${r}/owned`);
      assert.equal(owned.uid, 1234);
      assert.equal(owned.gid, 5678);
      assert.equal(owned.mode! & 0o7777, 0o640);
      assert.equal((await Deno.lstat(`${r}/sub`)).mode! & 0o7777, 0o2750);
      assert.equal(await xattrs(`${r}/attrs`), await xattrs(`${src}/attrs`));
      assert.match(await acl(`${r}/attrs`), /user:4321:rw-/);
      assert.equal(await acl(`${r}/attrs`), (await acl(`${src}/attrs`)).replaceAll(src, r));
      const [a, b] = [await Deno.lstat(`${r}/hard1`), await Deno.lstat(`${r}/hard2`)];
      assert.equal(a.ino, b.ino, "hard link not kept");
      assert.equal(await Deno.readLink(`${r}/link`), "owned");
      assert.equal(await Deno.readLink(`${r}/dangling`), "/nonexistent/target");
      await assert.rejects(Deno.lstat(`${r}/skip.tmp`), Deno.errors.NotFound);
    },
  );

  await t.step("tags, host and time land in snapshots(), and filters select by them", async () => {
    const when = new Date("2021-03-04T05:06:07Z");
    const s = await repo.backupPaths([src], {
      tags: ["stowage", "unit=contract", "backup_id=2021-03-04T05-06-07Z", "path=/a%2Cb"],
      host: "other-host",
      time: when,
    });
    const snaps = await repo.snapshots({
      tags: ["unit=contract", "backup_id=2021-03-04T05-06-07Z"],
    });
    assert.equal(snaps.length, 1);
    assert.equal(snaps[0].id, s.snapshotId);
    assert.equal(snaps[0].hostname, "other-host");
    assert.equal(new Date(snaps[0].time).getTime(), when.getTime(), `time ${snaps[0].time}`);
    assert.deepEqual(snaps[0].tags?.toSorted(), [
      "backup_id=2021-03-04T05-06-07Z",
      "path=/a%2Cb",
      "stowage",
      "unit=contract",
    ]);
    assert.deepEqual(snaps[0].paths, [src]);
    assert.equal((await repo.snapshots({ host: "other-host" })).length, 1);
    assert.equal((await repo.snapshots({ tags: ["unit=contract", "nope"] })).length, 0);
  });

  await t.step(
    "restore with path puts that subtree's content straight into the target",
    async () => {
      const [snap] = await repo.snapshots({ tags: ["type=volume"] });
      const out = `${h.dir}/restored-path/data`;
      await repo.restore(snap.id, out, { path: src });
      assert.equal(await Deno.readTextFile(`${out}/owned`), "owned by 1234:5678\n");
      assert.equal((await Deno.lstat(`${out}/owned`)).uid, 1234);
      // Into an existing (non-empty) directory: same content, root metadata copied.
      const existing = `${h.dir}/restored-existing`;
      await Deno.mkdir(existing);
      await Deno.writeTextFile(`${existing}/owned`, "old");
      await repo.restore(snap.id, existing, { path: `${src}/sub` });
      assert.equal(await Deno.readTextFile(`${existing}/setgid-dir-file`), "x");
      assert.equal((await Deno.lstat(existing)).mode! & 0o7777, 0o2750);
      await rejectsWith(
        repo.restore(snap.id, `${h.dir}/nowhere`, { path: "/not/in/snapshot" }),
        "snapshot.notfound",
      );
      assert.deepEqual(
        [...Deno.readDirSync(`${h.dir}`)].filter((e) => e.name.startsWith(".stowage-restore")),
        [],
      );
    },
  );

  // ----- stream backups ----------------------------------------------------------------------
  let streamId = "";
  const payload = new Uint8Array(100_000);
  for (let i = 0; i < payload.length; i += 65536) {
    crypto.getRandomValues(payload.subarray(i, i + 65536));
  }
  await t.step("backupStream round trip through dump, with stats", async () => {
    const summary = await repo.backupStream("unit/recipe.json", {
      stream: streamOf(payload),
      done: Promise.resolve(),
    }, {
      tags: ["stowage", "type=recipe", "unit=contract"],
      host: "contract-host",
    });
    streamId = summary.snapshotId;
    assert.match(streamId, /^[0-9a-f]{64}$/);
    assert.equal(summary.totalBytesProcessed, payload.length);
    assert.deepEqual(await repo.dump(streamId, "/unit/recipe.json"), payload);
    const st = await repo.stats({ snapshotIds: [streamId] });
    assert.equal(st.totalSize, payload.length);
    assert.ok((st.totalFileCount ?? 0) >= 1);
    assert.ok((await repo.stats({ mode: "raw-data" })).totalSize > 0);
    await rejectsWith(repo.dump(streamId, "/not-there"), "snapshot.notfound");
  });

  await t.step(
    "a producer whose done rejects after the stream ended commits no snapshot",
    async () => {
      const failure = new Error("tar exited 2");
      let rejectDone!: (e: unknown) => void;
      const done = new Promise<void>((_, rej) => (rejectDone = rej));
      let pulled = 0;
      const inner = chunkStream(8, 64 * 1024);
      const reader = inner.getReader();
      const stream = new ReadableStream<Uint8Array>({
        async pull(c) {
          const r = await reader.read();
          if (r.done) {
            c.close();
            // The producer reports its failure only after its output ended, as a dying tar would.
            setTimeout(() => rejectDone(failure), 0);
          } else {
            pulled++;
            c.enqueue(r.value);
          }
        },
      });
      await assert.rejects(
        repo.backupStream("vol.tar", { stream, done }, { tags: ["case=producer-fails"] }),
        (e) => e === failure,
      );
      assert.equal(pulled, 8);
    },
  );

  await t.step(
    "a producer that fails while its stream is still open commits no snapshot",
    async () => {
      const failure = new Error("docker archive broke");
      let rejectDone!: (e: unknown) => void;
      const done = new Promise<void>((_, rej) => (rejectDone = rej));
      let n = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(c) {
          // 2 MiB is far more than a pipe buffers: restic is reading by the time this fails.
          if (n++ === 32) {
            rejectDone(failure);
            return new Promise(() => {}); // never ends by itself
          }
          c.enqueue(new Uint8Array(64 * 1024).fill(n));
        },
      });
      await assert.rejects(
        repo.backupStream("hang.tar", { stream, done }, { tags: ["case=fails-open"] }),
        (e) => e === failure,
      );
    },
  );

  await t.step("an erroring stream commits no snapshot, even when done resolves", async () => {
    const failure = new Error("read error");
    const source: StreamSource = {
      stream: chunkStream(4, 32 * 1024, "error", failure),
      done: Promise.resolve(),
    };
    await assert.rejects(
      repo.backupStream("err.tar", source, { tags: ["case=stream-errors"] }),
      (e) => e === failure,
    );
  });

  await t.step(
    "aborting a stream backup interrupts restic: no snapshot, `interrupted`",
    async () => {
      const ac = new AbortController();
      let pulled = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(c) {
          if (++pulled === 4) ac.abort();
          c.enqueue(new Uint8Array(64 * 1024).fill(pulled % 256));
        },
      });
      await rejectsWith(
        repo.backupStream("aborted.tar", { stream, done: new Promise(() => {}) }, {
          tags: ["case=stream-abort"],
          signal: ac.signal,
        }),
        "interrupted",
      );
    },
  );

  await t.step(
    "aborting a directory backup interrupts restic: no snapshot, `interrupted`",
    async () => {
      // A sparse 64 GiB file: restic needs far longer to read it than the abort takes to land.
      const big = `${h.dir}/bigsrc`;
      await Deno.mkdir(big);
      const f = await Deno.open(`${big}/sparse`, { create: true, write: true });
      await f.truncate(64 * 1024 ** 3);
      f.close();
      const ac = new AbortController();
      const p = repo.backupPaths([big], {
        tags: ["case=paths-abort"],
        signal: ac.signal,
        onProgress: () => ac.abort(),
      });
      await rejectsWith(p, "interrupted");
      await Deno.remove(big, { recursive: true });
    },
  );

  await t.step("an already aborted signal starts nothing", async () => {
    const ac = new AbortController();
    ac.abort();
    await rejectsWith(
      repo.backupPaths([src], { tags: ["case=pre-aborted"], signal: ac.signal }),
      "interrupted",
    );
    await rejectsWith(
      repo.backupStream("x", { stream: streamOf(payload), done: Promise.resolve() }, {
        tags: ["case=pre-aborted"],
        signal: ac.signal,
      }),
      "interrupted",
    );
  });

  await t.step("unreadable source files are a distinct error unless allowPartial", async () => {
    // /proc/self/mem cannot be read from offset 0, even by root: restic exits 3.
    const e = await rejectsWith(
      repo.backupPaths(["/proc/self/mem"], { tags: ["case=partial"] }),
      "repo.error",
    );
    assert.match(e.message, /could not be read/);
    assert.ok(e.details.some((d) => d.includes("/proc/self/mem")), e.details.join("\n"));
    const s = await repo.backupPaths(["/proc/self/mem"], {
      tags: ["case=partial"],
      allowPartial: true,
    });
    assert.deepEqual(s.unreadable, ["/proc/self/mem"]);
    assert.ok(
      e.details.some((d) => /^partial snapshot: [0-9a-f]{64}$/.test(d)),
      e.details.join("\n"),
    );
    assert.match(s.snapshotId, /^[0-9a-f]{64}$/);
  });

  await t.step("no failed, aborted or interrupted run left a snapshot or a lock", async () => {
    const all = await repo.snapshots();
    const cases = all.flatMap((sn) => sn.tags ?? []).filter((tag) => tag.startsWith("case="));
    assert.deepEqual(
      cases.toSorted(),
      ["case=partial", "case=partial"],
      `unexpected snapshots: ${cases}`,
    );
    assert.deepEqual(await repo.locks(), [], "an interrupted restic left a lock");
  });

  // ----- maintenance -------------------------------------------------------------------------
  if (h.target.appendOnly) {
    await t.step(
      "append-only: forget is refused as repo.appendonly and removes nothing; check reads all data",
      async () => {
        const partial = (await repo.snapshots({ tags: ["case=partial"] })).map((sn) => sn.id);
        const e = await rejectsWith(repo.forget(partial), "repo.appendonly");
        assert.match(e.message, /refuses deletion \(append-only\)/);
        assert.equal((await repo.snapshots({ tags: ["case=partial"] })).length, partial.length);
        await repo.check({ readData: true });
      },
    );
  } else {
    await t.step("forget removes by id; an unknown id is snapshot.notfound", async () => {
      const partial = (await repo.snapshots({ tags: ["case=partial"] })).map((sn) => sn.id);
      await repo.forget(partial);
      assert.deepEqual(await repo.snapshots({ tags: ["case=partial"] }), []);
      await rejectsWith(repo.forget(["deadbeef"]), "snapshot.notfound");
      await repo.forget([]);
    });

    await t.step("prune and check (reading all data) succeed", async () => {
      await repo.prune();
      await repo.check({ readData: true });
    });
  }

  await t.step(
    "a stale lock from a killed restic blocks exclusive commands until unlock()",
    async () => {
      const child = new Deno.Command("restic", {
        args: [...h.target.extraArgs, "backup", "--stdin", "--stdin-filename", "killed"],
        env: {
          ...h.target.env,
          RESTIC_REPOSITORY: location,
          RESTIC_PASSWORD_FILE: h.passwordFile,
        },
        stdin: "piped",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(enc.encode("some bytes, and then SIGKILL"));
      // Wait until restic holds its lock (polling, no timing assumption).
      let locks: string[] = [];
      for (let i = 0; i < 600 && locks.length === 0; i++) {
        locks = await repo.locks();
        if (!locks.length) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(locks.length, 1, "restic never took its lock");
      child.kill("SIGKILL");
      await child.status;
      await w.abort().catch(() => {});
      const e = await rejectsWith(repo.prune(), "repo.locked");
      assert.match(e.message, /locked by PID \d+/);
      await repo.unlock();
      assert.deepEqual(await repo.locks(), []);
    },
  );

  await t.step("copy to a second repository keeps snapshots, tags and content", async () => {
    const destLoc = await h.target.newLocation();
    const destPw = await writePassword(h.dir, "dest-password");
    const dest = h.open(destLoc, destPw);
    await dest.init();
    await cheapen(h, destLoc, destPw);
    await repo.copy({ location: destLoc, passwordFile: destPw }, [streamId]);
    const copied = await dest.snapshots();
    assert.equal(copied.length, 1);
    assert.ok(copied[0].tags?.includes("type=recipe"));
    assert.deepEqual(await dest.dump(copied[0].id, "/unit/recipe.json"), payload);
    // Without ids, everything not yet there is copied.
    await repo.copy({ location: destLoc, passwordFile: destPw });
    assert.equal((await dest.snapshots()).length, (await repo.snapshots()).length);
    const wrongDest = await writePassword(h.dir, "wrong-dest");
    await rejectsWith(repo.copy({ location: destLoc, passwordFile: wrongDest }), "repo.password");
    await rejectsWith(
      repo.copy({ location: await h.target.newLocation(), passwordFile: destPw }),
      "repo.missing",
    );
  });

  await t.step("a missing restic binary is dependency.missing", async () => {
    const none = new Restic({
      binary: "restic-not-installed-here",
      location,
      passwordFile: h.passwordFile,
    });
    await rejectsWith(none.snapshots(), "dependency.missing");
  });
}

/** A REST target on a real `rclone serve restic` (no auth, basic auth, or append-only). */
export function restTarget(opts: { auth: boolean; appendOnly?: boolean }) {
  return async (): Promise<ContractTarget> => {
    const root = await Deno.makeTempDir({ prefix: "stowage-repo-rest-" });
    const server = await startRestServer(root, opts);
    let n = 0;
    return {
      newLocation: () => Promise.resolve(server.location(`repo-${++n}`)),
      storageDir: (location) => `${server.dir}/${location.replace(/\/$/, "").split("/").pop()}`,
      extraArgs: [],
      appendOnly: opts.appendOnly,
      async cleanup() {
        await server.stop();
        await Deno.remove(root, { recursive: true });
      },
    };
  };
}
