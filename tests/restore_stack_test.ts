/**
 * `stowage restore` of the fixture stack end to end (real dockerd, restic, docker-compose):
 * backup, destroy, restore --latest --start --yes; restore over existing data with --stop and the
 * pre-restore snapshot; --to-dir; --dry-run; refusal without a terminal; unknown names.
 */
import assert from "node:assert/strict";
import { createFixtureStack, type FixtureStack } from "./support/fixture.ts";
import { cleanupDocker, containerEvents, docker, sh } from "./support/docker.ts";
import { stowage } from "./support/cli.ts";
import { type TestRepoEnv, testRepoEnv } from "./support/repo.ts";
import type { RestoreReport } from "../core/restore/run.ts";

async function withStack(name: string, fn: (s: FixtureStack, env: TestRepoEnv) => Promise<void>) {
  const s = await createFixtureStack({ name });
  const env = await testRepoEnv();
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

async function backup(s: FixtureStack, env: TestRepoEnv): Promise<string> {
  const r = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).backupId;
}

/** Every lifecycle change (not exec) the Engine saw for the stack's containers in the window. */
async function lifecycleEvents(s: FixtureStack, since: Date, until: Date): Promise<string[]> {
  const actions = ["create", "destroy", "die", "kill", "start", "stop", "restart", "pause"];
  return (await containerEvents(since, until, [
    `label=com.docker.compose.project=${s.project}`,
    ...actions.map((a) => `event=${a}`),
  ])).map((e) => `${e.action} ${e.name}`);
}

const inVolume = async (s: FixtureStack, service: string, cmd: string) =>
  (await docker("exec", s.container(service), "sh", "-c", cmd)).stdout;

Deno.test("restore --latest --start --yes brings a destroyed stack back: data, networks, compose files", async () => {
  await withStack("rs", async (s, env) => {
    await inVolume(
      s,
      "app",
      "echo hello > /data/greeting && mkdir -p /data/sub && echo deep > /data/sub/f",
    );
    const net = JSON.parse((await docker("network", "inspect", `${s.project}_backend`)).stdout)[0];
    await backup(s, env);

    // Destroy: containers, volumes, networks, and the compose files.
    await s.down();
    await Deno.remove(s.composeFile);
    await Deno.remove(`${s.dir}/.env`);
    assert.notEqual(
      (await sh("docker", ["volume", "inspect", s.volume("app_data")], { check: false })).code,
      0,
    );

    const r = await stowage([
      "restore",
      "--unit",
      s.project,
      "--latest",
      "--start",
      "--yes",
      "--json",
    ], { env: env.env });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { ok: boolean; report: RestoreReport };
    assert.equal(doc.ok, true);
    assert.deepEqual(doc.report.running.map((c) => [c.name, c.state]).sort(), [
      [s.container("app"), "running"],
      [s.container("db"), "running"],
      [s.container("web"), "running"],
    ]);
    assert.equal(await inVolume(s, "app", "cat /data/greeting /data/sub/f"), "hello\ndeep\n");
    assert.equal(await inVolume(s, "db", "cat /data/ready"), "db-ready\n");
    assert.ok((await Deno.readTextFile(s.composeFile)).includes("services:"));
    assert.equal(await Deno.readTextFile(`${s.dir}/.env`), "APP_MODE=production\nAPP_PORT=8080\n");
    const again =
      JSON.parse((await docker("network", "inspect", `${s.project}_backend`)).stdout)[0];
    assert.deepEqual(again.IPAM.Config, net.IPAM.Config);
    assert.deepEqual(again.Labels, net.Labels);
    const dbIp = (await docker(
      "inspect",
      "-f",
      `{{(index .NetworkSettings.Networks "${s.project}_backend").IPAddress}}`,
      s.container("db"),
    )).stdout.trim();
    assert.equal(dbIp, `${s.subnet.split(".").slice(0, 3).join(".")}.10`);
    // The volumes carry their compose labels again, so compose adopted them without complaint.
    const vol = JSON.parse((await docker("volume", "inspect", s.volume("db_data"))).stdout)[0];
    assert.equal(vol.Labels["com.docker.compose.project"], s.project);
    for (const secret of s.secrets) {
      assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret));
    }
  });
});

