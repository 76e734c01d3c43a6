/**
 * Backups interrupted while containers are stopped: SIGKILL and SIGTERM at several points leave no
 * container down and no restore point `--latest` would pick; the journal brings them back.
 * (backup_warm_kill_test.ts: kills around the warm pass.)
 */
import assert from "node:assert/strict";

import { docker } from "./support/docker.ts";
import { spawnStowage, stowage } from "./support/cli.ts";

import type { RunReport } from "../core/report.ts";

import {
  folderIn,
  isRunning,
  killBackupWhen,
  running,
  snapshotsOf,
  waitFor,
  withStack,
} from "./support/backup.ts";

/**
 * These tests kill a backup while a container is stopped: without the warm pass the cold pass
 * reads the whole volume while db is down, a window wide enough to observe and kill in even on a
 * loaded machine (with it, db is down only while the changed bytes are read). The warm pass's
 * own kills are the warm/cold test below.
 */
const COLD_ONLY = "  warm_pass: false\n"; // under testRepoEnv's `backup:`

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
    await killBackupWhen(s, env, "app to be stopped", async () => !(await isRunning(s, "app")));
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
    await killBackupWhen(s, env, "db to be stopped", async () => !(await isRunning(s, "db")));
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
    const db = folderIn(await snapshotsOf(env, s.project), s.volume("db_data"), report.backupId)!;
    const ls = await env.restic("ls", "--long", db.snap.id, db.path);
    assert.match(ls, /209715200 .*\/blob/);
  }, COLD_ONLY);
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
    await killBackupWhen(s, env, "db to be stopped", async () => !(await isRunning(s, "db")));
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
  }, COLD_ONLY);
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
      // One pass saves the unit's folders: `saving data <its volumes>`.
      () => Promise.resolve(new RegExp(`saving data .*${s.volume("db_data")}`).test(err)),
    );
    child.kill("SIGTERM");
    const status = await child.status;
    await reading;
    await child.stdout.cancel();
    assert.equal(status.code, 130, err);
    assert.deepEqual(await running(s), { db: true, app: true, web: true });
    const vols = folderIn(await snapshotsOf(env, s.project).catch(() => []), s.volume("db_data"));
    assert.equal(vols, undefined, "an interrupted volume save must not leave a snapshot");
  });
});

/** True while a `restic backup` whose arguments contain `marker` runs on this machine. */
