/**
 * `stowage backup` end to end against real dockerd, restic and docker-compose: snapshots and tags,
 * dependency order, containers always coming back (SIGKILL and SIGTERM: backup_kill_test.ts), the host lock,
 * secrets never stored, excludes, deduplication.
 */
import assert from "node:assert/strict";

import { containerEvents, docker, sh } from "./support/docker.ts";
import { spawnStowage, stowage } from "./support/cli.ts";

import type { RunReport } from "../core/report.ts";

import { countedRestic, folderIn, running, snapshotsOf, waitFor } from "./support/backup.ts";
import { writeLock } from "./support/restic_repo.ts";
import { type FixtureStack, withFixtureStack } from "./support/fixture.ts";
import { type TestRepoEnv, testRepoEnv } from "./support/repo.ts";

/** A step on the file's one stack, with a repository of its own. */
function onRepo(fn: (s: FixtureStack, env: TestRepoEnv) => Promise<void>) {
  return async (s: FixtureStack) => {
    const env = await testRepoEnv();
    try {
      await fn(s, env);
    } finally {
      await env.cleanup();
    }
  };
}

/**
 * The most restic processes one backup of the fixture stack may start (issue 11: each one opens
 * the repository, key derivation and index load, so their number is wall time). The first run
 * also saves the test image (an image snapshot; the recipe names it by its short id, no lookup).
 */
const MAX_RESTIC_FIRST_BACKUP = 8;
const MAX_RESTIC_BACKUP = 7;
/** ... and one `restore --latest --to-dir` of it: the listing, the recipe, the data. */
const MAX_RESTIC_RESTORE = 3;

