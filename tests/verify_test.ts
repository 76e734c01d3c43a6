/**
 * `stowage verify` end to end (real dockerd, restic, docker-compose): the fixture stack with a
 * healthcheck and a standalone container are backed up once, then drilled in sandboxes while the
 * live objects keep running untouched; a backup of an emptied volume fails naming the service;
 * a drill killed with SIGKILL leaves objects that the next command removes.
 */
import assert from "node:assert/strict";
import { createFixtureStack } from "./support/fixture.ts";
import {
  cleanupDocker,
  containerEvents,
  docker,
  ensureTestImage,
  sh,
  TEST_LABEL,
  testName,
} from "./support/docker.ts";
import { spawnStowage, stowage } from "./support/cli.ts";
import { countedRestic } from "./support/backup.ts";
import { testRepoEnv } from "./support/repo.ts";
import type { VerifyReport } from "../app/verify.ts";

/** Every sandbox object of these runs that still exists (containers, volumes, networks). */
async function sandboxObjects(runIds: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of runIds) {
    const f = `label=stowage.sandbox=${id}`;
    for (const kind of ["container", "volume", "network"]) {
      const args = kind === "container" ? ["ps", "-a"] : [kind, "ls"];
      const names = (await docker(...args, "-q", "--filter", f)).stdout.trim().split("\n")
        .filter(Boolean);
      out.push(...names.map((n) => `${kind} ${n}`));
    }
  }
  return out;
}

/**
 * `docker inspect` of each object, minus what changes by itself: the health log, the exec ids
 * of a healthcheck that happens to be running, the order of the mounts list.
 */
async function inspectAll(objects: { kind: string; name: string }[]): Promise<unknown[]> {
  const docs: unknown[] = [];
  for (const o of objects) {
    const doc = JSON.parse((await docker(o.kind, "inspect", o.name)).stdout)[0];
    if (o.kind === "container") {
      delete doc.State.Health;
      delete doc.ExecIDs;
      // The Engine lists mounts in map order, which differs from one inspect to the next.
      doc.Mounts.sort((a: { Destination: string }, b: { Destination: string }) =>
        a.Destination.localeCompare(b.Destination)
      );
    }
    docs.push(doc);
  }
  return docs;
}

async function exists(path: string): Promise<boolean> {
  return (await sh("test", ["-e", path], { check: false })).code === 0;
}

/**
 * Starts stowage and sends it `signal` the moment the Engine reports the first container created
 * with a sandbox label (watched through `docker events`, no sleeps). Returns that run's id.
 */
