/**
 * Only complete backups are restore points, and retention and listing work on whole points:
 * against the real dockerd, docker-compose and restic. A volume whose save fails inside
 * `stowage backup` (restic exit 3 on a file root cannot read; a fatal restic error) leaves an
 * incomplete point that `--latest` skips; complete, killed and failed runs followed by retention
 * leave only whole points; two hosts in one repository keep their own; listing is one restic call.
 */
import assert from "node:assert/strict";
import { createFixtureStack, type FixtureStack } from "./support/fixture.ts";
import { cleanupDocker, docker, sh } from "./support/docker.ts";
import { spawnStowage, stowage } from "./support/cli.ts";
import { type TestRepoEnv, testRepoEnv } from "./support/repo.ts";
import { parseSnapshot } from "../core/tags.ts";
import type { ResticSnapshot } from "../core/ports.ts";
import type { SnapshotInfo } from "../core/model.ts";
import { ManualClock } from "../adapters/clock.ts";
import { EngineClient } from "../adapters/docker/engine.ts";
import { Restic } from "../adapters/restic/restic.ts";
import { FileRestartJournal } from "../adapters/journal.ts";
import { LocalHostFiles } from "../adapters/host_files.ts";
import { DenoProcessRunner } from "../adapters/process.ts";
import { runBackup } from "../core/backup/run.ts";
import { configSchema } from "../core/config/schema.ts";
import { MemorySink } from "../core/events.ts";
import { restorePoints } from "../core/restore/points.ts";
import { createTestRepository } from "./support/restic_repo.ts";
import { countedRestic, folderIn } from "./support/backup.ts";

/**
 * One fixture stack for the whole file (a stack costs docker-compose, three containers and a
 * network to set up and take down): every step backs it up into its own repository and leaves
 * its containers running.
 */
let shared: FixtureStack | undefined;

async function withRepo(fn: (s: FixtureStack, env: TestRepoEnv) => Promise<void>) {
  const env = await testRepoEnv();
  try {
    await fn(shared!, env);
  } finally {
    await env.cleanup();
  }
}

async function snapshotsOf(env: TestRepoEnv, unit: string): Promise<SnapshotInfo[]> {
  const list = JSON.parse(
    await env.restic("snapshots", "--json", "--tag", `unit=${unit}`),
  ) as ResticSnapshot[];
  return list.map(parseSnapshot);
}

async function mountpoint(vol: string): Promise<string> {
  return (await docker("volume", "inspect", "-f", "{{.Mountpoint}}", vol)).stdout.trim();
}

/** Writes the config with extra YAML (units: ...) after the repository and backup sections. */
async function writeConfig(env: TestRepoEnv, extra = "") {
  await Deno.writeTextFile(
    env.configPath,
    `repository:\n  location: ${env.repo}\n  password_file: ${env.passwordFile}\nbackup:\n  stop_timeout: 5\n${extra}`,
    { mode: 0o600 },
  );
}

interface ListedPoint {
  backupId: string;
  status: string;
  problems: string[];
  sizeBytes: number | null;
  volumes: string[];
}