const savesTheStack = onRepo(async (s, env) => {
  await docker(
    "exec",
    s.container("app"),
    "sh",
    "-c",
    "echo hello > /data/greeting && mkdir -p /data/cache && echo junk > /data/cache/big.tmp",
  );
  await docker("stop", "-t", "1", s.container("web")); // a stopped container must stay stopped
  const counted = await countedRestic(env);
  const since = new Date();
  const r = await stowage(["backup", "--unit", s.project, "--json"], { env: counted.env });
  const until = new Date();
  assert.equal(r.code, 0, r.stderr);
  const firstCalls = await counted.calls();
  // The wrapper saw the run's restic (an empty log would make the limit below meaningless).
  assert.ok(firstCalls.some((c) => c.startsWith("backup ")), firstCalls.join("\n"));
  assert.ok(
    firstCalls.length <= MAX_RESTIC_FIRST_BACKUP,
    `the first backup ran restic ${firstCalls.length} times:\n${firstCalls.join("\n")}`,
  );
  const report = JSON.parse(r.stdout) as RunReport;
  assert.equal(report.ok, true);
  const u = report.units[0];
  assert.equal(u.unit, s.project);
  assert.equal(u.outcome, "ok");
  // db is a dependency of app: app stops first and starts last. web was not running: untouched.
  // The order is what the Engine saw, not only what stowage reports.
  const seen = await containerEvents(since, until, [
    `label=com.docker.compose.project=${s.project}`,
    "event=stop",
    "event=start",
  ]);
  assert.deepEqual(seen.map((e) => `${e.action} ${e.name}`), [
    `stop ${s.container("app")}`,
    `stop ${s.container("db")}`,
    `start ${s.container("db")}`,
    `start ${s.container("app")}`,
  ]);
  assert.deepEqual(u.containersStopped, [s.container("app"), s.container("db")]);
  assert.deepEqual(u.containersStarted, [s.container("db"), s.container("app")]);
  // Downtime runs from before the first stop request to after the last start: it covers the
  // Engine's own stop -> start window and fits inside the command's run.
  const engineWindowMs = Number(seen[3].timeNano - seen[0].timeNano) / 1e6;
  assert.ok(
    typeof u.downtimeMs === "number" && u.downtimeMs >= Math.floor(engineWindowMs) - 2 &&
      u.downtimeMs <= until.getTime() - since.getTime(),
    `downtime ${u.downtimeMs} ms; the Engine saw ${engineWindowMs} ms; the run took ${
      until.getTime() - since.getTime()
    } ms`,
  );
  assert.deepEqual(await running(s), { db: true, app: true, web: false });
  // restic's cache is the state dir's cache/restic (the same dir under the systemd units), not
  // ~/.cache: it now holds this repository's index and snapshots, so the next run starts warm.
  const repoId = JSON.parse(await env.restic("cat", "config")).id as string;
  const cached = `${env.stateDir}/cache/restic/${repoId}`;
  for (const kind of ["index", "snapshots"]) {
    const files = await Array.fromAsync(Deno.readDir(`${cached}/${kind}`));
    assert.ok(files.length > 0, `no ${kind} files in restic's cache ${cached}`);
  }

  const snaps = await snapshotsOf(env, s.project);
  const types = snaps.map((x) => `${x.type}:${x.volume ?? x.path ?? ""}`).sort();
  // Format 3: both volume folders and the bind mount in one snapshot of one restic pass.
  // Format 4: the networks in the recipe, no snapshot of their own.
  assert.deepEqual(types, ["complete:", "data:", "recipe:"]);
  const data = snaps.find((x) => x.type === "data")!;
  assert.deepEqual(
    data.items!.map((d) => `${d.kind}:${d.name}`).sort(),
    [
      `bind:${s.dir}/html`,
      `volume:${s.volume("app_data")}`,
      `volume:${s.volume("db_data")}`,
    ].sort(),
  );
  assert.deepEqual([...data.paths].sort(), data.items!.map((d) => d.path).sort());
  for (const x of snaps) {
    assert.equal(x.backupId, report.backupId);
    assert.equal(x.scope, "standard");
    assert.ok(x.tags.includes("stowage"));
    assert.ok(
      x.tags.some((t) => /^timestamp=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(t)),
      x.tags.join(","),
    );
  }
  assert.match(report.backupId, /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/);

  // The volume snapshot holds the data; the recipe holds the compose file and no secret.
  const app = folderIn(snaps, s.volume("app_data"))!;
  const greeting = await env.restic("dump", app.snap.id, `${app.path}/greeting`);
  assert.equal(greeting, "hello\n");
  const recipe = snaps.find((x) => x.type === "recipe")!;
  const recipeText = await env.restic("dump", recipe.id, "/recipe.json");
  const doc = JSON.parse(recipeText);
  assert.ok(
    doc.files.some((f: { path: string; content: string }) =>
      f.path === s.composeFile && f.content.includes("services:")
    ),
  );
  const netText = JSON.stringify(doc.unit.networks);
  assert.ok(netText.includes(s.subnet));
  for (const secret of s.secrets) {
    assert.ok(!recipeText.includes(secret), "a secret leaked into the recipe");
    assert.ok(!netText.includes(secret), "a secret leaked into the networks document");
    assert.ok(
      !r.stdout.includes(secret) && !r.stderr.includes(secret),
      "a secret leaked into the output",
    );
  }
  assert.ok(recipeText.includes("API_TOKEN=**REDACTED**"));

  // A second backup of unchanged data adds almost nothing.
  await counted.reset();
  const again = await stowage(["backup", "--unit", s.project, "--json"], { env: counted.env });
  assert.equal(again.code, 0, again.stderr);
  const calls = await counted.calls();
  assert.ok(calls.some((c) => c.startsWith("backup ")), calls.join("\n"));
  assert.ok(
    calls.length <= MAX_RESTIC_BACKUP,
    `an unchanged backup ran restic ${calls.length} times:\n${calls.join("\n")}`,
  );
  // The data passes compare with a parent named explicitly, and the snapshots are listed at most
  // twice: before the unit (image, parents) and after its restart (ids, warm, retention).
  assert.ok(calls.filter((c) => c.startsWith("snapshots ")).length <= 2, calls.join("\n"));
  const second = JSON.parse(again.stdout) as RunReport;
  assert.ok(
    second.units[0].bytesAdded < 64 * 1024,
    `second run added ${second.units[0].bytesAdded} bytes`,
  );

  // The two runs are two restore points, newest first, with their types and sizes.
  const list = await stowage(["admin", "snapshot", "list", "--unit", s.project, "--json"], {
    env: env.env,
  });
  assert.equal(list.code, 0, list.stderr);
  const listed = JSON.parse(list.stdout).units[0];
  assert.equal(listed.kind, "stack");
  assert.equal(listed.containers, 3);
  assert.equal(listed.volumes, 2);
  assert.equal(listed.latestBackup, second.backupId);
  assert.deepEqual(listed.restorePoints.map((p: { backupId: string }) => p.backupId), [
    second.backupId,
    report.backupId,
  ]);
  assert.deepEqual(listed.restorePoints[0].types, ["complete", "data", "recipe"]);
  assert.deepEqual(listed.restorePoints[0].volumes, [s.volume("app_data"), s.volume("db_data")]);
  assert.deepEqual(listed.restorePoints[0].binds, [`${s.dir}/html`]);
  assert.equal(listed.restorePoints[0].status, "complete");
  assert.ok(listed.restorePoints[0].sizeBytes > 0);
  const status = await stowage(["admin", "repo", "status", "--json"], { env: env.env });
  assert.equal(status.code, 0, status.stderr);
  assert.deepEqual(JSON.parse(status.stdout).units, [s.project]);
  // 3 per run (recipe with the networks, one data snapshot for the 3 folders, the completion
  // marker), plus the test image (made by `docker import`, no repo digest) saved once, shared.
  assert.equal(JSON.parse(status.stdout).stowageSnapshots, 7);
  const estimate = await stowage([
    "admin",
    "snapshot",
    "estimate-size",
    "--unit",
    s.project,
    "--json",
  ], {
    env: env.env,
  });
  assert.equal(estimate.code, 0, estimate.stderr);
  assert.ok(JSON.parse(estimate.stdout).totalBytes > 0);

  // A whole-unit restore of the newest point, files only.
  await counted.reset();
  const out = `${env.dir}/restored`;
  const back = await stowage(
    ["restore", "--unit", s.project, "--latest", "--to-dir", out, "--yes"],
    { env: counted.env },
  );
  assert.equal(back.code, 0, back.stderr);
  const restoreCalls = await counted.calls();
  assert.ok(restoreCalls.some((c) => c.startsWith("restore ")), restoreCalls.join("\n"));
  assert.ok(
    restoreCalls.length <= MAX_RESTIC_RESTORE,
    `restore ran restic ${restoreCalls.length} times:\n${restoreCalls.join("\n")}`,
  );
  assert.equal(
    await Deno.readTextFile(`${out}/volumes/${s.volume("app_data")}/greeting`),
    "hello\n",
  );
  // The networks document comes from the recipe (one `restic dump` for both).
  assert.ok((await Deno.readTextFile(`${out}/stowage-networks.json`)).includes(s.subnet));

  // A lock a killed restic left (its process is gone) does not stop a restore: its listing takes
  // no lock, and its first locking command, the staging restore, has the lock removed and runs
  // again (core/stale_locks.ts).
  const gone = new Deno.Command("true").spawn();
  await gone.status;
  await writeLock(env.repo, await Deno.readTextFile(env.passwordFile), {
    exclusive: true,
    hostname: Deno.hostname(),
    pid: gone.pid,
  });
  const afterLock = `${env.dir}/restored-after-lock`;
  const unlocked = await stowage(
    ["restore", "--unit", s.project, "--latest", "--to-dir", afterLock, "--yes"],
    { env: env.env },
  );
  assert.equal(unlocked.code, 0, unlocked.stderr);
  assert.match(unlocked.stderr, /Removed stale repository locks/);
  assert.equal(
    await Deno.readTextFile(`${afterLock}/volumes/${s.volume("app_data")}/greeting`),
    "hello\n",
  );
});

