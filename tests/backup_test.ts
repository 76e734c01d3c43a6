/**
 * `stowage backup` end to end against real dockerd, restic and docker-compose: snapshots and tags,
 * dependency order, containers always coming back (also after SIGKILL and SIGTERM), the host lock,
 * secrets never stored, excludes, deduplication.
 */
import assert from "node:assert/strict";
import { createFixtureStack, type FixtureStack } from "./support/fixture.ts";
import { cleanupDocker, containerEvents, docker, sh } from "./support/docker.ts";
import { spawnStowage, stowage } from "./support/cli.ts";
import { type TestRepoEnv, testRepoEnv } from "./support/repo.ts";
import type { RunReport } from "../core/report.ts";
import { parseSnapshot } from "../core/tags.ts";
import type { ResticSnapshot } from "../core/ports.ts";
import { isUsable, restorePoints } from "../core/restore/points.ts";

async function running(s: FixtureStack): Promise<Record<string, boolean>> {
  const out: Record<string, boolean> = {};
  for (const svc of ["db", "app", "web"]) {
    out[svc] =
      (await docker("inspect", "-f", "{{.State.Running}}", s.container(svc))).stdout.trim() ===
        "true";
  }
  return out;
}

async function snapshotsOf(env: TestRepoEnv, unit: string) {
  const list = JSON.parse(
    await env.restic("snapshots", "--json", "--tag", `unit=${unit}`),
  ) as ResticSnapshot[];
  return list.map(parseSnapshot);
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts `stowage backup` of the stack and SIGKILLs it as soon as `cond` holds. */
async function killBackupWhen(
  s: FixtureStack,
  env: TestRepoEnv,
  what: string,
  cond: () => Promise<boolean>,
) {
  const child = spawnStowage(["backup", "--unit", s.project], { env: env.env });
  await waitFor(what, cond);
  child.kill("SIGKILL");
  await child.status;
  await child.stdout.cancel();
  await child.stderr.cancel();
}

async function withStack(
  name: string,
  fn: (s: FixtureStack, env: TestRepoEnv) => Promise<void>,
  extraYaml = "",
) {
  const s = await createFixtureStack({ name });
  const env = await testRepoEnv(extraYaml);
  try {
    await s.up();
    await fn(s, env);
  } finally {
    await s.down();
    await cleanupDocker();
    await env.cleanup();
    await Deno.remove(s.dir, { recursive: true }).catch(() => {});
  }
}

Deno.test("backup saves the fixture stack as tagged snapshots, in dependency order, and everything runs again", async () => {
  await withStack("main", async (s, env) => {
    await docker(
      "exec",
      s.container("app"),
      "sh",
      "-c",
      "echo hello > /data/greeting && mkdir -p /data/cache && echo junk > /data/cache/big.tmp",
    );
    await docker("stop", "-t", "1", s.container("web")); // a stopped container must stay stopped
    const since = new Date();
    const r = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    const until = new Date();
    assert.equal(r.code, 0, r.stderr);
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

    const snaps = await snapshotsOf(env, s.project);
    const types = snaps.map((x) => `${x.type}:${x.volume ?? x.path ?? ""}`).sort();
    assert.deepEqual(
      types,
      [
        `bind:${s.dir}/html`,
        "complete:",
        "network:",
        "recipe:",
        `volume:${s.volume("app_data")}`,
        `volume:${s.volume("db_data")}`,
      ].sort(),
    );
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
    const appSnap = snaps.find((x) => x.volume === s.volume("app_data"))!;
    const greeting = await env.restic("dump", appSnap.id, `${appSnap.paths[0]}/greeting`);
    assert.equal(greeting, "hello\n");
    const recipe = snaps.find((x) => x.type === "recipe")!;
    const recipeText = await env.restic("dump", recipe.id, "/recipe.json");
    const doc = JSON.parse(recipeText);
    assert.ok(
      doc.files.some((f: { path: string; content: string }) =>
        f.path === s.composeFile && f.content.includes("services:")
      ),
    );
    const networks = snaps.find((x) => x.type === "network")!;
    const netText = await env.restic("dump", networks.id, "/networks.json");
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
    const again = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    assert.equal(again.code, 0, again.stderr);
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
    assert.deepEqual(listed.restorePoints[0].types, [
      "bind",
      "complete",
      "network",
      "recipe",
      "volume",
    ]);
    assert.equal(listed.restorePoints[0].status, "complete");
    assert.ok(listed.restorePoints[0].sizeBytes > 0);
    const status = await stowage(["admin", "repo", "status", "--json"], { env: env.env });
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout).units, [s.project]);
    // 6 per run (5 items and the completion marker), plus the test image (made by `docker import`,
    // no repo digest) saved once and shared by both runs.
    assert.equal(JSON.parse(status.stdout).stowageSnapshots, 13);
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
  });
});

