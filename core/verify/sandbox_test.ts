import assert from "node:assert/strict";
import { parse } from "yaml";
import type { EngineContainer, EngineNetwork, EngineVolume } from "../engine_types.ts";
import type { NetworkInfo, Unit } from "../model.ts";
import type { NetworksDocument, Recipe } from "../recipe.ts";
import { buildTags, parseSnapshot } from "../tags.ts";
import { restorePoints } from "../restore/points.ts";
import { type HostView, planRestore, type RestoreOptions } from "../restore/plan.ts";
import { checkSandboxPlan, planSandbox } from "./sandbox.ts";

const BID = "2025-01-31T10-00-00Z";
const TS = "2025-01-31T10:00:00Z";
const P = "shop";
const RUN = "1a2b3c4d";
const SCRATCH = "/var/lib/stowage/verify/1a2b3c4d";
const SBX = `verify-${RUN}-${P}`;

function snap(
  unit: string,
  type: "recipe" | "network" | "volume" | "bind",
  extra: { volume?: string; path?: string } = {},
) {
  const id = crypto.randomUUID().replaceAll("-", "");
  return parseSnapshot({
    id,
    short_id: id.slice(0, 8),
    time: TS,
    hostname: "h1",
    paths: [
      extra.volume
        ? `/var/lib/docker/volumes/${extra.volume}/_data`
        : extra.path ?? `/${type}.json`,
    ],
    tags: buildTags({ unit, type, backupId: BID, timestamp: TS, scope: "standard", ...extra }),
  });
}

const netInfo: NetworkInfo = {
  id: "n1",
  name: `${P}_backend`,
  driver: "bridge",
  scope: "local",
  internal: false,
  attachable: false,
  enableIPv6: false,
  ipam: {
    driver: "default",
    config: [{ subnet: "10.9.0.0/24", gateway: "10.9.0.1" }],
    options: {},
  },
  options: { "com.docker.network.bridge.name": "br-shop" },
  labels: { "com.docker.compose.project": P, "com.docker.compose.network": "backend" },
  containers: [],
};

const compose = `version: "2.4"
services:
  db:
    image: busybox:1
    container_name: shop-db
    restart: always
    ports: ["5432:5432"]
    volumes: [db:/data, ./html:/www, /srv/shared/cfg:/cfg:ro]
    networks:
      backend:
        ipv4_address: 10.9.0.10
  app:
    image: busybox:1
    mode: "0755"
    labels: [tier=front]
    depends_on: [db]
volumes:
  db: {}
  cache: {}
networks:
  backend:
    ipam:
      config: [{ subnet: 10.9.0.0/24 }]
`;

const unit: Unit = {
  name: P,
  kind: "stack",
  workingDir: "/srv/shop",
  files: [],
  containers: [],
  dependsOn: { app: ["db"] },
  images: [],
  volumes: [{
    name: `${P}_db`,
    driver: "local",
    mountpoint: `/var/lib/docker/volumes/${P}_db/_data`,
    labels: { "com.docker.compose.project": P, "com.docker.compose.volume": "db" },
    options: {},
    usedBy: [],
    composeName: "db",
    external: false,
  }],
  binds: [],
  networks: [netInfo],
  gaps: [],
};

const recipe: Recipe = {
  format: 1,
  stowageVersion: "0.1.0",
  backupId: BID,
  scope: "standard",
  createdAt: TS,
  host: "h1",
  unit,
  files: [
    { path: "/srv/shop/docker-compose.yml", kind: "compose", mode: 0o644, content: compose },
    { path: "/srv/shop/.env", kind: "env", mode: 0o600, content: "A=1\n" },
  ],
  containers: [],
};
const networks: NetworksDocument = { format: 1, backupId: BID, unit: P, networks: [netInfo] };
const point = restorePoints([
  snap(P, "recipe"),
  snap(P, "network"),
  snap(P, "volume", { volume: `${P}_db` }),
  snap(P, "bind", { path: "/srv/shop/html" }),
], P)[0];

