/** `backup --wait` says what it waits for while queued behind another run, then goes on. */
import assert from "node:assert/strict";
import { spawnStowage } from "./support/cli.ts";
import { testRepoEnv } from "./support/repo.ts";
import { cleanupDocker, runTestContainer, sh } from "./support/docker.ts";

Deno.test("backup --wait names the run it queues behind and how long it waits, then proceeds when the lock is free", async () => {
  const env = await testRepoEnv();
  // A real unit to back up once the lock is free (unit names are checked before the lock).
  const unit = await runTestContainer("waiter");
  const lockFile = `${env.stateDir}/backup.lock`;
  await Deno.mkdir(env.stateDir, { recursive: true });
  // What a running backup of barzdb leaves in the lock file, held with the real flock.
  await Deno.writeTextFile(
    lockFile,
    JSON.stringify({
      pid: 4242,
      since: "2030-01-01T02:00:00.000Z",
      command: "backup",
      units: ["barzdb"],
    }),
  );
  const holder = new Deno.Command("flock", {
    args: ["-x", "-o", lockFile, "sleep", "60"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // Held once a non-blocking flock fails.
    for (let i = 0; i < 200; i++) {
      if ((await sh("flock", ["-n", lockFile, "true"], { check: false })).code !== 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const child = spawnStowage(["backup", "--unit", unit, "--wait", "120"], {
      env: env.env,
    });
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let stderr = "";
    const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
    // The notice comes while the lock is still held: read until it shows.
    while (!/waiting for/.test(stderr)) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
    assert.match(
      stderr,
      /waiting for the backup of barzdb \(pid 4242, since 2030-01-01T02:00:00\.000Z\) to finish, up to 120 s/,
    );
    holder.kill("SIGKILL");
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
    const status = await child.status;
    clearTimeout(guard);
    await child.stdout.cancel();
    // It got the lock and backed the unit up.
    assert.equal(status.code, 0, stderr);
    assert.match(stderr, new RegExp(`\\[${unit}\\] done`));
  } finally {
    try {
      holder.kill("SIGKILL");
    } catch { /* gone */ }
    await holder.status;
    await env.cleanup();
    await cleanupDocker();
  }
});