Deno.test("exclude patterns from config are honoured and shown by dry-run", async () => {
  await withStack("excl", async (s, env) => {
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
    const snap = (await snapshotsOf(env, s.project)).find((x) =>
      x.volume === s.volume("app_data")
    )!;
    const files = await env.restic("ls", snap.id);
    assert.ok(files.includes("/keep.txt"));
    assert.ok(!files.includes("/drop.tmp"));
    // minimal scope: volumes only, and the completion marker
    assert.deepEqual(
      [...new Set((await snapshotsOf(env, s.project)).map((x) => x.type))].sort(),
      ["complete", "volume"],
    );
  });
});

Deno.test("a second backup waits for or refuses the host lock", async () => {
  await withStack("lock", async (s, env) => {
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
});

Deno.test("SIGKILL at several points: doctor or the next run starts what was left stopped", async () => {
  await withStack("kill", async (s, env) => {
    // Enough data that the volume save takes a moment.
    await docker(
      "exec",
      s.container("db"),
      "sh",
      "-c",
      "dd if=/dev/urandom of=/data/blob bs=1M count=200 2>/dev/null",
    );
    // 1. Right after the first stop (app), before db stops: doctor finds the journal.
    await killBackupWhen(s, env, "app to be stopped", async () => !(await running(s)).app);
    assert.equal(
      (await running(s)).app,
      false,
      "the kill left app stopped (the situation under test)",
    );
    const doc = await stowage(["doctor", "--json"], { env: env.env });
    const journalCheck = JSON.parse(doc.stdout).checks.find((c: { name: string }) =>
      c.name === "restart journal"
    );
    assert.match(journalCheck.detail, /started .*_app_1/);
    assert.deepEqual(await running(s), { db: true, app: true, web: true });

    // 2. While the volumes are being saved (db stopped): the next backup recovers, then backs up.
    await killBackupWhen(s, env, "db to be stopped", async () => !(await running(s)).db);
    assert.equal(
      (await running(s)).db,
      false,
      "the kill left db stopped (the situation under test)",
    );
    const journal = JSON.parse(await Deno.readTextFile(`${env.stateDir}/restart-journal.json`));
    assert.deepEqual(journal.entries[0].containers, [
      s.container("db"),
      s.container("app"),
      s.container("web"),
    ]);
    const r = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /recovered: started .*_db_1/);
    assert.deepEqual(await running(s), { db: true, app: true, web: true });
    await assert.rejects(Deno.stat(`${env.stateDir}/restart-journal.json`));
    // Nothing lost: the new run's snapshot of db_data is complete.
    const report = JSON.parse(r.stdout) as RunReport;
    const snap = (await snapshotsOf(env, s.project)).find((x) =>
      x.volume === s.volume("db_data") && x.backupId === report.backupId
    )!;
    const ls = await env.restic("ls", "--long", snap.id);
    assert.match(ls, /209715200 .*\/blob/);
  });
});

Deno.test("admin system recover-journal (the units' ExecStopPost) starts what a killed backup left stopped", async () => {
  await withStack("recover", async (s, env) => {
    await docker(
      "exec",
      s.container("db"),
      "sh",
      "-c",
      "dd if=/dev/urandom of=/data/blob bs=1M count=150 2>/dev/null",
    );
    await killBackupWhen(s, env, "db to be stopped", async () => !(await running(s)).db);
    assert.equal(
      (await running(s)).db,
      false,
      "the kill left db stopped (the situation under test)",
    );
    const r = await stowage(["admin", "system", "recover-journal", "--json"], { env: env.env });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.busy, false);
    assert.deepEqual(doc.units, [s.project]);
    assert.ok(doc.started.includes(s.container("db")));
    assert.deepEqual(await running(s), { db: true, app: true, web: true });
    const again = await stowage(["admin", "system", "recover-journal"], { env: env.env });
    assert.match(again.stdout, /Nothing to recover/);
  });
});

