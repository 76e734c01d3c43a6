/**
 * Copies to another repository (config `copies:`, docs/copies.md) end to end: a one-service
 * compose stack backed up with `stowage backup` into a local primary, copied to a REST copy on a
 * real `rclone serve restic`. The steps build on each other: the first copy (and neither
 * repository location nor the REST password in restic's argv), deduplication, the DR bundle
 * carrying the copy's password, the copy down for a run (doctor and the results say so) and caught
 * up on the next with its own retention, a restore from the copy (wizard and flags) with the
 * primary deleted.
 */
import assert from "node:assert/strict";
import {
  ensureTestImage,
  removeComposeProject,
  sh,
  TEST_LABEL,
  testName,
} from "./support/docker.ts";
import { stowage } from "./support/cli.ts";
import { KEY, onTerminal } from "./support/terminal.ts";
import { testRepoEnv } from "./support/repo.ts";
import { startRestServer, type TestRestServer } from "./support/rest_server.ts";
import { Restic } from "../adapters/restic/restic.ts";
import { parseSnapshot } from "../core/tags.ts";
import { restorePoints } from "../core/restore/points.ts";
import type { RunReport } from "../core/report.ts";
import { readThroughOriginals } from "../app/copies.ts";

async function du(dir: string): Promise<number> {
  return Number((await sh("du", ["-sb", dir])).stdout.split("\t")[0]);
}

/** `cat` of a /proc file (Deno's permissions want --allow-all for /proc itself). */
async function procFile(pid: number, name: string): Promise<string[]> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/${name}`], stdout: "piped" })
    .output();
  assert.ok(out.success, `cannot read /proc/${pid}/${name}`);
  return new TextDecoder().decode(out.stdout).split("\0");
}

/** restic processes whose command line names this test's state dir (its --cache-dir). */
async function resticsOf(stateDir: string): Promise<number[]> {
  const out = await new Deno.Command("pgrep", { args: ["-x", "restic"], stdout: "piped" }).output();
  const mine: number[] = [];
  for (const pid of new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).map(Number)) {
    const argv = await procFile(pid, "cmdline").catch(() => [] as string[]);
    if (argv.some((w) => w.startsWith(stateDir))) mine.push(pid);
  }
  return mine;
}

/**
 * An HTTP proxy in front of the REST server that holds the first upload of a data file (only
 * `restic copy` uploads data to the copy) until `release()`; everything else passes through.
 */
function holdingProxy(target: () => number) {
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  let seen!: () => void;
  const held = new Promise<void>((r) => seen = r);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (req.method === "POST" && url.pathname.includes("/data/")) {
      seen();
      await released;
    }
    const body = req.body ? await req.arrayBuffer() : undefined;
    try {
      return await fetch(`http://127.0.0.1:${target()}${url.pathname}${url.search}`, {
        method: req.method,
        headers: req.headers,
        body,
      });
    } catch {
      return new Response("upstream down", { status: 502 });
    }
  });
  return {
    held,
    release,
    location: (rest: TestRestServer, name: string) =>
      `rest:http://${rest.user}:${rest.password}@127.0.0.1:${server.addr.port}/${name}/`,
    close: () => server.shutdown(),
  };
}