async function killAtFirstSandboxContainer(
  args: string[],
  env: Record<string, string>,
  signal: Deno.Signal,
): Promise<{ runId: string; result: { code: number; stderr: string } }> {
  // --since replays what happened before the watcher was listening: no race with a fast drill.
  const since = (Date.now() / 1000).toFixed(3);
  const watch = new Deno.Command("docker", {
    args: [
      "events",
      "--since",
      since,
      "--filter",
      "type=container",
      "--filter",
      "event=create",
      "--filter",
      "label=stowage.sandbox",
      "--format",
      "{{.Actor.Attributes.name}}",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = watch.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const child = spawnStowage(args, { env });
  const created = await reader.read();
  child.kill(signal);
  const out = await child.output();
  watch.kill();
  await reader.cancel().catch(() => {});
  await watch.status;
  const runId = /^verify-([0-9a-f]{8})-/.exec(created.value ?? "")?.[1];
  assert.ok(runId, `no sandbox container was created: ${created.value}`);
  return { runId, result: { code: out.code, stderr: new TextDecoder().decode(out.stderr) } };
}

Deno.test("verify: a sandbox beside the live units, judged healthy with a recovery time, always removed", async (t) => {
  const image = await ensureTestImage();
  const stack = await createFixtureStack({ name: "vf", healthcheck: true });
  // (continues the `backup:` section: the emptied backup's live app stays unhealthy after its start)
  const env = await testRepoEnv(
    "  start_timeout: 3\nverify:\n  settle_seconds: 1\n  health_timeout: 60\n",
  );
  // A verify hook module: it reads the restored greeting from inside the sandbox's app service.
  const hookFile = `${env.dir}/greeting_hook.ts`;
  await Deno.writeTextFile(
    hookFile,
    `export default {
  sdk: 1,
  name: "greeting",
  async verify(ctx) {
    if (ctx.unit.kind !== "stack") return;
    const r = await ctx.exec("app", ["cat", "/data/greeting"], { check: true });
    if (r.stdout.trim() !== "hello") throw new Error("greeting is " + r.stdout.trim());
    ctx.log.warn("the sandbox's app says " + r.stdout.trim());
  },
};
`,
    { mode: 0o600 },
  );
  await Deno.writeTextFile(env.configPath, `hooks:\n  verify:\n    - module: ${hookFile}\n`, {
    append: true,
  });
  const solo = testName("vfsolo");
  const soloVol = testName("vfsolo-data");
  try {
    await stack.up();
    await docker("exec", stack.container("app"), "sh", "-c", "echo hello > /data/greeting");
    await docker("volume", "create", "--label", TEST_LABEL, soloVol);
    await docker(
      "run",
      "-d",
      "--init",
      "--name",
      solo,
      "--label",
      TEST_LABEL,
      "-v",
      `${soloVol}:/data`,
      "-p",
      "127.0.0.1::8080",
      image,
      "sh",
      "-c",
      "echo solo > /data/state && exec sleep 1000000",
    );
    const counted = await countedRestic(env);
    const backup = await stowage(["backup", "--unit", stack.project, "--unit", solo, "--json"], {
      env: counted.env,
    });
    assert.equal(backup.code, 0, backup.stderr);
    // Both units' warm snapshots leave in the run's one `forget` (an exclusive lock: nothing runs
    // beside it, so it is paid once per run, not once per unit).
    const calls = await counted.calls();
    assert.equal(calls.filter((c) => c.startsWith("forget ")).length, 1, calls.join("\n"));
    assert.equal(calls.filter((c) => c.startsWith("backup ") && /stowage-warm/.test(c)).length, 2);
    const firstBackup = JSON.parse(backup.stdout).backupId as string;

    const live = [
      ...["db", "app", "web"].map((s) => ({ kind: "container", name: stack.container(s) })),
      { kind: "container", name: solo },
      { kind: "volume", name: stack.volume("db_data") },
      { kind: "volume", name: stack.volume("app_data") },
      { kind: "volume", name: soloVol },
      { kind: "network", name: `${stack.project}_backend` },
    ];

    await t.step(
      "verify --latest: both units healthy in sandboxes with a recovery time; live objects untouched; every sandbox object removed",
      async () => {
        const before = await inspectAll(live);
        const since = new Date();
        const r = await stowage(
          ["verify", "--unit", stack.project, "--unit", solo, "--latest", "--json"],
          { env: env.env },
        );
        const until = new Date();
        assert.equal(r.code, 0, r.stderr + r.stdout);
        const { ok, reports, repositoryCheck } = JSON.parse(r.stdout) as {
          ok: boolean;
          reports: VerifyReport[];
          repositoryCheck: { ok: boolean; readDataPercent: number };
        };
        assert.equal(ok, true);
        assert.deepEqual([repositoryCheck.ok, repositoryCheck.readDataPercent], [true, 1]);
        assert.match(
          r.stderr,
          /the sandbox's app says hello/,
          "the verify hook ran in the sandbox",
        );
        assert.deepEqual(reports.map((x) => [x.unit, x.status]), [
          [stack.project, "healthy"],
          [solo, "healthy"],
        ]);
        for (const x of reports) {
          assert.ok(x.recoverySeconds! > 0 && x.recoverySeconds! < 120, `RTO ${x.recoverySeconds}`);
          assert.ok(x.volumes.length > 0 && x.volumes.every((v) => v.ok && v.found), x.unit);
          assert.deepEqual(x.cleanupProblems, []);
        }
        assert.deepEqual(
          reports[0].services.map((s) => [s.service, s.status]),
          [["app", "healthy"], ["db", "running"], ["web", "running"]],
        );
        assert.deepEqual(await sandboxObjects(reports.map((x) => x.runId)), []);
        const after = await inspectAll(live);
        live.forEach((o, i) =>
          assert.deepEqual(after[i], before[i], `${o.kind} ${o.name} changed`)
        );
        // Not one stop, start or restart of a live container during the drill.
        const lifecycle = await containerEvents(since, until, [
          `label=${TEST_LABEL}`,
          ...["create", "destroy", "die", "kill", "start", "stop", "restart"].map((a) =>
            `event=${a}`
          ),
        ]);
        assert.deepEqual(lifecycle.filter((e) => !e.name.startsWith("verify-")), []);
        const leftovers = await Deno.readDir(`${env.stateDir}/verify`)[Symbol.asyncIterator]()
          .next();
        assert.equal(leftovers.done, true, "the scratch folders are removed");
      },
    );

    await t.step(
      "--keep leaves the sandbox running for a look, untouched by other commands; --cleanup removes it",
      async () => {
        const r = await stowage(["verify", "--unit", solo, "--keep", "--json"], { env: env.env });
        assert.equal(r.code, 0, r.stderr);
        const [report] = (JSON.parse(r.stdout) as { reports: VerifyReport[] }).reports;
        assert.equal(report.status, "healthy");
        assert.equal(report.kept?.remove, "stowage verify --cleanup");
        const running = (await docker(
          "ps",
          "--filter",
          `label=stowage.sandbox=${report.runId}`,
          "--format",
          "{{.Names}} {{.Ports}}",
        )).stdout.trim();
        assert.equal(running, `verify-${report.runId}-${solo}`, "running, no published port");
        const next = await stowage(["admin", "system", "recover-journal"], { env: env.env });
        assert.equal(next.code, 0, next.stderr);
        assert.ok((await sandboxObjects([report.runId])).length > 0, "a kept sandbox stays");
        const cleanup = await stowage(["verify", "--cleanup"], { env: env.env });
        assert.equal(cleanup.code, 0, cleanup.stderr);
        assert.match(cleanup.stdout, new RegExp(`sandbox ${report.runId} of ${solo}: removed`));
        assert.deepEqual(await sandboxObjects([report.runId]), []);
      },
    );

    await t.step(
      "a backup of an emptied volume fails the drill, naming the unhealthy service",
      async () => {
        await docker("exec", stack.container("app"), "sh", "-c", "rm -f /data/greeting");
        const b = await stowage(["backup", "--unit", stack.project], { env: env.env });
        assert.equal(b.code, 0, b.stderr);
        const r = await stowage(["verify", "--unit", stack.project, "--latest"], { env: env.env });
        assert.equal(r.code, 22, r.stderr + r.stdout);
        assert.match(r.stdout, /FAILED/);
        assert.match(r.stderr, /^stowage: Verify of '[^']+' failed: service app unhealthy/m);
        assert.match(r.stderr, /^hint: /m);
        const runId = /\(run ([0-9a-f]{8})\)/.exec(r.stdout)?.[1];
        assert.ok(runId, r.stdout);
        assert.deepEqual(await sandboxObjects([runId]), []);
      },
    );

    await t.step(
      "SIGTERM mid-drill: the drill removes its sandbox itself and exits 130",
      async () => {
        const { runId, result } = await killAtFirstSandboxContainer(
          ["verify", "--unit", solo, "--backup-id", firstBackup],
          env.env,
          "SIGTERM",
        );
        assert.equal(result.code, 130, result.stderr);
        assert.match(result.stderr, /interrupted/);
        assert.deepEqual(await sandboxObjects([runId]), []);
        assert.equal(await exists(`${env.stateDir}/verify-sandboxes.json`), false);
      },
    );

    await t.step(
      "SIGKILL mid-drill leaves sandbox objects; the next command removes them",
      async () => {
        const { runId } = await killAtFirstSandboxContainer(
          ["verify", "--unit", solo, "--backup-id", firstBackup],
          env.env,
          "SIGKILL",
        );
        const left = await sandboxObjects([runId]);
        assert.ok(left.some((o) => o.startsWith("container")), left.join(", "));
        assert.ok(left.some((o) => o.startsWith("volume")), left.join(", "));
        assert.equal(await exists(`${env.stateDir}/verify/${runId}`), true);

        const next = await stowage(["admin", "system", "recover-journal"], { env: env.env });
        assert.equal(next.code, 0, next.stderr);
        assert.deepEqual(await sandboxObjects([runId]), []);
        assert.equal(await exists(`${env.stateDir}/verify/${runId}`), false);
        assert.equal(await exists(`${env.stateDir}/verify-sandboxes.json`), false);
      },
    );

    await t.step(
      "a point without a recipe (scope minimal) is unverifiable: exit 23, the reason, nothing created",
      async () => {
        const b = await stowage(["backup", "--unit", solo, "--scope", "minimal", "--json"], {
          env: env.env,
        });
        assert.equal(b.code, 0, b.stderr);
        const id = JSON.parse(b.stdout).backupId as string;
        const r = await stowage(["verify", "--unit", solo, "--backup-id", id, "--json"], {
          env: env.env,
        });
        assert.equal(r.code, 23, r.stderr + r.stdout);
        const [report] = JSON.parse(r.stdout).reports;
        assert.equal(report.status, "unverifiable");
        assert.equal(report.error.code, "verify.unverifiable");
        assert.match(report.error.message, /holds no recipe \(scope minimal\)/);
        assert.match(report.error.hint, /scope standard or full/);
        assert.deepEqual(await sandboxObjects([report.runId]), []);
      },
    );
  } finally {
    await stack.down();
    await cleanupDocker();
    // A failed step may leave a sandbox of these units behind.
    for (const unit of [stack.project, solo]) await cleanupDocker(`stowage.sandbox.unit=${unit}`);
    await env.cleanup();
    await Deno.remove(stack.dir, { recursive: true }).catch(() => {});
  }
});
