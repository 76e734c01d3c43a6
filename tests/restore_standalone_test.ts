/**
 * A standalone container recreated from its saved inspect data through the Engine API: name,
 * image, entrypoint, command, environment (redacted values from --env-file), mounts, network with
 * a fixed address, ports, restart policy, labels, init. Without the redacted values it refuses.
 */
import assert from "node:assert/strict";
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
import type { RestoreReport } from "../core/restore/run.ts";

Deno.test("a standalone container comes back from its inspect data; redacted values come from --env-file", async () => {
  const image = await ensureTestImage();
  const env = await testRepoEnv();
  const name = testName("solo");
  const vol = testName("solo-data");
  const net = testName("solo-net");
  const sub = testSubnet();
  const port = String(20000 + Math.floor(Math.random() * 30000));
  const secret = `tok-${crypto.randomUUID()}`;
  const envFile = `${env.dir}/secrets.env`;
  try {
    await docker("volume", "create", "--label", TEST_LABEL, vol);
    await docker(
      "network",
      "create",
      "--label",
      TEST_LABEL,
      "--subnet",
      sub.subnet,
      "--gateway",
      sub.gateway,
      net,
    );
    await docker(
      "run",
      "-d",
      "--init",
      "--name",
      name,
      "--label",
      TEST_LABEL,
      "--label",
      "role=solo",
      "--network",
      net,
      "--ip",
      `${sub.prefix}.20`,
      "-p",
      `127.0.0.1:${port}:8080`,
      "--restart",
      "unless-stopped",
      "-e",
      "PLAIN=1",
      "-e",
      `API_TOKEN=${secret}`,
      "-v",
      `${vol}:/data`,
      "--entrypoint",
      "sh",
      image,
      "-c",
      "echo solo > /data/hello; exec sleep 1000000",
    );
    const original = JSON.parse((await docker("inspect", name)).stdout)[0];
    const b = await stowage(["backup", "--unit", name, "--json"], { env: env.env });
    assert.equal(b.code, 0, b.stderr);

    await docker("rm", "-f", "-v", name);
    await docker("volume", "rm", vol);
    await docker("network", "rm", net);

    const refused = await stowage(["restore", "--unit", name, "--latest", "--start", "--yes"], {
      env: env.env,
    });
    assert.equal(refused.code, 14, refused.stderr);
    assert.match(refused.stderr, /no value for redacted API_TOKEN/);
    assert.match(refused.stderr, /--env-file/);
    assert.notEqual(
      (await sh("docker", ["inspect", name], { check: false })).code,
      0,
      "nothing was created",
    );

    await Deno.writeTextFile(envFile, `# values for redacted variables\nAPI_TOKEN=${secret}\n`, {
      mode: 0o600,
    });
    const r = await stowage([
      "restore",
      "--unit",
      name,
      "--latest",
      "--start",
      "--yes",
      "--env-file",
      envFile,
      "--json",
    ], { env: env.env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      !r.stdout.includes(secret) && !r.stderr.includes(secret),
      "the secret is never printed",
    );
    const report = (JSON.parse(r.stdout) as { report: RestoreReport }).report;
    assert.equal(report.container?.name, name);
    assert.deepEqual(report.running.map((c) => [c.name, c.state]), [[name, "running"]]);

    const now = JSON.parse((await docker("inspect", name)).stdout)[0];
    assert.equal(now.Config.Image, original.Config.Image);
    assert.deepEqual(now.Config.Entrypoint, original.Config.Entrypoint);
    assert.deepEqual(now.Config.Cmd, original.Config.Cmd);
    assert.deepEqual(now.Config.Env.sort(), original.Config.Env.sort());
    assert.deepEqual(now.Config.Labels, original.Config.Labels);
    assert.deepEqual(now.HostConfig.RestartPolicy, original.HostConfig.RestartPolicy);
    assert.deepEqual(now.HostConfig.PortBindings, original.HostConfig.PortBindings);
    assert.equal(now.HostConfig.Init, true);
    assert.equal(now.NetworkSettings.Networks[net].IPAddress, `${sub.prefix}.20`);
    assert.deepEqual(
      now.Mounts.map((m: { Name: string; Destination: string }) => [m.Name, m.Destination]),
      [[vol, "/data"]],
    );
    assert.equal((await docker("exec", name, "cat", "/data/hello")).stdout, "solo\n");
    const network = JSON.parse((await docker("network", "inspect", net)).stdout)[0];
    assert.equal(network.IPAM.Config[0].Subnet, sub.subnet);
  } finally {
    await sh("docker", ["rm", "-f", "-v", name], { check: false });
    await cleanupDocker();
    await env.cleanup();
  }
});
