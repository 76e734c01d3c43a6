/** `stowage dry-run --json` describes the fixture stack correctly and has no side effects. */
import assert from "node:assert/strict";
import { createFixtureStack } from "./support/fixture.ts";
import { cleanupDocker, docker, TEST_IMAGE } from "./support/docker.ts";
import { stowage } from "./support/cli.ts";
import { testRepoEnv } from "./support/repo.ts";

Deno.test("dry-run --json describes the fixture stack and writes nothing", async (t) => {
  const s = await createFixtureStack({ name: "dry" });
  const env = await testRepoEnv();
  try {
    await s.up();
    await docker(
      "exec",
      s.container("db"),
      "sh",
      "-c",
      "dd if=/dev/zero of=/data/zeros bs=1k count=512 2>/dev/null",
    );
    const before = await listTree(env.dir);
    const r = await stowage(["dry-run", "--unit", s.project, "--json"], { env: env.env });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.dryRun, true);
    assert.equal(doc.units.length, 1);
    const u = doc.units[0];
    assert.equal(u.unit, s.project);
    assert.equal(u.kind, "stack");
    assert.equal(u.scope, "standard");
    assert.deepEqual(u.stopOrder, [s.container("web"), s.container("app"), s.container("db")]);
    assert.deepEqual(u.startOrder, [s.container("db"), s.container("app"), s.container("web")]);
    const items = Object.fromEntries(
      u.items.map((
        i: { type: string; item: string; sizeBytes?: number },
      ) => [`${i.type}:${i.item}`, i]),
    );
    assert.deepEqual(
      Object.keys(items).sort(),
      [
        `bind:${s.dir}/html`,
        // The networks are in the recipe (format 4), listed below as the unit's networks.
        "recipe:recipe.json",
        `volume:${s.volume("app_data")}`,
        `volume:${s.volume("db_data")}`,
        // The test image was made by `docker import`: no repo digest, so it is exported too.
        `image:${TEST_IMAGE}`,
      ].sort(),
    );
    assert.ok(items[`volume:${s.volume("db_data")}`].sizeBytes >= 512 * 1024);
    assert.ok(items[`image:${TEST_IMAGE}`].sizeBytes > 0);
    assert.deepEqual(u.networks, [{
      name: `${s.project}_backend`,
      driver: "bridge",
      subnets: [s.subnet],
    }]);
    assert.ok(
      u.files.some((f: { path: string; kind: string; exists: boolean }) =>
        f.path === s.composeFile && f.kind === "compose" && f.exists
      ),
    );
    assert.ok(
      u.files.some((f: { path: string; kind: string }) =>
        f.path === `${s.dir}/.env` && f.kind === "env"
      ),
    );
    assert.ok(u.estimatedDowntimeMs > 0);
    for (const secret of s.secrets) assert.ok(!r.stdout.includes(secret));
    // No side effects: no repository, no password file, no state written.
    assert.deepEqual(await listTree(env.dir), before);

    // The text form names the same things for a person.
    const text = await stowage(["dry-run", "--unit", s.project], { env: env.env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /stop order: .*_web_1 -> .*_app_1 -> .*_db_1/);
    assert.match(text.stdout, /Nothing was changed/);

    // On the same stack (one docker-compose up fewer): a near miss of its name is suggested.
    await t.step("dry-run with an unknown unit names the closest ones", async () => {
      const r = await stowage(["dry-run", "--unit", s.project.slice(0, -1) + "x"], {
        env: env.env,
      });
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, new RegExp(`Unknown unit .*did you mean '${s.project}'`));
    });
  } finally {
    await s.down();
    await cleanupDocker();
    await env.cleanup();
    await Deno.remove(s.dir, { recursive: true }).catch(() => {});
  }
});

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    out.push(e.name);
    if (e.isDirectory) {
      out.push(...(await listTree(`${dir}/${e.name}`)).map((n) => `${e.name}/${n}`));
    }
  }
  return out.sort();
}
