/**
 * Volumes whose data lives elsewhere than `_data` (issue 17), against the real engine, restic and
 * docker-compose: a bind-type local volume (`type: none, o: bind, device: DIR`) is saved from DIR
 * and restored into it; a tmpfs-type volume is a named gap; a bind mount that is itself a mount
 * point is saved with its content; a volume on a block device (mounted only while a container uses
 * it, like NFS or CIFS, which this kernel lacks) is saved through the Engine, which mounts it.
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
import { stowage } from "./support/cli.ts";
import { type TestRepoEnv, testRepoEnv } from "./support/repo.ts";
import { describeTree, diffTrees } from "./support/tree.ts";
import type { RunReport } from "../core/report.ts";
import type { DryRunDocument } from "../core/backup/dry_run.ts";
import type { RestoreReport } from "../core/restore/run.ts";

interface Stack {
  project: string;
  dir: string;
  container: string;
  volume(short: string): string;
  compose(...args: string[]): Promise<void>;
}

/** A one-service compose stack mounting `volumes` (short name -> driver_opts) and `binds`. */
async function stack(
  name: string,
  volumes: Record<string, Record<string, string>>,
  binds: string[] = [],
): Promise<Stack> {
  const image = await ensureTestImage();
  const project = testName(name);
  const dir = await Deno.makeTempDir({ prefix: `stowage-${project}-` });
  const [label, value] = TEST_LABEL.split("=");
  const mounts = [
    ...Object.keys(volumes).map((v) => `      - ${v}:/v/${v}`),
    ...binds.map((b, i) => `      - ${b}:/b/${i}`),
  ];
  const decl = Object.entries(volumes).map(([v, opts]) =>
    `  ${v}:\n    labels:\n      ${label}: "${value}"\n    driver_opts:\n${
      Object.entries(opts).map(([k, x]) => `      ${k}: "${x}"`).join("\n")
    }`
  );
  await Deno.writeTextFile(
    `${dir}/docker-compose.yml`,
    `version: "2.4"
services:
  app:
    image: ${image}
    init: true
    command: ["sleep", "1000000"]
    labels:
      ${label}: "${value}"
    volumes:
${mounts.join("\n")}
volumes:
${decl.join("\n")}
`,
  );
  const compose = async (...args: string[]) => {
    await sh("docker-compose", ["-p", project, "-f", `${dir}/docker-compose.yml`, ...args], {
      cwd: dir,
    });
  };
  return {
    project,
    dir,
    container: `${project}_app_1`,
    volume: (short) => `${project}_${short}`,
    compose,
  };
}

async function teardown(s: Stack, env: TestRepoEnv) {
  await removeComposeProject(s.project);
  await cleanupDocker();
  await env.cleanup();
  await Deno.remove(s.dir, { recursive: true }).catch(() => {});
}

const runningState = async (c: string) =>
  (await docker("inspect", "-f", "{{.State.Running}}", c)).stdout.trim();