Deno.test("restore over existing data needs --stop, saves a pre-restore snapshot, and can be undone", async () => {
  await withStack("rsx", async (s, env) => {
    const hookLog = `${env.dir}/hooks.log`;
    const refuse = `${env.dir}/refuse`;
    await Deno.writeTextFile(
      env.configPath,
      (await Deno.readTextFile(env.configPath)) +
        `hooks:\n  pre_restore:\n    - run: ["sh", "-c", "test -e ${refuse} && exit 75; echo \\"pre $STOWAGE_PHASE $STOWAGE_UNIT\\" >> ${hookLog}"]\n` +
        `  post_restore:\n    - run: ["sh", "-c", "echo \\"post $STOWAGE_OUTCOME\\" >> ${hookLog}"]\n`,
    );
    await inVolume(s, "app", "echo v1 > /data/state");
    await backup(s, env);
    await inVolume(s, "app", "echo v2 > /data/state && echo new > /data/added-later");

    const refused = await stowage([
      "restore",
      "--unit",
      s.project,
      "--latest",
      "--only",
      "volumes",
      "--yes",
    ], { env: env.env });
    assert.equal(refused.code, 14, refused.stderr);
    assert.match(refused.stderr, /in use by running container/);
    assert.match(refused.stderr, /--stop/);
    assert.equal(await inVolume(s, "app", "cat /data/state"), "v2\n", "a refusal changes nothing");

    // A pre_restore hook that asks to skip (exit 75) ends the restore before anything changes.
    await Deno.writeTextFile(refuse, "");
    const since = new Date();
    const skipped = await stowage(
      ["restore", "--unit", s.project, "--latest", "--only", "volumes", "--stop", "--yes"],
      { env: env.env },
    );
    assert.equal(skipped.code, 15, skipped.stderr);
    assert.match(skipped.stderr, /pre_restore hook asked to skip/);
    assert.deepEqual(await lifecycleEvents(s, since, new Date()), [], "nothing stopped");
    assert.equal(await inVolume(s, "app", "cat /data/state"), "v2\n", "a skip changes nothing");
    await Deno.remove(refuse);

    const r = await stowage([
      "restore",
      "--unit",
      s.project,
      "--latest",
      "--only",
      "volumes",
      "--stop",
      "--yes",
      "--json",
    ], { env: env.env });
    assert.equal(r.code, 0, r.stderr);
    const report = (JSON.parse(r.stdout) as { report: RestoreReport }).report;
    assert.deepEqual(report.stopped, [s.container("web"), s.container("app"), s.container("db")]);
    assert.deepEqual(report.started, [s.container("db"), s.container("app"), s.container("web")]);
    assert.equal(await inVolume(s, "app", "cat /data/state"), "v1\n");
    assert.equal(
      await Deno.readTextFile(hookLog),
      `post failed\npre pre_restore ${s.project}\npost ok\n`,
      "restore hooks ran around it (post_restore also after the skipped run)",
    );
    assert.equal(
      await inVolume(s, "app", "ls /data/added-later 2>/dev/null || echo gone"),
      "gone\n",
      "files not in the snapshot are gone",
    );
    const pre = report.data.find((d) => d.name === s.volume("app_data"))!;
    assert.ok(pre.preRestoreSnapshot, "a pre-restore snapshot was made");
    const snaps = JSON.parse(
      await env.restic("snapshots", "--json", "--tag", "type=pre-restore"),
    ) as { id: string; tags: string[] }[];
    const mine = snaps.find((x) => x.id === pre.preRestoreSnapshot)!;
    assert.ok(
      mine.tags.some((t) => t.startsWith(`item=volume:${s.volume("app_data")}:/`)) &&
        mine.tags.includes(`unit=${s.project}`),
      mine.tags.join(","),
    );
    // Every folder the restore replaced was saved by one restic pass, into one snapshot.
    const saved = report.data.filter((d) => d.preRestoreSnapshot);
    assert.ok(saved.length >= 2, JSON.stringify(report.data));
    assert.deepEqual(new Set(saved.map((d) => d.preRestoreSnapshot)), new Set([mine.id]));
    assert.equal(snaps.filter((x) => x.tags.includes(`backup_id=${report.restoreId}`)).length, 1);
    assert.ok(mine.tags.includes(`backup_id=${report.restoreId}`));

    // Undo: the pre-restore point brings v2 back.
    const undo = await stowage([
      "restore",
      "--unit",
      s.project,
      "--backup-id",
      report.restoreId,
      "--volume",
      s.volume("app_data"),
      "--stop",
      "--yes",
    ], { env: env.env });
    assert.equal(undo.code, 0, undo.stderr);
    assert.equal(await inVolume(s, "app", "cat /data/state /data/added-later"), "v2\nnew\n");
  });
});

