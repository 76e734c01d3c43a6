/**
 * Secrets in a repository location stay out of restic's argv, which any local user can read in
 * /proc/PID/cmdline. Real restic against a real REST server (rclone) that demands the credential,
 * so a location whose credential did not reach restic could not open the repository at all.
 */
import assert from "node:assert/strict";
import { Restic } from "../adapters/restic/restic.ts";
import { startRestServer } from "./support/rest_server.ts";

/**
 * Output of `cat` on a /proc file. Deno's permission model wants --allow-all for /proc, so a child
 * reads it (the test permission set may run programs).
 */
async function procFile(pid: number, name: string): Promise<string[]> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/${name}`], stdout: "piped" })
    .output();
  assert.ok(out.success, `cannot read /proc/${pid}/${name}`);
  return new TextDecoder().decode(out.stdout).split("\0");
}

/**
 * PIDs of our own child processes named `comm` whose command line mentions `marker`. Test files
 * run in parallel workers of one process, so other files' children are ours too; the marker
 * (a path of this test's own) tells this test's apart.
 */
async function childrenNamed(comm: string, marker: string): Promise<number[]> {
  const out = await new Deno.Command("pgrep", {
    args: ["-P", String(Deno.pid), "-x", comm],
    stdout: "piped",
  }).output();
  const pids = new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).map(Number);
  const mine: number[] = [];
  for (const pid of pids) {
    const cmdline = await procFile(pid, "cmdline").catch(() => [] as string[]);
    if (cmdline.some((w) => w.includes(marker))) mine.push(pid);
  }
  return mine;
}

/** Resolves with the first file system event under `dir` whose path contains `part`. */
function firstEvent(dir: string, part: string): { seen: Promise<string>; close(): void } {
  const watcher = Deno.watchFs(dir, { recursive: true });
  const seen = (async () => {
    for await (const ev of watcher) {
      const hit = ev.paths.find((p) => p.includes(part));
      if (hit) return hit;
    }
    throw new Error(`watcher closed before anything under '${part}' appeared`);
  })();
  return { seen, close: () => watcher.close() };
}

Deno.test("a REST location's password reaches restic through its environment, never its command line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-secrets-" });
  await using server = await startRestServer(dir);
  try {
    await Deno.writeTextFile(`${dir}/pw`, "repo-pw-" + crypto.randomUUID(), { mode: 0o600 });
    const location = server.location("unit-repo");
    const repo = new Restic({ location, passwordFile: `${dir}/pw`, cacheDir: `${dir}/cache` });
    // The server refuses requests without the credential: init succeeding proves restic had it.
    await repo.init();

    // Hold a backup open: restic has opened the repository (its lock file is on the server) and
    // waits for stdin, which the producer only sends once the command line has been read.
    const lock = firstEvent(`${server.dir}/unit-repo`, "/locks/");
    let release!: () => void;
    const released = new Promise<void>((r) => release = r);
    const stream = new ReadableStream<Uint8Array>({
      async pull(c) {
        await released;
        c.enqueue(new TextEncoder().encode("held\n"));
        c.close();
      },
    });
    const backup = repo.backupStream("held.txt", { stream, done: released }, {
      tags: ["case=argv"],
    });
    try {
      await lock.seen;
    } finally {
      lock.close();
    }
    const pids = await childrenNamed("restic", `${dir}/cache`);
    assert.equal(pids.length, 1, `expected one running restic, found ${pids.join(",")}`);
    const cmdline = await procFile(pids[0], "cmdline");
    assert.ok(cmdline.includes("--stdin"), `not the held backup: ${cmdline.join(" ")}`);
    assert.ok(
      !cmdline.some((w) => w.includes(server.password)),
      `credential in argv: ${cmdline.join(" ")}`,
    );
    assert.ok(!cmdline.some((w) => w.includes("rest:")), `location in argv: ${cmdline.join(" ")}`);
    const environ = await procFile(pids[0], "environ");
    assert.ok(environ.includes(`RESTIC_REPOSITORY=${location}`), "location not in restic's env");

    release();
    const summary = await backup;
    const snaps = await repo.snapshots({ tags: ["case=argv"] });
    assert.deepEqual(snaps.map((s) => s.id), [summary.snapshotId]);

    // copy names two repositories (here the REST one is the source): neither goes on the command line. A recording wrapper around
    // the real restic keeps every argv it was given (copy holds no lock to wait on).
    const wrapper = `${dir}/restic-recording`;
    await Deno.writeTextFile(
      wrapper,
      `#!/bin/sh\nprintf '%s\\n' "$@" >> '${dir}/argv'\nexec restic "$@"\n`,
      { mode: 0o755 },
    );
    const recorded = new Restic({
      binary: wrapper,
      location,
      passwordFile: `${dir}/pw`,
      cacheDir: `${dir}/cache`,
    });
    const dest = new Restic({ location: `${dir}/local`, passwordFile: `${dir}/pw` });
    await dest.init();
    await recorded.copy({ location: `${dir}/local`, passwordFile: `${dir}/pw` });
    assert.equal((await dest.snapshots({ tags: ["case=argv"] })).length, 1);
    const argv = await Deno.readTextFile(`${dir}/argv`);
    assert.match(argv, /^copy$/m);
    assert.ok(!argv.includes(server.password), `credential in copy's argv:\n${argv}`);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