async function listed(env: TestRepoEnv, unit: string): Promise<ListedPoint[]> {
  const r = await stowage(["restore", "--unit", unit, "--list", "--json"], { env: env.env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).restorePoints;
}

Deno.test("restore points, on one fixture stack", async (t) => {
  shared = await createFixtureStack({ name: "points" });
  try {
    await shared.up();
    await t.step(
      "a volume save that fails inside backup (restic exit 3, a restic error) leaves an incomplete point; restore --latest picks the previous complete one",
      partialPoints,
    );
    await t.step(
      "complete, SIGKILLed and failed runs followed by retention leave only whole points",
      wholePoints,
    );
    await t.step(
      "two hosts backing up one unit name into one repository keep their own points",
      twoHosts,
    );
    await t.step(
      "admin snapshot list and restore --list read the repository with one restic call",
      listingCalls,
    );
  } finally {
    await shared.down();
    await cleanupDocker();
    await Deno.remove(shared.dir, { recursive: true }).catch(() => {});
  }
});

function partialPoints() {
  return withRepo(async (s, env) => {
    const db = s.volume("db_data");
    const dbDir = await mountpoint(db);
    await Deno.writeTextFile(`${dbDir}/generation`, "1\n");
    const first = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    assert.equal(first.code, 0, first.stderr);
    const goodId = JSON.parse(first.stdout).backupId as string;

    // restic exit 3: a write-only sysfs attribute bind-mounted into the volume's folder cannot
    // be opened for reading even by root (EACCES), so restic saves the rest and exits 3.
    await Deno.writeTextFile(`${dbDir}/generation`, "2\n");
    await Deno.writeTextFile(`${dbDir}/unreadable`, "");
    await sh("mount", ["--bind", "/sys/bus/pci/rescan", `${dbDir}/unreadable`]);
    let second;
    try {
      second = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    } finally {
      await sh("umount", [`${dbDir}/unreadable`]);
      await Deno.remove(`${dbDir}/unreadable`);
    }
    assert.equal(second.code, 12, second.stderr);
    assert.match(JSON.stringify(JSON.parse(second.stdout).units[0].error), /could not be read/);
    const partialId = JSON.parse(second.stdout).backupId as string;
    const partialSnaps = (await snapshotsOf(env, s.project)).filter((x) =>
      x.backupId === partialId
    );
    assert.ok(
      folderIn(partialSnaps, db) !== undefined,
      "restic kept the partial volume snapshot (the situation under test)",
    );
    assert.ok(!partialSnaps.some((x) => x.type === "complete"), "no completion marker");

    // A fatal restic error on one volume: an exclude pattern restic rejects.
    await Deno.writeTextFile(`${dbDir}/generation`, "3\n");
    await writeConfig(
      env,
      `units:\n  ${s.project}:\n    volumes:\n      ${db}:\n        exclude: ["["]\n`,
    );
    const third = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    assert.equal(third.code, 12, third.stderr);
    const failedId = JSON.parse(third.stdout).backupId as string;
    await writeConfig(env);

    const points = await listed(env, s.project);
    assert.deepEqual(points.map((p) => [p.backupId, p.status]), [
      [failedId, "incomplete"],
      [partialId, "incomplete"],
      [goodId, "complete"],
    ]);
    assert.ok((points[2].sizeBytes ?? 0) > 0, "a complete point shows its size");
    const doctor = await stowage(["doctor", "--json"], { env: env.env });
    const check = JSON.parse(doctor.stdout).checks.find((c: { name: string }) =>
      c.name === "restore points"
    );
    assert.equal(check?.status, "warn", doctor.stdout);
    assert.match(check.detail, new RegExp(`${partialId}.*no newer complete point`));
    const text = await stowage(["restore", "--unit", s.project, "--list"], { env: env.env });
    assert.match(text.stdout, /INCOMPLETE/);
    assert.match(text.stdout, new RegExp(`\\(${goodId}\\)\\s+complete`));

    const out = await Deno.makeTempDir({ prefix: "stowage-points-" });
    try {
      const r = await stowage(
        ["restore", "--unit", s.project, "--latest", "--to-dir", out, "--yes", "--json"],
        { env: env.env },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await Deno.readTextFile(`${out}/volumes/${db}/generation`), "1\n");

      // Naming the incomplete point needs --allow-incomplete; with it, what it holds comes back.
      const refused = await stowage(
        ["restore", "--unit", s.project, "--backup-id", partialId, "--to-dir", out, "--yes"],
        { env: env.env },
      );
      assert.equal(refused.code, 6, refused.stderr);
      assert.match(refused.stderr, /incomplete/);
      assert.match(refused.stderr, /--allow-incomplete/);
      const out2 = `${out}/partial`;
      const allowed = await stowage([
        "restore",
        "--unit",
        s.project,
        "--backup-id",
        partialId,
        "--allow-incomplete",
        "--to-dir",
        out2,
        "--yes",
      ], { env: env.env });
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.match(allowed.stderr, /warning: restoring incomplete restore point/);
      // One restic restore stages every folder of the point's data snapshot (issue 11, item 7).
      assert.match(
        allowed.stderr,
        /restoring volume \S+, volume \S+, bind \S+ from snapshot [0-9a-f]{8} into a staging folder/,
      );
      assert.equal(await Deno.readTextFile(`${out2}/volumes/${db}/generation`), "2\n");
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
}

function wholePoints() {
  return withRepo(async (s, env) => {
    const retention = "retention:\n  latest: 2\n";
    await writeConfig(env, retention);
    const backup = async () => {
      const r = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
      return { code: r.code, stderr: r.stderr, id: JSON.parse(r.stdout).backupId as string };
    };
    const first = await backup();
    assert.equal(first.code, 0, first.stderr);

    // Killed while its containers are stopped: the recipe (with the networks) is saved, data is not.
    const child = spawnStowage(["backup", "--unit", s.project], { env: env.env });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const state = await docker("inspect", "-f", "{{.State.Running}}", s.container("db"));
      if (state.stdout.trim() === "false") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel();
    await child.stderr.cancel();
    const killedIds = new Set(
      (await snapshotsOf(env, s.project)).map((x) => x.backupId).filter((id) => id !== first.id),
    );
    assert.equal(killedIds.size, 1, "the killed run left snapshots (the situation under test)");

    // Failed: a fatal restic error on one volume.
    await writeConfig(
      env,
      `${retention}units:\n  ${s.project}:\n    volumes:\n      ${
        s.volume("app_data")
      }:\n        exclude: ["["]\n`,
    );
    const failed = await backup();
    assert.equal(failed.code, 12, failed.stderr);
    await writeConfig(env, retention);

    const before = await listed(env, s.project);
    assert.equal(before.filter((p) => p.status === "incomplete").length, 2);

    const last = await backup();
    assert.equal(last.code, 0, last.stderr);
    const snaps = await snapshotsOf(env, s.project);
    const kept = Object.groupBy(snaps, (x) => x.backupId ?? "");
    assert.deepEqual(Object.keys(kept).sort(), [first.id, last.id].sort());
    const html = `${s.dir}/html`;
    for (const [id, group] of Object.entries(kept)) {
      // A type=data snapshot stands for each volume and bind folder it holds.
      const items = group!.flatMap((x) =>
        x.type === "data"
          ? x.items!.map((d) => `${d.kind}:${d.name}`)
          : [`${x.type}:${x.volume ?? x.path ?? ""}`]
      ).sort();
      assert.deepEqual(
        items,
        [
          `bind:${html}`,
          "complete:",
          "recipe:",
          `volume:${s.volume("app_data")}`,
          `volume:${s.volume("db_data")}`,
        ].sort(),
        `point ${id} is whole`,
      );
    }
  });
}

async function twoHosts() {
  const s = shared!;
  const dir = await Deno.makeTempDir({ prefix: "stowage-hosts-" });
  using engine = EngineClient.fromConfig(undefined);
  try {
    await Deno.writeTextFile(`${dir}/pw`, "hosts-test", { mode: 0o600 });
    await createTestRepository(`${dir}/repo`, "hosts-test");
    const repo = new Restic({ location: `${dir}/repo`, passwordFile: `${dir}/pw` });
    const config = configSchema.parse({
      backup: { stop_timeout: 5, scope: "minimal" },
      retention: { latest: 1 },
    });
    const clock = new ManualClock("2025-03-01T02:00:00Z");
    const run = async (host: string) => {
      const report = await runBackup({
        engine,
        repo,
        clock,
        sink: new MemorySink(),
        files: new LocalHostFiles(new DenoProcessRunner()),
        journal: new FileRestartJournal(`${dir}/journal-${host}.json`),
        host,
        pid: Deno.pid,
      }, { config, units: [s.project], signal: new AbortController().signal });
      assert.equal(report.ok, true, JSON.stringify(report.units[0].error));
      clock.advance(3600_000);
    };
    await run("host-b");
    for (let i = 0; i < 3; i++) await run("host-a");
    const snaps = (await repo.snapshots({ tags: [`unit=${s.project}`] })).map(parseSnapshot);
    const points = restorePoints(snaps, s.project);
    assert.deepEqual(points.map((p) => [p.host, p.backupId, p.status]), [
      ["host-a", "2025-03-01T05-00-00Z", "complete"],
      ["host-b", "2025-03-01T02-00-00Z", "complete"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function listingCalls() {
  return withRepo(async (s, env) => {
    for (let i = 0; i < 3; i++) {
      const r = await stowage(["backup", "--unit", s.project, "--scope", "minimal"], {
        env: env.env,
      });
      assert.equal(r.code, 0, r.stderr);
    }
    // A `restic` first on PATH logs every invocation, then runs the real restic.
    const counted = await countedRestic(env);
    const cases: [string[], RegExp][] = [
      [["admin", "snapshot", "list", "--unit", s.project], /complete/],
      [["restore", "--unit", s.project, "--list"], /\)\s+complete/],
      [["restore", "--list", "--json"], new RegExp(`"unit": "${s.project}"`)],
    ];
    for (const [args, expected] of cases) {
      await counted.reset();
      const r = await stowage(args, { env: counted.env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, expected);
      const calls = await counted.calls();
      assert.equal(calls.length, 1, `${args.join(" ")}: ${calls.join(" | ")}`);
      assert.match(calls[0], /(^| )snapshots --json/);
    }
  });
}