Deno.test("--to-dir writes files only; --dry-run changes nothing; bad input is named", async () => {
  await withStack("rsd", async (s, env) => {
    await inVolume(s, "app", "echo hello > /data/greeting");
    const id = await backup(s, env);
    const out = await Deno.makeTempDir({ prefix: "stowage-todir-" });
    try {
      const since = new Date();
      const r = await stowage([
        "restore",
        "--unit",
        s.project,
        "--backup-id",
        id,
        "--to-dir",
        out,
        "--yes",
        "--json",
      ], { env: env.env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        await Deno.readTextFile(`${out}/volumes/${s.volume("app_data")}/greeting`),
        "hello\n",
      );
      assert.ok((await Deno.readTextFile(`${out}/docker-compose.yml`)).includes("services:"));
      assert.ok((await Deno.readTextFile(`${out}/stowage-networks.json`)).includes(s.subnet));
      assert.equal(
        await Deno.readTextFile(`${out}/binds${s.dir}/html/index.html`),
        "<h1>hello from the fixture</h1>\n",
      );
      // The Engine saw no container of the stack stop, start, or change.
      assert.deepEqual(await lifecycleEvents(s, since, new Date()), []);

      // A second --to-dir run over it replaces (and says so).
      const dry = await stowage([
        "restore",
        "--unit",
        s.project,
        "--latest",
        "--to-dir",
        out,
        "--dry-run",
      ], { env: env.env });
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /will overwrite/);
      assert.match(dry.stdout, /files only/);
    } finally {
      await Deno.remove(out, { recursive: true });
    }

    // A dry run against Docker: a plan, conflicts listed, nothing changed.
    await inVolume(s, "app", "echo changed > /data/greeting");
    const dryStart = new Date();
    const dry = await stowage(["restore", "--unit", s.project, "--latest", "--dry-run", "--json"], {
      env: env.env,
    });
    assert.equal(dry.code, 14, dry.stderr);
    assert.deepEqual(
      await lifecycleEvents(s, dryStart, new Date()),
      [],
      "the dry run stopped nothing",
    );
    const plan = JSON.parse(dry.stdout).plan;
    assert.ok(plan.conflicts.some((c: { kind: string }) => c.kind === "in-use"));
    assert.ok(
      plan.files.every((f: Record<string, unknown>) => !("content" in f)),
      "file contents are not printed",
    );
    assert.equal(await inVolume(s, "app", "cat /data/greeting"), "changed\n");

    const noTty = await stowage(["restore", "--unit", s.project, "--latest"], { env: env.env });
    assert.equal(noTty.code, 18);
    assert.match(noTty.stderr, /not a terminal/);
    assert.match(noTty.stderr, /--yes/);

    const typo = await stowage([
      "restore",
      "--unit",
      s.project.slice(0, -1) + "x",
      "--latest",
      "--yes",
    ], { env: env.env });
    assert.equal(typo.code, 6);
    assert.ok(typo.stderr.includes(`'${s.project}'`), typo.stderr);

    const badId = await stowage([
      "restore",
      "--unit",
      s.project,
      "--backup-id",
      id.replace(/\d\dZ$/, "61Z"),
      "--yes",
    ], { env: env.env });
    assert.equal(badId.code, 6);
    assert.ok(badId.stderr.includes(id), badId.stderr);

    const badVol = await stowage([
      "restore",
      "--unit",
      s.project,
      "--latest",
      "--volume",
      "app_dat",
      "--yes",
    ], { env: env.env });
    assert.equal(badVol.code, 6);
    assert.match(badVol.stderr, /app_data/);
  });
});
