/**
 * Backups interrupted around the warm pass: SIGKILL during the warm pass and during the cold pass
 * leave no container down and no restore point `--latest` would pick, and the parent of a cold
 * pass is chosen, not guessed. (backup_kill_test.ts: kills while containers are stopped.)
 */
import assert from "node:assert/strict";

import { docker } from "./support/docker.ts";
import { stowage } from "./support/cli.ts";

import type { RunReport } from "../core/report.ts";

import { isUsable, restorePoints } from "../core/restore/points.ts";
import {
  isRunning,
  killBackupWhen,
  running,
  snapshotsOf,
  waitFor,
  withStack,
} from "./support/backup.ts";

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

    // 2. During the cold pass: db stops last, so once it is down its volume is being read. A
    // writer rewrites 100 MB in db until db stops, so the cold pass cannot skip it as unchanged
    // since the warm pass: it reads it again, and the kill lands while db is down.
    await docker(
      "exec",
      "-d",
      s.container("db"),
      "sh",
      "-c",
      "while :; do dd if=/dev/urandom of=/data/churn bs=1M count=100 2>/dev/null; done",
    );
    // One `docker inspect` per poll: the kill must land inside db's downtime.
    await killBackupWhen(
      s,
      env,
      "the cold pass (db stopped)",
      async () => !(await isRunning(s, "db")),
    );
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