Deno.test("copies: each restore point reaches the REST copy, deduplicated, caught up after an outage, restorable with the primary gone", async (t) => {
  const image = await ensureTestImage();
  const project = testName("copies");
  const dir = await Deno.makeTempDir({ prefix: `stowage-${project}-` });
  const [label, value] = TEST_LABEL.split("=");
  await Deno.writeTextFile(
    `${dir}/docker-compose.yml`,
    `version: "2.4"
services:
  app:
    image: ${image}
    init: true
    command: ["sleep", "1000000"]
    volumes:
      - data:/data
    labels:
      ${label}: "${value}"
volumes:
  data:
    labels:
      ${label}: "${value}"
`,
  );
  const compose = (...args: string[]) =>
    sh("docker-compose", ["-p", project, ...args], { cwd: dir });
  const container = `${project}_app_1`;

  const restDir = `${dir}/rest`;
  await Deno.mkdir(restDir);
  let server: TestRestServer = await startRestServer(restDir);
  // The copy is reached through a proxy that can hold restic's first upload of data: while it
  // waits, the running `restic copy` is read in /proc.
  const proxy = holdingProxy(() => server.port);
  const copyLocation = proxy.location(server, "offsite");
  const copyPw = `${dir}/offsite.pw`;
  await Deno.writeTextFile(copyPw, "offsite-" + crypto.randomUUID(), { mode: 0o600 });
  const env = await testRepoEnv(
    `retention: { latest: 5 }
copies:
  - name: offsite
    repository:
      location: "${copyLocation}"
      password_file: ${copyPw}
    retention: { latest: 2 }
`,
  );
  const copyRepo = () => new Restic({ location: copyLocation, passwordFile: copyPw });
  const copyPoints = async () =>
    restorePoints((await copyRepo().snapshots()).map(parseSnapshot), project);
  const backup = async (): Promise<RunReport> => {
    const r = await stowage(["backup", "--unit", project, "--json"], { env: env.env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!(r.stdout + r.stderr).includes(server.password), "REST password printed");
    return JSON.parse(r.stdout) as RunReport;
  };

  let lastCopied = "";
  try {
    await compose("up", "-d");
    // 4 MiB of random data: big enough that a second copy of it would show.
    await sh("docker", [
      "exec",
      container,
      "sh",
      "-c",
      "head -c 4194304 /dev/urandom > /data/blob && echo v1 > /data/version",
    ]);

    await t.step(
      "a backup copies its point, marker included; restic copy's argv names no repository and no secret",
      async () => {
        const running = backup();
        // restic copy is uploading (held): its command line and environment, as any user sees them.
        await proxy.held;
        const pids = await resticsOf(env.stateDir);
        const copies = [];
        for (const pid of pids) {
          const argv = await procFile(pid, "cmdline");
          if (argv.includes("copy")) copies.push({ argv, environ: await procFile(pid, "environ") });
        }
        proxy.release();
        const report = await running;
        assert.equal(copies.length, 1, `expected one running restic copy among ${pids.join(",")}`);
        const { argv, environ } = copies[0];
        for (const secret of [server.password, "rest:", env.repo, copyPw, env.passwordFile]) {
          assert.ok(
            !argv.some((w) => w.includes(secret)),
            `'${secret}' in argv: ${argv.join(" ")}`,
          );
        }
        assert.ok(environ.includes(`RESTIC_FROM_REPOSITORY=${env.repo}`), "source not in env");
        assert.ok(environ.includes(`RESTIC_FROM_PASSWORD_FILE=${env.passwordFile}`));
        assert.ok(environ.includes(`RESTIC_PASSWORD_FILE=${copyPw}`));
        assert.ok(environ.includes(`RESTIC_REPOSITORY=${copyLocation}`));

        assert.equal(report.ok, true);
        const c = report.copies?.[0];
        assert.ok(c, "no copy report");
        assert.equal(c.ok, true, c.error);
        assert.equal(c.created, true);
        assert.deepEqual(c.copied, [`${project} ${report.backupId}`]);
        assert.equal(c.newest?.backupId, report.backupId);
        const points = await copyPoints();
        assert.deepEqual(points.map((p) => [p.backupId, p.status]), [[
          report.backupId,
          "complete",
        ]]);
        // the copy was created with the primary's chunker parameters (init --copy-chunker-params)
        const poly = (text: string) => JSON.parse(text).chunker_polynomial;
        const copyConfig = await sh("restic", ["cat", "config"], {
          env: { RESTIC_REPOSITORY: copyLocation, RESTIC_PASSWORD_FILE: copyPw },
        });
        assert.equal(poly(copyConfig.stdout), poly(await env.restic("cat", "config")));
      },
    );

    await t.step("the second copy of unchanged data adds almost nothing to the copy", async () => {
      const before = await du(restDir);
      const report = await backup();
      assert.equal(report.copies?.[0].ok, true, report.copies?.[0].error);
      const added = (await du(restDir)) - before;
      assert.ok(added < 512 * 1024, `the second copy added ${added} bytes (4 MiB of data)`);
      assert.equal((await copyPoints()).length, 2);
      lastCopied = report.backupId;
    });

    await t.step("the disaster-recovery bundle carries the copy's password file", async () => {
      const bundlePw = `${dir}/bundle.pw`;
      await Deno.writeTextFile(bundlePw, "bundle-" + crypto.randomUUID(), { mode: 0o600 });
      await Deno.mkdir(`${dir}/bundles`);
      const made = await stowage(
        ["disaster-recovery", "--password-file", bundlePw, "--output", `${dir}/bundles`, "--json"],
        { env: env.env },
      );
      assert.equal(made.code, 0, made.stderr);
      assert.ok(!made.stdout.includes(server.password), "REST password printed");
      const out = JSON.parse(made.stdout);
      const files = JSON.stringify(out);
      assert.ok(
        files.includes('"files/copy-offsite.password_file"') && files.includes(copyPw),
        `the copy's password file is not in the bundle: ${files}`,
      );
    });

    await t.step(
      "the copy down for a run: the backup is ok, the copy warns; the next run copies both missing points",
      async () => {
        const { port, password } = server;
        await server.stop();
        await sh("docker", ["exec", container, "sh", "-c", "echo v3 > /data/version"]);
        const down = await backup();
        assert.equal(down.ok, true, "a failed copy failed the backup");
        const c = down.copies?.[0];
        assert.equal(c?.ok, false);
        assert.ok(c?.error, "no error for the failed copy");
        assert.ok(!c.error.includes(password), "the REST password in the copy's error");

        // The results store (/status, /metrics) and doctor say the copy is behind.
        const results = JSON.parse(await Deno.readTextFile(`${env.stateDir}/results.json`));
        assert.equal(results.copies.offsite.ok, false);
        assert.equal(results.copies.offsite.newestBackupId, lastCopied);
        assert.ok(results.copies.offsite.behindSince, "no lag recorded");
        server = await startRestServer(restDir, { port, password });
        const doctor = await stowage(["doctor"], { env: env.env });
        assert.match(
          doctor.stdout + doctor.stderr,
          new RegExp(
            `copy offsite.*lacks 1 restore point\\(s\\), the oldest ${project} ${down.backupId}`,
          ),
        );
        await sh("docker", ["exec", container, "sh", "-c", "echo v4 > /data/version"]);
        const up = await backup();
        const c2 = up.copies?.[0];
        assert.equal(c2?.ok, true, c2?.error);
        assert.deepEqual(c2.copied, [`${project} ${down.backupId}`, `${project} ${up.backupId}`]);
        // The copy's own retention (latest: 2) forgot the two older points there.
        assert.deepEqual(
          (await copyPoints()).map((p) => [p.backupId, p.status]),
          [[up.backupId, "complete"], [down.backupId, "complete"]],
        );
        assert.ok((c2.forgotten ?? 0) > 0, "nothing forgotten on the copy");
        // The primary keeps its own (latest: 5): all four.
        const primary = JSON.parse(await env.restic("snapshots", "--json")).map(parseSnapshot);
        assert.equal(restorePoints(primary, project).length, 4);
      },
    );

    await t.step("restore --from the copy with the primary repository deleted", async () => {
      await Deno.remove(env.repo, { recursive: true });
      await removeComposeProject(project);
      // The wizard asks where to read from; the copy's units and points are offered.
      const wizard = await onTerminal(["restore"], {
        env: env.env,
        answers: [
          ["Restore from which repository?", KEY.down + KEY.enter],
          [/Which unit\?[\s\S]*latest complete/, KEY.ctrlC],
        ],
      });
      assert.equal(wizard.answered, 2, wizard.output);
      assert.match(wizard.output, new RegExp(`${project}.*2 restore point\\(s\\)`));
      const r = await stowage(
        ["restore", "--unit", project, "--latest", "--from", "offsite", "--start", "--yes"],
        { env: env.env },
      );
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const got = await sh("docker", ["exec", container, "cat", "/data/version"]);
      assert.equal(got.stdout.trim(), "v4");
      const size = await sh("docker", ["exec", container, "wc", "-c", "/data/blob"]);
      assert.match(size.stdout, /^\s*4194304 /);
      // The recipe names its saved image by the primary's snapshot id: read through `original`.
      const snaps = (await copyRepo().snapshots()).map(parseSnapshot);
      const recipe = restorePoints(snaps, project)[0].recipe!;
      const doc = JSON.parse(
        new TextDecoder().decode(await copyRepo().dump(recipe.id, "/recipe.json")),
      );
      const img = doc.images?.[0];
      assert.ok(img, "the test image was not saved with the point");
      await assert.rejects(copyRepo().dump(img.snapshotId, img.file));
      const tar = await readThroughOriginals(copyRepo(), snaps).dump(img.snapshotId, img.file);
      assert.ok(tar.length > 100_000, `image tar of ${tar.length} bytes`);
      const unknown = await stowage(
        ["restore", "--unit", project, "--latest", "--from", "nowhere", "--yes"],
        { env: env.env },
      );
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /no such copy/);
      assert.match(unknown.stderr, /offsite/);
    });
  } finally {
    proxy.release();
    await removeComposeProject(project);
    await server.stop();
    await proxy.close();
    await env.cleanup();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