const sandbox = () =>
  planSandbox({
    point,
    recipe,
    networks,
    runId: RUN,
    scratchDir: SCRATCH,
    usedSubnets: ["10.9.0.0/24", "172.17.0.0/16"],
    caps: { cpus: 0.5, memoryBytes: 256 * 1048576 },
  });

const options: RestoreOptions = {
  parts: [],
  volumes: [],
  start: true,
  stop: false,
  pinImages: false,
  networks: "refuse",
  secrets: {},
};

/** The live unit as the host shows it: running, with its volume, network and files. */
function liveHost(): HostView {
  const live: EngineContainer = {
    Id: "f".repeat(64),
    Name: `/${P}_db_1`,
    Image: "sha256:img",
    State: { Status: "running", Running: true },
    Config: { Image: "busybox:1", Labels: { "com.docker.compose.project": P } },
    HostConfig: { NetworkMode: `${P}_backend` },
    Mounts: [{
      Type: "volume",
      Name: `${P}_db`,
      Source: `/var/lib/docker/volumes/${P}_db/_data`,
      Destination: "/data",
      RW: true,
    }],
    NetworkSettings: { Networks: { [`${P}_backend`]: {} } },
  };
  const vol: EngineVolume = {
    Name: `${P}_db`,
    Driver: "local",
    Mountpoint: `/var/lib/docker/volumes/${P}_db/_data`,
  };
  const net: EngineNetwork = {
    Id: "nid",
    Name: `${P}_backend`,
    Driver: "bridge",
    Scope: "local",
    Internal: false,
    Attachable: false,
    EnableIPv6: false,
    IPAM: { Driver: "default", Config: [{ Subnet: "10.9.0.0/24" }], Options: {} },
    Options: {},
    Labels: {},
    Containers: { x: { Name: `${P}_db_1` } },
  };
  return {
    containers: [live],
    volumes: [vol],
    networks: [net],
    paths: { [`/var/lib/docker/volumes/${P}_db/_data`]: "data", "/srv/shop/html": "data" },
    files: { "/srv/shop/docker-compose.yml": compose },
    composeCommand: ["docker-compose"],
  };
}

Deno.test("sandbox: volumes, networks, binds and files get sandbox names and places", () => {
  const s = sandbox();
  assert.deepEqual(s.problems, []);
  assert.equal(s.objects.name, SBX);
  assert.deepEqual(s.objects.volumes, [`${SBX}_db`]);
  assert.deepEqual(s.objects.networks, [`${SBX}_backend`, `${SBX}_default`]);
  assert.equal(s.point.unit, SBX);
  assert.deepEqual(s.point.volumes.map((v) => v.name), [`${SBX}_db`]);
  assert.deepEqual(s.point.binds.map((b) => b.name), [`${SCRATCH}/binds/srv/shop/html`]);
  assert.deepEqual(s.recipe!.files.map((f) => f.path), [
    `${SCRATCH}/files/docker-compose.yml`,
    `${SCRATCH}/files/.env`,
  ]);
  const v = s.recipe!.unit.volumes[0];
  assert.equal(v.labels["com.docker.compose.project"], SBX);
  assert.equal(v.labels["stowage.sandbox"], RUN);
});

Deno.test("sandbox networks: internal, a free subnet, the gateway moved, no fixed bridge name", () => {
  const n = sandbox().networks!.networks[0];
  assert.equal(n.name, `${SBX}_backend`);
  assert.equal(n.internal, true);
  assert.deepEqual(n.ipam.config, [{ subnet: "10.240.0.0/24", gateway: "10.240.0.1" }]);
  assert.deepEqual(n.options, {});
  assert.equal(n.labels["stowage.sandbox"], RUN);
  assert.equal(n.labels["com.docker.compose.project"], SBX);
});