const honoursExcludes = onRepo(async (s, env) => {
  await Deno.writeTextFile(
    env.configPath,
    (await Deno.readTextFile(env.configPath)) +
      `units:\n  ${s.project}:\n    exclude: ["*.tmp"]\n`,
  );
  await docker(
    "exec",
    s.container("app"),
    "sh",
    "-c",
    "echo keep > /data/keep.txt && echo drop > /data/drop.tmp",
  );
  const dry = await stowage(["dry-run", "--unit", s.project, "--json"], { env: env.env });
  assert.equal(dry.code, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout);
  const vol = plan.units[0].items.find((i: { item: string }) => i.item === s.volume("app_data"));
  assert.deepEqual(vol.excludes, ["*.tmp"]);
  const r = await stowage(["backup", "--unit", s.project, "--scope", "minimal", "--json"], {
    env: env.env,
  });
  assert.equal(r.code, 0, r.stderr);
  const app = folderIn(await snapshotsOf(env, s.project), s.volume("app_data"))!;
  const files = await env.restic("ls", app.snap.id, app.path);
  assert.ok(files.includes(`${app.path}/keep.txt`));
  assert.ok(!files.includes("/drop.tmp"));
  // minimal scope: volumes only (one pass: the unit's excludes apply to both), and the marker
  const after = await snapshotsOf(env, s.project);
  assert.deepEqual(after.map((x) => x.type).sort(), ["complete", "data"]);
  assert.deepEqual(
    after.find((x) => x.type === "data")!.items!.map((d) => d.name).sort(),
    [s.volume("app_data"), s.volume("db_data")],
  );
});