Deno.test("SIGTERM mid-save: no snapshot of the half-read volume, containers started, exit 130", async () => {
  await withStack("term", async (s, env) => {
    await docker(
      "exec",
      s.container("db"),
      "sh",
      "-c",
      "dd if=/dev/urandom of=/data/blob bs=1M count=400 2>/dev/null",
    );
    const child = spawnStowage(["backup", "--unit", s.project, "--scope", "minimal"], {
      env: env.env,
    });
    const decoder = new TextDecoder();
    let err = "";
    const reader = child.stderr.getReader();
    const reading = (async () => {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        err += decoder.decode(value);
      }
    })();
    await waitFor(
      "the db volume save to start",
      () => Promise.resolve(err.includes(`saving volume ${s.volume("db_data")}`)),
    );
    child.kill("SIGTERM");
    const status = await child.status;
    await reading;
    await child.stdout.cancel();
    assert.equal(status.code, 130, err);
    assert.deepEqual(await running(s), { db: true, app: true, web: true });
    const vols = (await snapshotsOf(env, s.project).catch(() => [])).filter((x) =>
      x.volume === s.volume("db_data")
    );
    assert.deepEqual(vols, [], "an interrupted volume save must not leave a snapshot");
  });
});

/** True while a `restic backup` whose arguments contain `marker` runs on this machine. */
async function resticRunning(marker: string): Promise<boolean> {
  // /proc itself needs --allow-all under Deno; ps reads it for us.
  const out = await new Deno.Command("ps", { args: ["-eo", "args"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").some((l) =>
    /(^|[ /])restic /.test(l) && l.includes(" backup ") && l.includes(marker)
  );
}

Deno.test("SIGKILL during the warm pass and during the cold pass: nothing left down, no point --latest would pick; the next run compares with the warm pass", async () => {
  await withStack("warmkill", async (s, env) => {
    await docker(
      "exec",
      s.container("db"),
      "sh",
      "-c",
      "dd if=/dev/urandom of=/data/blob bs=1M count=200 2>/dev/null; mkdir -p /data/many; for i in $(seq 1 300); do echo $i > /data/many/f$i; done",
    );
    const usable = async () =>
      restorePoints(await snapshotsOf(env, s.project), s.project).filter(isUsable);

    // 1. During the warm pass: nothing stopped yet, and the warm snapshot is no restore point.
    await killBackupWhen(
      s,
      env,
      "the warm pass",
      () => resticRunning(`warm_unit=${s.project}`),
    );
    assert.deepEqual(await running(s), { db: true, app: true, web: true });
    assert.deepEqual(await usable(), []);

    // 2. During the cold pass: db stops last, so once it is down its volume is being read.
    await killBackupWhen(s, env, "the cold pass (db stopped)", async () => !(await running(s)).db);
    assert.equal(
      (await running(s)).db,
      false,
      "the kill left db stopped (the situation under test)",
    );
    const rec = await stowage(["admin", "system", "recover-journal"], { env: env.env });
    assert.equal(rec.code, 0, rec.stderr);
    assert.deepEqual(await running(s), { db: true, app: true, web: true });
    assert.deepEqual(await usable(), [], "a killed cold pass leaves no usable point");

    // 3. A whole run: the cold pass is compared with this run's warm pass, and no warm snapshot
    // outlives the run (also not the ones the killed runs left).
    const r = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as RunReport;
    const db = report.units[0].snapshots.find((x) => x.item === s.volume("db_data"))!;
    assert.match(db.snapshotId, /^[0-9a-f]{64}$/);
    assert.match(db.parent ?? "", /^[0-9a-f]{8}$/);
    assert.ok(db.files!.unmodified >= 300, JSON.stringify(db.files));
    const points = await usable();
    assert.equal(points.length, 1);
    assert.equal(points[0].backupId, report.backupId);
    assert.equal(
      points[0].volumes.find((v) => v.name === s.volume("db_data"))?.snapshot.id,
      db.snapshotId,
    );
    // Orphaned restic processes of the killed runs may still be finishing; wait, then sweep again.
    await waitFor("the killed runs' restic to exit", async () => !(await resticRunning(s.project)));
    const again = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      JSON.parse(await env.restic("snapshots", "--json", "--tag", "stowage-warm")),
      [],
    );
  });
});

Deno.test("without the warm pass the parent is the last complete point's snapshot, named in the summary", async () => {
  await withStack("parent", async (s, env) => {
    const first = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    assert.equal(first.code, 0, first.stderr);
    const a = (JSON.parse(first.stdout) as RunReport).units[0].snapshots.find((x) =>
      x.item === s.volume("db_data")
    )!;
    assert.equal(a.parent, undefined, "the first backup has nothing to compare with");
    const second = await stowage(["backup", "--unit", s.project], { env: env.env });
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stdout,
      new RegExp(
        `volume ${s.volume("db_data")}: compared with ${a.snapshotId.slice(0, 8)}, \\d+ unchanged`,
      ),
    );
    assert.deepEqual(
      JSON.parse(await env.restic("snapshots", "--json", "--tag", "stowage-warm")),
      [],
    );
  }, "  warm_pass: false\n");
});