Deno.test("sandbox compose: no ports, no restart, moved address and binds, sandbox names, caps, labels", () => {
  const doc = parse(sandbox().recipe!.files[0].content, { version: "1.1" });
  const db = doc.services.db;
  assert.equal(db.ports, undefined);
  assert.equal(db.restart, undefined);
  assert.equal(db.container_name, `${SBX}-shop-db`);
  assert.equal(db.networks.backend.ipv4_address, "10.240.0.10");
  assert.deepEqual(db.volumes, [
    "db:/data",
    `${SCRATCH}/binds/srv/shop/html:/www`,
    `${SCRATCH}/binds/srv/shared/cfg:/cfg:ro`,
  ]);
  assert.equal(db.cpus, 0.5);
  assert.equal(db.mem_limit, 256 * 1048576);
  assert.equal(db.labels["stowage.sandbox"], RUN);
  assert.deepEqual(doc.services.app.labels, [
    "tier=front",
    `stowage.sandbox=${RUN}`,
    `stowage.sandbox.unit=${P}`,
  ]);
  // YAML 1.1 strings stay strings for compose.
  assert.equal(doc.services.app.mode, "0755");
  assert.deepEqual(doc.volumes.db, { external: true, name: `${SBX}_db` });
  assert.equal(doc.volumes.cache.name, `${SBX}_cache`);
  assert.deepEqual(doc.networks.backend, { external: true, name: `${SBX}_backend` });
  assert.deepEqual(doc.networks.default.internal, true);
  assert.equal(doc.networks.default.name, `${SBX}_default`);
});

Deno.test("sandbox: host networking and another container's namespaces make a unit unverifiable", () => {
  const bad = compose.replace("    container_name: shop-db\n", "    network_mode: host\n")
    .replace("  app:\n", "  app:\n    pid: container:other\n");
  const s = planSandbox({
    point,
    recipe: { ...recipe, files: [{ ...recipe.files[0], content: bad }] },
    networks,
    runId: RUN,
    scratchDir: SCRATCH,
    usedSubnets: [],
    caps: {},
  });
  assert.equal(s.problems.length, 2);
  assert.match(s.problems[0], /network_mode: host/);
  assert.match(s.problems[1], /pid namespace of container other/);
});

Deno.test("the restore plan of a sandbox touches only sandbox objects while the live unit runs", () => {
  const s = sandbox();
  const plan = planRestore({
    point: s.point,
    recipe: s.recipe,
    networks: s.networks,
    options,
    host: liveHost(),
  });
  assert.deepEqual(plan.conflicts, []);
  assert.deepEqual(checkSandboxPlan(plan, s.objects), []);
  assert.deepEqual(plan.stop, []);
  assert.equal(plan.compose?.project, SBX);
  assert.equal(plan.compose?.cwd, `${SCRATCH}/files`);
  assert.deepEqual(plan.data.map((d) => [d.name, d.target ?? "created"]), [
    [`${SBX}_db`, "created"],
    [`${SCRATCH}/binds/srv/shop/html`, `${SCRATCH}/binds/srv/shop/html`],
  ]);
});

Deno.test("checkSandboxPlan refuses a plan that reaches a live object", () => {
  const s = sandbox();
  const plan = planRestore({ point, recipe, networks, options, host: liveHost() });
  const violations = checkSandboxPlan(plan, s.objects);
  assert.ok(violations.some((v) => v.startsWith(`the plan is for ${P}`)), violations.join("\n"));
  assert.ok(violations.some((v) => v.includes(`volume ${P}_db is not a sandbox volume`)));
  assert.ok(
    violations.some((v) => v.includes("bind folder /srv/shop/html goes to /srv/shop/html")),
  );
  assert.ok(violations.some((v) => v.includes("/srv/shop/docker-compose.yml is outside")));
});