const waitsForTheLock = onRepo(async (s, env) => {
  // Hold the lock from another process: the real flock, as a running backup holds it.
  const holder = new Deno.Command("flock", {
    // -o: the lock stays with flock itself, not the sleep, so killing flock releases it.
    args: ["-x", "-o", `${env.stateDir}/backup.lock`, "sleep", "30"],
    stdout: "null",
    stderr: "null",
  });
  await Deno.mkdir(env.stateDir, { recursive: true });
  const child = holder.spawn();
  try {
    await waitFor(
      "flock holder",
      async () =>
        (await sh("flock", ["-n", `${env.stateDir}/backup.lock`, "true"], { check: false }))
          .code !== 0,
    );
    const r = await stowage(["backup", "--unit", s.project], { env: env.env });
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, /another backup is running/);
    assert.deepEqual(await running(s), { db: true, app: true, web: true });
    // --wait queues behind the holder and runs once it lets go.
    const waiting = spawnStowage([
      "backup",
      "--unit",
      s.project,
      "--scope",
      "minimal",
      "--wait",
      "60",
    ], { env: env.env });
    const dec = new TextDecoder();
    let err = "";
    const pumps = Promise.all([
      (async () => {
        for await (const c of waiting.stderr) err += dec.decode(c, { stream: true });
      })(),
      (async () => {
        for await (const _ of waiting.stdout) { /* the summary goes to stderr */ }
      })(),
    ]);
    // Release the holder only once the waiter has found the lock held and queued.
    await waitFor(
      "the waiter to queue behind the lock",
      () => Promise.resolve(/waiting for .* to finish, up to 60 s/.test(err)),
    );
    child.kill("SIGKILL");
    const status = await waiting.status;
    await pumps;
    assert.equal(status.code, 0, err);
    assert.match(err, new RegExp(`\\[${s.project}\\] done, downtime`), err);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
  }
});

Deno.test("backup, on one fixture stack", async (t) => {
  // One stack for every step (a stack costs docker-compose, three containers and a network);
  // each step has its own repository and state dir.
  await withFixtureStack({ name: "backup" }, async (s) => {
    await t.step(
      "exclude patterns from config are honoured and shown by dry-run",
      () => honoursExcludes(s),
    );
    await t.step(
      "a second backup waits for or refuses the host lock",
      () => waitsForTheLock(s),
    );
    // Last: it leaves web stopped (a stopped container must stay stopped).
    await t.step(
      "backup saves the fixture stack as tagged snapshots, in dependency order, and everything runs again",
      () => savesTheStack(s),
    );
  });
});
