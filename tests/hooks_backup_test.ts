/**
 * Issue 7's "done when": the fixture stack's backup runs the TypeScript pre/post hook pair from
 * `admin hooks init` (maintenance.ts), which toggles a flag inside the app container through
 * exec. The saved volume data holds the flag; the running service has it cleared afterwards.
 * Also: an essential pre_backup failure skips the unit and touches no container.
 */
import assert from "node:assert/strict";
import { type FixtureStack, withFixtureStack } from "./support/fixture.ts";
import { docker } from "./support/docker.ts";
import { stowage } from "./support/cli.ts";
import { testRepoEnv } from "./support/repo.ts";
import type { RunReport } from "../core/report.ts";
import type { ResticSnapshot } from "../core/ports.ts";
import { parseSnapshot } from "../core/tags.ts";
import { folderIn } from "./support/backup.ts";

async function maintenanceHooks(s: FixtureStack) {
  const hooksDir = await Deno.makeTempDir({ prefix: "stowage-hookbk-" });
  const init = await stowage(["admin", "hooks", "init", hooksDir]);
  assert.equal(init.code, 0, init.stderr);
  const env = await testRepoEnv(`units:
  ${s.project}:
    hooks:
      pre_backup: [{ module: ${hooksDir}/maintenance.ts }]
      post_backup: [{ module: ${hooksDir}/maintenance.ts }]
`);
  try {
    const app = s.container("app");
    const r = await stowage(["backup", "--unit", s.project], { env: env.env });
    assert.equal(r.code, 0, r.stderr);
    // Hook output reaches stowage's log with the hook's name.
    assert.match(r.stderr, /maintenance-mode: maintenance mode on/);
    assert.match(r.stderr, /hook maintenance-mode \(pre_backup\): ok/);
    assert.match(r.stderr, /maintenance-mode: maintenance mode off; backup \S+ ok/);

    // The saved app_data volume holds the flag the pre hook set before the stop...
    const snaps = (JSON.parse(
      await env.restic("snapshots", "--json", "--tag", `unit=${s.project}`),
    ) as ResticSnapshot[])
      .map(parseSnapshot);
    const saved = folderIn(snaps, s.volume("app_data"));
    assert.ok(saved, JSON.stringify(snaps));
    const ls = await env.restic("ls", saved.snap.id, saved.path);
    assert.ok(ls.split("\n").some((l) => l.endsWith("/maintenance")), ls);
    // ...and the running service has it cleared by the post hook.
    assert.equal(
      (await docker("inspect", "-f", "{{.State.Running}}", app)).stdout.trim(),
      "true",
    );
    const flag = await docker(
      "exec",
      app,
      "sh",
      "-c",
      "test -e /data/maintenance && echo set || echo clear",
    );
    assert.equal(flag.stdout.trim(), "clear");
  } finally {
    await env.cleanup();
    await Deno.remove(hooksDir, { recursive: true });
  }
}

async function essentialFailure(s: FixtureStack) {
  const env = await testRepoEnv(`units:
  ${s.project}:
    hooks:
      pre_backup: [{ run: "echo database busy >&2; exit 3" }]
`);
  const startedAt = async () =>
    (await docker("inspect", "-f", "{{.State.StartedAt}}", s.container("app"), s.container("db")))
      .stdout;
  try {
    const before = await startedAt();
    const r = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    const report = JSON.parse(r.stdout) as RunReport;
    assert.notEqual(report.units[0].outcome, "ok", r.stdout);
    assert.match(JSON.stringify(report.units[0]), /exited with code 3: database busy/);
    assert.deepEqual(report.units[0].containersStopped, []);
    assert.equal(await startedAt(), before, "no container was stopped or restarted");
  } finally {
    await env.cleanup();
  }
}

Deno.test({
  name: "hooks around backups, on one fixture stack",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    // One stack for both steps (a stack costs docker-compose, three containers and a network);
    // each step has its own repository and config, and leaves the containers running.
    const step = (name: string, fn: () => Promise<void>) =>
      t.step({ name, fn, sanitizeResources: false, sanitizeOps: false });
    await withFixtureStack({ name: "hookbk" }, async (s) => {
      await step(
        "hooks + backup: a TypeScript pre/post pair toggles maintenance mode around the fixture stack's backup",
        () => maintenanceHooks(s),
      );
      await step(
        "hooks + backup: an essential pre_backup failure skips the unit and leaves its containers running",
        () => essentialFailure(s),
      );
    });
  },
});