Deno.test("a standalone container: sandbox name, no ports, no restart, caps, its own internal network", () => {
  const saved: EngineContainer = {
    Id: "a".repeat(64),
    Name: "/solo",
    Image: "sha256:img",
    State: { Status: "running", Running: true },
    Config: { Image: "busybox:1", Labels: {} },
    HostConfig: {
      NetworkMode: "default",
      PortBindings: { "80/tcp": [{ HostIp: "", HostPort: "8080" }] },
      RestartPolicy: { Name: "always" },
      Binds: ["solo_data:/data", "/srv/solo/conf:/conf:ro"],
    },
    Mounts: [],
    NetworkSettings: { Networks: { bridge: {} } },
  };
  const soloUnit: Unit = { ...unit, name: "solo", kind: "standalone", volumes: [], networks: [] };
  const soloPoint = restorePoints([
    snap("solo", "recipe"),
    snap("solo", "volume", { volume: "solo_data" }),
  ], "solo")[0];
  const s = planSandbox({
    point: soloPoint,
    recipe: { ...recipe, unit: soloUnit, files: [], containers: [saved] },
    runId: RUN,
    scratchDir: SCRATCH,
    usedSubnets: [],
    caps: { cpus: 1, memoryBytes: 1048576 * 64 },
  });
  assert.deepEqual(s.problems, []);
  const c = s.recipe!.containers[0];
  assert.equal(c.Name, `/verify-${RUN}-solo`);
  assert.deepEqual(c.HostConfig.PortBindings, {});
  assert.deepEqual(c.HostConfig.RestartPolicy, { Name: "no", MaximumRetryCount: 0 });
  assert.equal(c.HostConfig.NanoCpus, 1e9);
  assert.equal(c.HostConfig.NetworkMode, `verify-${RUN}-solo_net`);
  assert.deepEqual(c.HostConfig.Binds, [
    `verify-${RUN}-solo_data:/data`,
    `${SCRATCH}/binds/srv/solo/conf:/conf:ro`,
  ]);
  assert.deepEqual(Object.keys(c.NetworkSettings.Networks!), [`verify-${RUN}-solo_net`]);
  assert.equal(s.networks!.networks[0].internal, true);
  const plan = planRestore({
    point: s.point,
    recipe: s.recipe,
    networks: s.networks,
    options,
    host: { ...liveHost(), containers: [{ ...saved, Id: "b".repeat(64) }] },
  });
  assert.deepEqual(plan.conflicts, []);
  assert.deepEqual(checkSandboxPlan(plan, s.objects), []);
  assert.equal(plan.container?.name, `verify-${RUN}-solo`);
  assert.equal(plan.container?.replace, false);
});

Deno.test("sandbox: settings that reach into the host make a service unverifiable unless allowed", () => {
  const powerful = compose.replace(
    "  app:\n",
    "  app:\n    privileged: true\n    cap_add: [NET_ADMIN]\n    devices: [/dev/sda:/dev/sda]\n",
  );
  const req = {
    point,
    recipe: { ...recipe, files: [{ ...recipe.files[0], content: powerful }] },
    networks,
    runId: RUN,
    scratchDir: SCRATCH,
    usedSubnets: [],
    caps: {},
  };
  const refused = planSandbox(req);
  assert.equal(refused.problems.length, 1);
  assert.match(
    refused.problems[0],
    /service app asks for privileged, capability NET_ADMIN, device \/dev\/sda/,
  );
  const allowed = planSandbox({ ...req, allowPrivileged: true });
  assert.deepEqual(allowed.problems, []);
  assert.ok(allowed.notes.some((n) => n.startsWith("service app runs with privileged")));
});

Deno.test("sandbox compose: files named by absolute path come from the sandbox's copy", () => {
  const withFiles = compose.replace(
    "  app:\n",
    "  app:\n    env_file: [/srv/shop/app.env, /etc/shop.env]\n",
  ) + "secrets:\n  pw:\n    file: /etc/shop/pw\n";
  const s = planSandbox({
    point,
    recipe: { ...recipe, files: [{ ...recipe.files[0], content: withFiles }] },
    networks,
    runId: RUN,
    scratchDir: SCRATCH,
    usedSubnets: [],
    caps: {},
  });
  const doc = parse(s.recipe!.files[0].content, { version: "1.1" });
  assert.deepEqual(doc.services.app.env_file, [
    `${SCRATCH}/files/app.env`,
    `${SCRATCH}/files/_outside/etc/shop.env`,
  ]);
  assert.equal(doc.secrets.pw.file, `${SCRATCH}/files/_outside/etc/shop/pw`);
});
