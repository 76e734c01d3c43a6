/**
 * Stop, snapshot, start, back up from the snapshot (issue 18), against a real btrfs filesystem on
 * a loop device, the real engine, docker-compose and restic. One stack: a bind-type volume whose
 * device is a btrfs subvolume, a bind mount on the same filesystem (a folder of the top level),
 * and a bind mount on the root filesystem, which cannot be snapshotted and is read while stopped.
 */
import assert from "node:assert/strict";
import {
  cleanupDocker,
  docker,
  ensureTestImage,
  removeComposeProject,
  sh,
  TEST_LABEL,
  testName,
} from "./support/docker.ts";
import { spawnStowage, stowage } from "./support/cli.ts";
import { testRepoEnv } from "./support/repo.ts";
import { buildFidelityTree, describeTree, diffTrees } from "./support/tree.ts";
import type { RunReport, UnitReport } from "../core/report.ts";
import type { DryRunDocument } from "../core/backup/dry_run.ts";
import { renderReport } from "../cli/commands/backup.ts";

const SNAPDIR = ".stowage-snapshots";

/** Waits for `cond`, checking every 50 ms, up to `ms`. */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const exists = (p: string) => Deno.lstat(p).then(() => true, () => false);

Deno.test("btrfs: stop, snapshot, start, then back up from the snapshot; nothing left behind after success, failure, SIGTERM or SIGKILL", async (t) => {
  const image = await ensureTestImage();
  const base = await Deno.makeTempDir({ prefix: "stowage-fssnap-" });
  const pool = `${base}/pool`;
  const vol = `${pool}/vol`; // a subvolume: the bind-type volume's device
  const plain = `${pool}/plain/data`; // a folder of the top-level subvolume: a bind mount
  const cold = `${base}/cold`; // on the root filesystem: no snapshot, read while stopped
  let loop = "";
  let mounted = false;
  const project = testName("fssnap");
  const env = await testRepoEnv("  start_timeout: 2\n");
  const compose = (...args: string[]) =>
    sh("docker-compose", ["-p", project, "-f", `${base}/docker-compose.yml`, ...args], {
      cwd: base,
    });
  const container = `${project}_app_1`;
  const volume = `${project}_data`;
  const fsJournal = `${env.stateDir}/fs-snapshots.json`;
  const leftovers = async () => {
    const dir = `${pool}/${SNAPDIR}`;
    if (!(await exists(dir))) return [];
    return [...Deno.readDirSync(dir)].map((e) => e.name);
  };
  const backup = async (extra: string[] = []) => {
    const r = await stowage(["backup", "--unit", project, "--json", ...extra], { env: env.env });
    const report = JSON.parse(r.stdout) as RunReport;
    const unit = report.units[0] as UnitReport;
    return { r, report, unit };
  };
  try {
    await Deno.mkdir(pool);
    await Deno.mkdir(cold);
    await sh("truncate", ["-s", "400M", `${base}/img`]);
    await sh("mkfs.btrfs", ["-q", `${base}/img`]);
    loop = (await sh("losetup", ["-f", "--show", `${base}/img`])).stdout.trim();
    await sh("mount", [loop, pool]);
    mounted = true;
    await sh("btrfs", ["subvolume", "create", vol]);
    await Deno.mkdir(plain, { recursive: true });
    await buildFidelityTree(vol, { bigMiB: 8, smallFiles: 200 });
    await sh("sh", [
      "-c",
      'echo plain > "$1/p.txt"; touch "$1/ready"; echo c > "$2/c.txt"',
      "sh",
      plain,
      cold,
    ]);
    const [label, value] = TEST_LABEL.split("=");
    await Deno.writeTextFile(
      `${base}/docker-compose.yml`,
      `version: "2.4"
services:
  app:
    image: ${image}
    init: true
    command: ["sleep", "1000000"]
    labels:
      ${label}: "${value}"
    healthcheck:
      test: ["CMD", "test", "-f", "/b/ready"]
      interval: 1s
      timeout: 1s
      retries: 1000
    volumes:
      - data:/v
      - ${plain}:/b
      - ${cold}:/c
volumes:
  data:
    labels:
      ${label}: "${value}"
    driver_opts:
      type: none
      o: bind
      device: ${vol}
`,
    );
    await compose("up", "-d");
    const before = { vol: await describeTree(vol), plain: await describeTree(plain) };

    await t.step(
      "dry-run and doctor say per folder which snapshot applies or why none",
      async () => {
        const dry = await stowage(["dry-run", "--unit", project, "--json"], { env: env.env });
        assert.equal(dry.code, 0, dry.stderr);
        const items = (JSON.parse(dry.stdout) as DryRunDocument).units[0].items;
        const method = (item: string) => items.find((i) => i.item === item)?.fsSnapshot;
        assert.equal(method(volume)?.method, "btrfs", JSON.stringify(items));
        assert.equal(method(plain)?.method, "btrfs");
        assert.equal(method(cold)?.method, "none");
        assert.match(method(cold)!.detail, /is on ext4 .* neither btrfs nor an LVM logical volume/);
        // The snapshotted folders' size is no part of the estimated downtime.
        const cfg = await Deno.readTextFile(env.configPath);
        await Deno.writeTextFile(env.configPath, cfg + "  fs_snapshots: off\n");
        const off = await stowage(["dry-run", "--unit", project, "--json"], { env: env.env });
        await Deno.writeTextFile(env.configPath, cfg);
        const estimate = (out: string) =>
          (JSON.parse(out) as DryRunDocument).units[0].estimatedDowntimeMs;
        assert.ok(estimate(dry.stdout) < estimate(off.stdout), `${estimate(dry.stdout)}`);
        const text = await stowage(["dry-run", "--unit", project], { env: env.env });
        assert.match(text.stdout, /btrfs snapshot while stopped, read after the start/);
        const doc = await stowage(["doctor", "--json"], { env: env.env });
        const check = (JSON.parse(doc.stdout) as { checks: { name: string; detail: string }[] })
          .checks.find((c) => c.name === "filesystem snapshots");
        assert.match(check?.detail ?? "", new RegExp(`${project}/${volume}: btrfs snapshot`));
        assert.match(check?.detail ?? "", new RegExp(`${project}/${cold}: no filesystem snapshot`));
      },
    );

    let first: UnitReport;
    await t.step(
      "a backup reads the btrfs folders from snapshots under their own paths and deletes the snapshots",
      async () => {
        const { r, report, unit } = await backup();
        assert.equal(r.code, 0, r.stderr + r.stdout);
        assert.equal(unit.outcome, "ok", unit.error);
        first = unit;
        const reads = Object.fromEntries((unit.reads ?? []).map((x) => [x.item, x.read]));
        assert.deepEqual(reads, { [volume]: "btrfs", [plain]: "btrfs", [cold]: "cold" });
        assert.ok(unit.downtimeMs !== undefined && unit.downtimeMs < 15_000, `${unit.downtimeMs}`);
        assert.deepEqual(await leftovers(), []);
        assert.equal(await exists(fsJournal), false, "the snapshot journal is cleared");
        // Paths as a cold read of the live folder stores them.
        const snap = unit.snapshots.find((s) => s.item === volume)!;
        const listing = await env.restic("ls", snap.snapshotId);
        assert.match(listing, new RegExp(`^${vol}/links/a$`, "m"));
        assert.doesNotMatch(listing, new RegExp(SNAPDIR));
        const p = unit.snapshots.find((s) => s.item === plain)!;
        assert.equal(await env.restic("dump", p.snapshotId, `${plain}/p.txt`), "plain\n");
        assert.equal(
          (await docker("inspect", "-f", "{{.State.Running}}", container)).stdout.trim(),
          "true",
        );
        // No mount of the snapshot is left on the host.
        const mounts = (await sh("findmnt", ["-rn", "-o", "TARGET"])).stdout;
        assert.doesNotMatch(mounts, new RegExp(SNAPDIR));
        const text = renderReport(report);
        assert.match(text, new RegExp(`${volume}: read from a btrfs snapshot after the start`));
        assert.match(text, new RegExp(`${cold}: read while stopped \\(no snapshot: `));
      },
    );

    await t.step(
      "an unchanged second backup from a snapshot reads no file again and adds almost nothing",
      async () => {
        const { unit } = await backup();
        assert.equal(unit.outcome, "ok", unit.error);
        const s = unit.snapshots.find((x) => x.item === volume)!;
        assert.equal(s.files?.new, 0, JSON.stringify(s));
        assert.equal(s.files?.changed, 0, JSON.stringify(s));
        // No file content is stored again. restic 0.14 stores each file's device number, which
        // differs between snapshots: folder metadata may be stored again (restic#3041), no more.
        assert.ok(s.dataAdded < 512 * 1024, `added ${s.dataAdded} bytes`);
        assert.ok(first.snapshots.find((x) => x.item === volume)!.bytesProcessed > 8 << 20);
      },
    );

    await t.step(
      "the data restores identical: owners, modes, xattrs, ACLs, hard links",
      async () => {
        await sh("sh", ["-c", 'rm -rf "$1"/* "$2"/p.txt', "sh", vol, plain]);
        const r = await stowage(
          [
            "restore",
            "--unit",
            project,
            "--latest",
            "--only",
            "volumes",
            "--stop",
            "--yes",
            "--json",
          ],
          { env: env.env },
        );
        assert.equal(r.code, 0, r.stderr + r.stdout);
        assert.deepEqual(diffTrees(before.vol, await describeTree(vol)), []);
        assert.deepEqual(diffTrees(before.plain, await describeTree(plain)), []);
      },
    );

    await t.step(
      "require: a folder that cannot be snapshotted fails the unit before any stop",
      async () => {
        const cfg = await Deno.readTextFile(env.configPath);
        await Deno.writeTextFile(env.configPath, cfg + "  fs_snapshots: require\n");
        try {
          const startedAt =
            (await docker("inspect", "-f", "{{.State.StartedAt}}", container)).stdout;
          const { r, unit } = await backup();
          assert.notEqual(r.code, 0);
          assert.equal(unit.outcome, "failed");
          assert.match(unit.error ?? "", new RegExp(`bind ${cold}: .*ext4`));
          assert.deepEqual(unit.containersStopped, []);
          assert.equal(
            (await docker("inspect", "-f", "{{.State.StartedAt}}", container)).stdout,
            startedAt,
            "never stopped",
          );
          assert.deepEqual(await leftovers(), []);
        } finally {
          await Deno.writeTextFile(env.configPath, cfg);
        }
      },
    );

    await t.step(
      "a snapshot that cannot be created: auto reads the folders while stopped, the unit is ok",
      async () => {
        // A file where the snapshot folder must go makes `btrfs subvolume snapshot` impossible.
        await Deno.writeTextFile(`${pool}/${SNAPDIR}`, "in the way");
        try {
          const { unit } = await backup();
          assert.equal(unit.outcome, "ok", unit.error);
          assert.match(
            unit.warnings.join("\n"),
            /could not be created.*read while the unit is stopped/,
          );
          assert.doesNotMatch(unit.warnings.join("\n"), /could not delete/);
          const reads = Object.fromEntries((unit.reads ?? []).map((x) => [x.item, x.read]));
          assert.deepEqual(reads, { [volume]: "cold", [plain]: "cold", [cold]: "cold" });
          assert.equal(await exists(fsJournal), false);
          assert.equal(
            (await docker("inspect", "-f", "{{.State.Running}}", container)).stdout.trim(),
            "true",
          );
        } finally {
          await Deno.remove(`${pool}/${SNAPDIR}`);
        }
      },
    );

    // The snapshots exist from their creation (unit stopped) until after the start and the wait
    // for health, which never comes without the ready file (start_timeout: 2 s): a signal sent
    // once they appear hits a run that holds them, before or after the start.
    const whileSnapshotted = async (signal: Deno.Signal) => {
      await Deno.remove(`${plain}/ready`);
      const child = spawnStowage(["backup", "--unit", project, "--json"], { env: env.env });
      const output = child.output();
      await until("the snapshots", async () => (await leftovers()).length > 0);
      child.kill(signal);
      const out = await output;
      await Deno.writeTextFile(`${plain}/ready`, "");
      return out;
    };

    await t.step(
      "SIGTERM while the snapshots exist: exit 130, snapshots deleted, containers running",
      async () => {
        const out = await whileSnapshotted("SIGTERM");
        assert.equal(out.code, 130, new TextDecoder().decode(out.stderr));
        assert.deepEqual(await leftovers(), []);
        assert.equal(await exists(fsJournal), false);
        assert.equal(
          (await docker("inspect", "-f", "{{.State.Running}}", container)).stdout.trim(),
          "true",
        );
      },
    );

    await t.step(
      "SIGKILL while the snapshots exist: the next stowage command (doctor) deletes them",
      async () => {
        const out = await whileSnapshotted("SIGKILL");
        assert.equal(out.signal, "SIGKILL");
        assert.notDeepEqual(await leftovers(), [], "the killed run left its snapshots");
        assert.equal(await exists(fsJournal), true);
        // doctor takes the host lock and recovers like every command that touches Docker.
        const r = await stowage(["doctor", "--json"], { env: env.env });
        const checks = (JSON.parse(r.stdout) as { checks: { name: string; detail: string }[] })
          .checks;
        assert.match(
          checks.map((c) => `${c.name}: ${c.detail}`).join("\n"),
          /(a crashed run had left filesystem snapshots; deleted \/|restart journal: a crashed run)/,
        );
        assert.equal(
          (await docker("inspect", "-f", "{{.State.Running}}", container)).stdout.trim(),
          "true",
        );
        assert.deepEqual(await leftovers(), []);
        assert.equal(await exists(fsJournal), false);
        assert.equal(
          (await sh("btrfs", ["subvolume", "list", pool])).stdout.includes(SNAPDIR),
          false,
        );
      },
    );
  } finally {
    await removeComposeProject(project);
    await cleanupDocker();
    await env.cleanup();
    if (mounted) await sh("umount", [pool], { check: false });
    if (loop) await sh("losetup", ["-d", loop], { check: false });
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
});
