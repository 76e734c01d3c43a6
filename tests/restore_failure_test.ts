/**
 * Nothing half-written: a wrong password, a damaged repository and a full disk each end in one
 * clear error, the old content in place, no staging folder left behind, containers running.
 */
import assert from "node:assert/strict";
import { createFixtureStack, type FixtureStack } from "./support/fixture.ts";
import { cleanupDocker, docker, sh } from "./support/docker.ts";
import { stowage } from "./support/cli.ts";
import { type TestRepoEnv, testRepoEnv } from "./support/repo.ts";

async function withBackedUpStack(fn: (s: FixtureStack, env: TestRepoEnv) => Promise<void>) {
  const s = await createFixtureStack({ name: "fail" });
  const env = await testRepoEnv();
  try {
    await s.up();
    // More than the 1 MiB file system below can hold.
    await docker(
      "exec",
      s.container("app"),
      "sh",
      "-c",
      "echo v1 > /data/state && head -c 3000000 /dev/urandom > /data/blob",
    );
    const b = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    assert.equal(b.code, 0, b.stderr);
    await docker("exec", s.container("app"), "sh", "-c", "echo v2 > /data/state");
    await fn(s, env);
  } finally {
    await s.down();
    await cleanupDocker();
    await env.cleanup();
    await Deno.remove(s.dir, { recursive: true }).catch(() => {});
  }
}

async function leftovers(s: FixtureStack): Promise<string[]> {
  const mp = (await docker("volume", "inspect", "-f", "{{.Mountpoint}}", s.volume("app_data")))
    .stdout.trim();
  const parent = mp.slice(0, mp.lastIndexOf("/"));
  const names: string[] = [];
  for await (const e of Deno.readDir(parent)) if (e.name !== "_data") names.push(e.name);
  return names;
}

const state = async (s: FixtureStack) =>
  (await docker("exec", s.container("app"), "cat", "/data/state")).stdout;

Deno.test("wrong password, damaged repository, full disk: a clear error and nothing half-written", async () => {
  await withBackedUpStack(async (s, env) => {
    const args = [
      "restore",
      "--unit",
      s.project,
      "--latest",
      "--only",
      "volumes",
      "--stop",
      "--yes",
    ];

    // Wrong password: refused before anything is touched.
    const good = await Deno.readTextFile(env.passwordFile);
    await Deno.writeTextFile(env.passwordFile, "wrong-password");
    const pw = await stowage(args, { env: env.env });
    await Deno.writeTextFile(env.passwordFile, good);
    assert.equal(pw.code, 8, pw.stderr);
    assert.match(pw.stderr, /password/i);
    assert.doesNotMatch(pw.stderr, /\n\s+at /, "no stack trace");
    assert.equal(await state(s), "v2\n");

    // Full disk (--to-dir on a 1 MiB tmpfs): the error names the problem, nothing stays there.
    const small = await Deno.makeTempDir({ prefix: "stowage-full-" });
    await sh("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", small]);
    try {
      const full = await stowage([
        "restore",
        "--unit",
        s.project,
        "--latest",
        "--only",
        "volumes",
        "--volume",
        s.volume("app_data"),
        "--to-dir",
        small,
        "--yes",
      ], { env: env.env });
      assert.equal(full.code, 20, full.stderr);
      assert.match(full.stderr, /no space left/i);
      const entries = [];
      for await (const e of Deno.readDir(`${small}`)) entries.push(e.name);
      assert.deepEqual(entries.filter((n) => n !== "volumes"), []);
      for await (const e of Deno.readDir(`${small}/volumes`)) assert.fail(`left behind: ${e.name}`);
    } finally {
      await sh("umount", [small]);
      await Deno.remove(small, { recursive: true });
    }

    // Damaged repository (data packs gone): staging fails, the volume keeps v2, the stack runs.
    for await (const d of Deno.readDir(`${env.repo}/data`)) {
      await Deno.remove(`${env.repo}/data/${d.name}`, { recursive: true });
    }
    const damaged = await stowage(args, { env: env.env });
    assert.notEqual(damaged.code, 0);
    assert.match(damaged.stderr, /^stowage: /m);
    assert.doesNotMatch(damaged.stderr, /internal error/);
    assert.equal(await state(s), "v2\n");
    assert.deepEqual(await leftovers(s), [], "no staging folder is left next to the volume");
    for (const svc of ["db", "app", "web"]) {
      assert.equal(
        (await docker("inspect", "-f", "{{.State.Running}}", s.container(svc))).stdout.trim(),
        "true",
      );
    }
  });
});
