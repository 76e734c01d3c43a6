/**
 * Network conflicts: a network of the same name with a different configuration is refused by
 * default, kept with --keep-networks, recreated with --recreate-networks, and never while a
 * container of another unit is attached (stowage does not disconnect it silently).
 */
import assert from "node:assert/strict";
import { createFixtureStack } from "./support/fixture.ts";
import {
  cleanupDocker,
  docker,
  ensureTestImage,
  sh,
  TEST_LABEL,
  testName,
  testSubnet,
} from "./support/docker.ts";
import { stowage } from "./support/cli.ts";
import { testRepoEnv } from "./support/repo.ts";

const subnetOf = async (net: string) =>
  JSON.parse((await docker("network", "inspect", net)).stdout)[0].IPAM.Config[0].Subnet;

Deno.test("an existing network with a different configuration: refuse, keep, recreate, never disconnect others", async () => {
  const s = await createFixtureStack({ name: "net" });
  const env = await testRepoEnv();
  const neighbour = testName("neighbour");
  try {
    await s.up();
    const b = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    assert.equal(b.code, 0, b.stderr);
    await s.down();

    const net = `${s.project}_backend`;
    const other = testSubnet();
    await docker("network", "create", "--label", TEST_LABEL, "--subnet", other.subnet, net);
    await docker(
      "run",
      "-d",
      "--init",
      "--name",
      neighbour,
      "--label",
      TEST_LABEL,
      "--network",
      net,
      await ensureTestImage(),
    );

    const refused = await stowage([
      "restore",
      "--unit",
      s.project,
      "--latest",
      "--only",
      "networks",
      "--yes",
    ], { env: env.env });
    assert.equal(refused.code, 14, refused.stderr);
    assert.match(refused.stderr, /network '.*_backend': it exists with a different configuration/);
    assert.match(refused.stderr, /--recreate-networks or --keep-networks/);

    const kept = await stowage([
      "restore",
      "--unit",
      s.project,
      "--latest",
      "--only",
      "networks",
      "--keep-networks",
      "--yes",
    ], { env: env.env });
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(await subnetOf(net), other.subnet);

    const blocked = await stowage([
      "restore",
      "--unit",
      s.project,
      "--latest",
      "--only",
      "networks",
      "--recreate-networks",
      "--yes",
    ], { env: env.env });
    assert.equal(blocked.code, 14, blocked.stderr);
    assert.ok(blocked.stderr.includes(`'${neighbour}'`), blocked.stderr);
    assert.equal(
      (await docker("inspect", "-f", "{{.State.Running}}", neighbour)).stdout.trim(),
      "true",
      "the neighbour was left alone",
    );
    assert.equal(await subnetOf(net), other.subnet);

    await docker("rm", "-f", neighbour);
    const recreated = await stowage([
      "restore",
      "--unit",
      s.project,
      "--latest",
      "--only",
      "networks",
      "--recreate-networks",
      "--yes",
    ], { env: env.env });
    assert.equal(recreated.code, 0, recreated.stderr);
    assert.equal(await subnetOf(net), s.subnet);
    const labels = JSON.parse((await docker("network", "inspect", net)).stdout)[0].Labels;
    assert.equal(labels["com.docker.compose.project"], s.project);
  } finally {
    await sh("docker", ["rm", "-f", neighbour], { check: false });
    await s.down();
    await cleanupDocker();
    await env.cleanup();
    await Deno.remove(s.dir, { recursive: true }).catch(() => {});
  }
});
