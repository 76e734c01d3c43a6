/**
 * doctor reports a healthy setup and pinpoints each broken one; the same broken setups give
 * commands a one-line error with a hint and their documented exit code.
 */
import assert from "node:assert/strict";
import { stowage } from "./support/cli.ts";
import { type TestRepoEnv, testRepoEnv } from "./support/repo.ts";
import { cleanupDocker, runTestContainer } from "./support/docker.ts";

interface Check {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  hint?: string;
}

async function doctor(env: Record<string, string>) {
  const r = await stowage(["doctor", "--json"], { env });
  const doc = JSON.parse(r.stdout) as { healthy: boolean; checks: Check[] };
  const byName = Object.fromEntries(doc.checks.map((c) => [c.name, c]));
  return { code: r.code, doc, byName, stderr: r.stderr };
}

async function withRepo(fn: (env: TestRepoEnv) => Promise<void>) {
  const env = await testRepoEnv();
  try {
    await fn(env);
  } finally {
    await env.cleanup();
  }
}

Deno.test("doctor: a healthy setup", async () => {
  await withRepo(async (env) => {
    const d = await doctor(env.env);
    assert.equal(d.code, 0, JSON.stringify(d.doc, null, 2));
    assert.equal(d.doc.healthy, true);
    assert.match(d.byName["docker engine"].detail, /^Docker \S+, API 1\.\d+/);
    assert.match(d.byName["restic"].detail, /restic 0\.\d+/);
    assert.match(d.byName["config"].detail, /is valid/);
    assert.equal(d.byName["repository password file"].status, "ok");
    assert.match(d.byName["repository"].detail, /0 snapshots/);
    assert.equal(d.byName["restic cache"].status, "ok");
    assert.ok(d.byName["restic cache"].detail.startsWith(`${env.stateDir}/cache/restic `));
    const text = await stowage(["doctor"], { env: env.env });
    assert.match(text.stdout, /healthy/);
  });
});

Deno.test("doctor pinpoints a password file readable by others", async () => {
  await withRepo(async (env) => {
    await Deno.chmod(env.passwordFile, 0o644);
    const d = await doctor(env.env);
    assert.equal(d.code, 19);
    assert.equal(d.byName["repository password file"].status, "fail");
    assert.match(d.byName["repository password file"].hint!, /chmod 600/);
  });
});

Deno.test("doctor warns when restic's cache dir cannot be written", async () => {
  await withRepo(async (env) => {
    // A file where the cache's parent directory should be: restic could not create its cache.
    await Deno.mkdir(env.stateDir, { recursive: true });
    await Deno.writeTextFile(`${env.stateDir}/cache`, "");
    const d = await doctor(env.env);
    const c = d.byName["restic cache"];
    assert.equal(c.status, "warn", JSON.stringify(c));
    assert.match(c.detail, new RegExp(`^${env.stateDir}/cache/restic is not writable`));
    assert.match(c.hint!, /ReadWritePaths/);
  });
});

Deno.test("wrong repository password: doctor fails the repository, commands exit 8 with a hint", async () => {
  await withRepo(async (env) => {
    await Deno.writeTextFile(env.passwordFile, "not-the-password", { mode: 0o600 });
    const d = await doctor(env.env);
    assert.equal(d.code, 19);
    assert.equal(d.byName["repository"].status, "fail");
    assert.match(d.byName["repository"].detail, /password/i);
    const r = await stowage(["admin", "repo", "status"], { env: env.env });
    assert.equal(r.code, 8, r.stderr);
    assert.match(r.stderr, /password/i);
    assert.match(r.stderr, /^hint: /m);
    assert.ok(!r.stderr.includes("not-the-password"));
  });
});

Deno.test("repository missing: doctor fails it, admin repo status exits 7", async () => {
  const env = await testRepoEnv("", { repository: "absent" });
  try {
    const d = await doctor(env.env);
    assert.equal(d.byName["repository"].status, "fail");
    assert.match(d.byName["repository"].detail, new RegExp(`no repository at ${env.repo}`));
    const r = await stowage(["admin", "repo", "status", "--json"], { env: env.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).exists, false);
    const list = await stowage(["admin", "snapshot", "list"], { env: env.env });
    assert.equal(list.code, 7, list.stderr);
    assert.match(list.stderr, /^hint: /m);
  } finally {
    await env.cleanup();
  }
});

Deno.test("engine down: doctor fails the engine, commands exit 5 with a hint", async () => {
  await withRepo(async (env) => {
    // No engine listens at this path: the same answer as a stopped dockerd with its socket gone.
    const e = { ...env.env, DOCKER_HOST: `unix://${env.dir}/docker.sock` };
    const d = await doctor(e);
    const engine = d.byName["docker engine"];
    assert.equal(d.code, 19);
    assert.equal(engine.status, "fail");
    assert.match(engine.detail, /Cannot reach the Docker Engine/);
    const r = await stowage(["dry-run"], { env: e });
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 2, r.stderr); // one line + hint, no stack
  });
});

Deno.test("restic missing: doctor fails it; backup and repo init exit 4 with an install hint", async () => {
  // A real unit of its own: unit names are checked before anything needs restic.
  const unit = await runTestContainer("norestic");
  try {
    await resticMissing(unit);
  } finally {
    await cleanupDocker();
  }
});

async function resticMissing(unit: string) {
  await withRepo(async (env) => {
    const e = { ...env.env, PATH: "/nonexistent" };
    const d = await doctor(e);
    assert.equal(d.code, 19);
    assert.equal(d.byName["restic"].status, "fail");
    assert.match(d.byName["restic"].detail, /not installed|not permitted/);
    for (const args of [["backup", "--unit", unit], ["admin", "repo", "init"]]) {
      const r = await stowage(args, { env: e });
      assert.equal(r.code, 4, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /Cannot run 'restic': it is not installed/);
      assert.match(r.stderr, /hint: .*install-deps/);
    }
  });
}

Deno.test("broken config: doctor says where and why", async () => {
  const env = await testRepoEnv("  stop_timout: 5\n");
  try {
    const d = await doctor(env.env);
    assert.equal(d.code, 19);
    assert.match(d.byName["config"].detail, /stop_timout.*did you mean 'stop_timeout'/s);
  } finally {
    await env.cleanup();
  }
});
