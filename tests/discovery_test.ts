/**
 * Discovery end to end: the fixture stack (docker-compose 1.29) and a standalone container on the
 * real engine, gathered by the adapter and turned into units. Other tests share the engine, so
 * only the units made here are looked at.
 */
import assert from "node:assert/strict";
import { EngineClient } from "../adapters/docker/engine.ts";
import { discoverUnits } from "../core/discovery.ts";
import type { Unit } from "../core/model.ts";
import { startOrder, stopOrder } from "../core/order.ts";
import { docker, ensureTestImage, sh, TEST_IMAGE, TEST_LABEL, testName } from "./support/docker.ts";
import { createFixtureStack } from "./support/fixture.ts";

function unitNamed(units: Unit[], name: string): Unit {
  const u = units.find((x) => x.name === name);
  assert.ok(u, `unit '${name}' was discovered`);
  return u;
}

Deno.test("the fixture stack and a standalone container are discovered as units (one-offs are not)", async () => {
  await ensureTestImage();
  const fx = await createFixtureStack({ name: "disco" });
  const solo = testName("disco-solo");
  const soloData = await Deno.makeTempDir({ prefix: "stowage-disco-solo-" });
  using engine = EngineClient.fromConfig(undefined);
  try {
    await fx.up();
    await docker(
      "run",
      "-d",
      "--init",
      "--label",
      TEST_LABEL,
      "--name",
      solo,
      "-v",
      `${soloData}:/srv/data`,
      "-v",
      "/etc/hostname:/etc/host-name:ro",
      "--tmpfs",
      "/scratch",
      TEST_IMAGE,
    );
    // A stopped service must still be part of its unit; a one-off `run` container must not.
    await fx.compose("stop", "-t", "1", "web");
    await fx.compose("run", "-d", "--no-deps", "app", "sleep", "1000");

    const state = await engine.gatherState();
    const units = discoverUnits(state);
    const ofProject = state.containers.filter((c) =>
      c.Config.Labels?.["com.docker.compose.project"] === fx.project
    );
    assert.equal(ofProject.length, 4, "three services plus the one-off");
    assert.deepEqual(
      units.filter((x) =>
        x.containers.some((c) => c.labels["com.docker.compose.project"] === fx.project)
      ).map((x) => x.name),
      [fx.project],
    );
    const names = units.map((u) => u.name);
    assert.deepEqual(names, [...names].sort(), "units are sorted by name");

    // ---- the stack
    const u = unitNamed(units, fx.project);
    assert.equal(u.kind, "stack");
    assert.equal(u.workingDir, fx.dir);
    assert.deepEqual(u.files, [
      { path: fx.composeFile, kind: "compose", exists: true },
      { path: `${fx.dir}/.env`, kind: "env", exists: true },
    ]);
    assert.match(state.files[fx.composeFile]!, /version: "2.4"/);
    assert.deepEqual(
      u.containers.map((c) => [c.name, c.service, c.state, c.running]),
      [
        [fx.container("app"), "app", "running", true],
        [fx.container("db"), "db", "running", true],
        [fx.container("web"), "web", "exited", false],
      ],
    );
    assert.deepEqual(u.dependsOn, { app: ["db"], db: [], web: ["app"] });
    assert.deepEqual(startOrder(u), [fx.container("db"), fx.container("app"), fx.container("web")]);
    assert.deepEqual(stopOrder(u), [fx.container("web"), fx.container("app"), fx.container("db")]);

    assert.deepEqual(u.images.map((i) => i.reference), [TEST_IMAGE]);
    assert.match(u.images[0].id, /^sha256:/);
    assert.deepEqual(u.images[0].repoDigests, [], "an imported image has no repo digest");

    assert.deepEqual(
      u.volumes.map((v) => [v.name, v.composeName, v.usedBy, v.external, v.driver]),
      [
        [fx.volume("app_data"), "app_data", [fx.container("app")], false, "local"],
        [fx.volume("db_data"), "db_data", [fx.container("db")], false, "local"],
      ],
    );
    assert.equal(u.volumes[1].mountpoint, `/var/lib/docker/volumes/${fx.volume("db_data")}/_data`);
    assert.equal(u.volumes[1].labels["com.docker.compose.project"], fx.project);

    assert.deepEqual(u.binds, [{
      source: `${fx.dir}/html`,
      usedBy: [fx.container("app"), fx.container("web")],
      destinations: ["/var/www"],
      safe: true,
    }]);

    assert.equal(u.networks.length, 1);
    const net = u.networks[0];
    assert.equal(net.name, `${fx.project}_backend`);
    assert.equal(net.driver, "bridge");
    assert.equal(net.ipam.config[0].subnet, fx.subnet);
    const prefix = fx.subnet.replace(/\.0\/24$/, "");
    assert.equal(net.ipam.config[0].gateway, `${prefix}.1`);
    assert.equal(net.labels["com.docker.compose.network"], "backend");
    const dbAddr = net.containers.find((c) => c.name === fx.container("db"));
    assert.deepEqual(dbAddr, { name: fx.container("db"), ipv4: `${prefix}.10` });
    assert.deepEqual(net.containers.map((c) => c.name), [
      fx.container("app"),
      fx.container("db"),
      fx.container("web"),
    ]);
    const db = u.containers.find((c) => c.service === "db")!;
    assert.equal(
      db.networks[net.name].ipv4,
      `${prefix}.10`,
      "db's fixed address comes from IPAMConfig",
    );
    assert.ok(db.networks[net.name].aliases.includes("db"));
    assert.equal(u.containers.find((c) => c.service === "app")!.networks[net.name].ipv4, undefined);
    assert.deepEqual(u.gaps, []);

    // No secret given to the stack appears in what discovery returns.
    const text = JSON.stringify(u);
    for (const secret of fx.secrets) {
      assert.ok(!text.includes(secret), "secret leaked into the unit");
    }

    // ---- the standalone container
    const s = unitNamed(units, solo);
    assert.equal(s.kind, "standalone");
    assert.deepEqual(s.containers.map((c) => [c.name, c.service, c.running]), [[
      solo,
      undefined,
      true,
    ]]);
    assert.deepEqual(s.files, []);
    assert.deepEqual(s.networks, [], "the default bridge is not saved");
    assert.deepEqual(s.binds.map((b) => [b.source, b.safe]), [["/etc/hostname", false], [
      soloData,
      true,
    ]]);
    assert.deepEqual(s.gaps.map((g) => [g.kind, g.item]), [["bind-unsafe", "/etc/hostname"], [
      "tmpfs",
      `${solo}:/scratch`,
    ]]);
    assert.deepEqual(startOrder(s), [solo]);

    // ---- the compose file gone from this host
    await Deno.rename(fx.composeFile, `${fx.composeFile}.moved`);
    try {
      const again = unitNamed(discoverUnits(await engine.gatherState()), fx.project);
      assert.deepEqual(again.files, [
        { path: fx.composeFile, kind: "compose", exists: false },
        { path: `${fx.dir}/.env`, kind: "env", exists: true },
      ]);
      assert.deepEqual(again.gaps.map((g) => [g.kind, g.item]), [[
        "compose-file-missing",
        fx.composeFile,
      ]]);
      assert.deepEqual(
        again.dependsOn,
        { app: [], db: [], web: [] },
        "docker-compose 1.29 labels carry no depends_on",
      );
    } finally {
      await Deno.rename(`${fx.composeFile}.moved`, fx.composeFile);
    }
  } finally {
    await sh("docker", ["rm", "-f", "-v", solo], { check: false });
    await fx.down();
    await Deno.remove(fx.dir, { recursive: true }).catch(() => {});
    await Deno.remove(soloData, { recursive: true });
  }
});