Deno.test("a bind-type volume round-trips its device folder; a tmpfs volume is a named gap; a mount-point bind is saved with its content", async () => {
  const data = await Deno.makeTempDir({ prefix: "stowage-bindvol-" });
  const mp = await Deno.makeTempDir({ prefix: "stowage-mountpoint-" });
  await sh("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mp]);
  const s = await stack("vk", {
    bv: { type: "none", o: "bind", device: data },
    tv: { type: "tmpfs", device: "tmpfs" },
  }, [mp]);
  const env = await testRepoEnv();
  try {
    await sh("sh", [
      "-c",
      `set -e; cd "$1"; echo real-data > a.txt; mkdir -p sub/deep; head -c 70000 /dev/urandom > sub/deep/b.bin
       chown 1000:1001 sub/deep/b.bin; chmod 0640 sub/deep/b.bin; ln -s a.txt link
       echo on-the-mount > "$2/m.txt"`,
      "sh",
      data,
      mp,
    ]);
    await s.compose("up", "-d");
    const before = await describeTree(data);

    // dry-run names the kind and how each volume is read.
    const dry = await stowage(["dry-run", "--unit", s.project, "--json"], { env: env.env });
    assert.equal(dry.code, 0, dry.stderr);
    const u = (JSON.parse(dry.stdout) as DryRunDocument).units[0];
    const bvItem = u.items.find((i) => i.item === s.volume("bv"))!;
    assert.deepEqual(bvItem.paths, [data]);
    assert.equal(bvItem.volumeKind, "bind");
    assert.match(bvItem.how ?? "", /bind-type/);
    assert.equal(u.items.find((i) => i.item === s.volume("tv")), undefined);
    assert.deepEqual(u.gaps.filter((g) => g.kind === "tmpfs").map((g) => g.item), [s.volume("tv")]);
    assert.equal(u.items.find((i) => i.item === mp)?.mountPoint, true, JSON.stringify(u.items));
    const text = await stowage(["dry-run", "--unit", s.project], { env: env.env });
    assert.match(text.stdout, new RegExp(`${s.volume("bv")}[^\\n]*\\n\\s+a bind-type volume`));
    assert.match(text.stdout, new RegExp(`${mp} is a mount point: its content is saved`));
    assert.match(text.stdout, new RegExp(`NOT backed up: ${s.volume("tv")}: a tmpfs-type volume`));

    const b = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    assert.equal(b.code, 0, b.stderr);
    const report = JSON.parse(b.stdout) as RunReport;
    assert.equal(report.units[0].outcome, "ok", report.units[0].error);
    const snap = report.units[0].snapshots.find((x) => x.item === s.volume("bv"))!;
    assert.ok(snap, "the bind-type volume has a snapshot");
    const listing = await env.restic("ls", "--recursive", snap.snapshotId, data);
    assert.match(listing, new RegExp(`${data}/sub/deep/b\\.bin`));
    assert.equal(await env.restic("dump", snap.snapshotId, `${data}/a.txt`), "real-data\n");
    // The unit's data snapshot maps the volume to its device folder, never its empty `_data`.
    const [saved] = JSON.parse(await env.restic("snapshots", "--json", snap.snapshotId)) as {
      tags: string[];
    }[];
    assert.ok(saved.tags.includes(`item=volume:${s.volume("bv")}:${data}`), saved.tags.join(" "));
    assert.ok(
      !saved.tags.some((t) =>
        t.startsWith(`item=volume:${s.volume("bv")}:`) && t.endsWith("/_data")
      ),
    );
    const mpSnap = report.units[0].snapshots.find((x) => x.item === mp)!;
    assert.equal(await env.restic("dump", mpSnap.snapshotId, `${mp}/m.txt`), "on-the-mount\n");
    assert.deepEqual(
      report.units[0].gaps.filter((g) => g.kind === "tmpfs").map((g) => g.item),
      [s.volume("tv")],
    );
    assert.deepEqual(report.units[0].volumes?.map((v) => [v.name, v.kind]), [[
      s.volume("bv"),
      "bind",
    ]]);
    // doctor names the kinds and the tmpfs volume that is not saved.
    const doc0 = await stowage(["doctor", "--json"], { env: env.env });
    const kinds = (JSON.parse(doc0.stdout) as { checks: { name: string; detail: string }[] })
      .checks.find((c) => c.name === "volume kinds");
    assert.match(kinds?.detail ?? "", /bind-type/);
    assert.match(kinds?.detail ?? "", new RegExp(`${s.volume("tv")}: a tmpfs-type volume`));

    // Lose the data, restore: it comes back into DIR, exactly.
    await sh("sh", ["-c", `rm -rf "$1"/* "$1"/.[!.]* 2>/dev/null; true`, "sh", data]);
    assert.deepEqual([...Deno.readDirSync(data)], []);
    const r = await stowage([
      "restore",
      "--unit",
      s.project,
      "--latest",
      "--only",
      "volumes",
      "--volume",
      s.volume("bv"),
      "--stop",
      "--yes",
      "--json",
    ], { env: env.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const doc = JSON.parse(r.stdout) as { ok: boolean; report: RestoreReport };
    assert.equal(doc.ok, true, JSON.stringify(doc.report.error));
    assert.deepEqual(doc.report.data.map((d) => d.target), [data]);
    assert.deepEqual(diffTrees(before, await describeTree(data)), []);
    assert.equal(await runningState(s.container), "true");
    assert.equal(
      (await docker("exec", s.container, "cat", `/v/bv/a.txt`)).stdout,
      "real-data\n",
      "the container sees the restored data through the volume",
    );
  } finally {
    await teardown(s, env);
    await sh("umount", [mp], { check: false });
    await Deno.remove(mp, { recursive: true }).catch(() => {});
    await Deno.remove(data, { recursive: true }).catch(() => {});
  }
});

Deno.test("a bind-type volume whose device folder is gone fails the unit instead of saving the empty volume folder", async () => {
  const data = await Deno.makeTempDir({ prefix: "stowage-bindgone-" });
  const s = await stack("vkgone", { bv: { type: "none", o: "bind", device: data } });
  const env = await testRepoEnv();
  try {
    await Deno.writeTextFile(`${data}/precious`, "x");
    await s.compose("up", "-d");
    // The running container keeps its mount; the host folder stowage must read is gone.
    await Deno.remove(data, { recursive: true });
    const b = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    assert.notEqual(b.code, 0);
    const report = JSON.parse(b.stdout) as RunReport;
    assert.equal(report.units[0].outcome, "failed");
    assert.match(report.units[0].error ?? "", new RegExp(`${s.volume("bv")}.*${data}`));
    assert.equal(report.units[0].snapshots.some((x) => x.item === s.volume("bv")), false);
    const snaps = JSON.parse(await env.restic("snapshots", "--json")) as { tags: string[] }[];
    assert.equal(
      snaps.some((x) =>
        x.tags.includes(`volume=${s.volume("bv")}`) ||
        x.tags.some((t) => t.startsWith(`item=volume:${s.volume("bv")}:`))
      ),
      false,
    );
    // The Engine cannot mount a missing device folder either, so the start fails too and says so.
    assert.match(report.units[0].error ?? "", /could not start/);
  } finally {
    await teardown(s, env);
    await Deno.remove(data, { recursive: true }).catch(() => {});
  }
});

Deno.test("a volume on a block device, mounted only while used, is saved through the Engine with its content", async () => {
  const img = await Deno.makeTempFile({ prefix: "stowage-blockvol-", suffix: ".img" });
  await sh("truncate", ["-s", "16M", img]);
  await sh("mkfs.ext4", ["-q", "-F", img]);
  const loop = (await sh("losetup", ["-f", "--show", img])).stdout.trim();
  let s: Stack | undefined;
  const env = await testRepoEnv();
  try {
    s = await stack("vkblk", { lv: { type: "ext4", device: loop } });
    await s.compose("up", "-d");
    await docker(
      "exec",
      s.container,
      "sh",
      "-c",
      "mkdir -p /v/lv/sub && echo on-disk > /v/lv/sub/f",
    );
    // While stopped, the host folder is empty: the device is mounted only while used.
    const mountpoint = JSON.parse((await docker("volume", "inspect", s.volume("lv"))).stdout)[0]
      .Mountpoint;

    const dry = await stowage(["dry-run", "--unit", s.project, "--json"], { env: env.env });
    const item = (JSON.parse(dry.stdout) as DryRunDocument).units[0].items.find((i) =>
      i.item === s!.volume("lv")
    )!;
    assert.equal(item.volumeKind, "mounted");
    assert.match(item.how ?? "", new RegExp(`ext4 on block device ${loop}.*mounted only while`));

    const b = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    assert.equal(b.code, 0, b.stderr);
    const report = JSON.parse(b.stdout) as RunReport;
    assert.equal(report.units[0].outcome, "ok", report.units[0].error);
    const snap = report.units[0].snapshots.find((x) => x.item === s!.volume("lv"))!;
    const tar = `${img}.tar`;
    await Deno.writeTextFile(tar, "");
    const dumped = await sh("sh", [
      "-c",
      `restic -r "$1" --password-file "$2" dump "$3" "/$4.tar" | tar -xOf - lv/sub/f`,
      "sh",
      env.repo,
      env.passwordFile,
      snap.snapshotId,
      s.volume("lv"),
    ]);
    assert.equal(dumped.stdout, "on-disk\n");
    await Deno.remove(tar);
    const tags = JSON.parse(await env.restic("snapshots", "--json", snap.snapshotId))[0].tags;
    assert.ok(tags.includes("source=archive"), tags.join(","));
    assert.equal(await runningState(s.container), "true");
    assert.ok(mountpoint.endsWith("/_data"));
  } finally {
    if (s) await teardown(s, env);
    else await env.cleanup();
    await sh("losetup", ["-d", loop], { check: false });
    await Deno.remove(img).catch(() => {});
  }
});
