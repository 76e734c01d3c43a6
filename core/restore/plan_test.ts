import assert from "node:assert/strict";
import type { EngineContainer, EngineNetwork, EngineVolume } from "../engine_types.ts";
import type { NetworkInfo, Unit } from "../model.ts";
import { type NetworksDocument, type Recipe, REDACTED } from "../recipe.ts";
import { buildTags, parseSnapshot } from "../tags.ts";
import { restorePoints } from "./points.ts";
import {
  type HostView,
  pinCompose,
  planRestore,
  probeTargets,
  type RestoreInput,
  type RestoreOptions,
} from "./plan.ts";
import { StowageError } from "../errors.ts";
import { RECIPE_SCHEMA } from "./schema.ts";

const BID = "2025-01-31T10-00-00Z";
const TS = "2025-01-31T10:00:00Z";
const P = "shop";

function snap(
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
    tags: buildTags({ unit: P, type, backupId: BID, timestamp: TS, scope: "standard", ...extra }),
  });
}

const point = restorePoints([
  snap("recipe"),
  snap("network"),
  snap("volume", { volume: `${P}_db` }),
  snap("bind", { path: "/srv/shop/html" }),
], P)[0];

function container(
  name: string,
  opts: {
    service?: string;
    project?: string;
    running?: boolean;
    volume?: string;
    networks?: Record<string, string | undefined>;
    env?: string[];
  } = {},
): EngineContainer {
  const labels: Record<string, string> = {};
  if (opts.project) {
    labels["com.docker.compose.project"] = opts.project;
    labels["com.docker.compose.service"] = opts.service ?? name;
  }
  return {
    Id: [...name].map((ch) => ch.charCodeAt(0).toString(16)).join("").padEnd(64, "0").slice(0, 64)
      .replace(/^./, "f"),
    Name: `/${name}`,
    Image: "sha256:img",
    State: { Status: opts.running ? "running" : "exited", Running: !!opts.running },
    Config: { Image: "busybox:1", Env: opts.env ?? [], Labels: labels, Hostname: name.slice(0, 4) },
    HostConfig: {
      NetworkMode: Object.keys(opts.networks ?? {})[0] ?? "default",
      RestartPolicy: { Name: "always" },
    },
    Mounts: opts.volume
      ? [{
        Type: "volume",
        Name: opts.volume,
        Source: `/var/lib/docker/volumes/${opts.volume}/_data`,
        Destination: "/data",
        RW: true,
      }]
      : [],
    NetworkSettings: {
      Networks: Object.fromEntries(
        Object.entries(opts.networks ?? { bridge: undefined }).map((
          [n, ip],
        ) => [n, { IPAMConfig: ip ? { IPv4Address: ip } : null, Aliases: [name] }]),
      ),
    },
  };
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
  options: {},
  labels: { "com.docker.compose.project": P, "com.docker.compose.network": "backend" },
  containers: [{ name: `${P}_db_1`, ipv4: "10.9.0.10" }],
};

function engineNet(subnet: string, attached: string[] = []): EngineNetwork {
  return {
    Id: "nid",
    Name: `${P}_backend`,
    Driver: "bridge",
    Scope: "local",
    Internal: false,
    Attachable: false,
    EnableIPv6: false,
    IPAM: {
      Driver: "default",
      Config: [{ Subnet: subnet, Gateway: subnet.replace("0/24", "1") }],
      Options: {},
    },
    Options: {},
    Labels: { "com.docker.compose.project": P, "com.docker.compose.network": "backend" },
    Containers: Object.fromEntries(attached.map((n) => [`${n}-id`, { Name: n }])),
  };
}

const unit: Unit = {
  name: P,
  kind: "stack",
  workingDir: "/srv/shop",
  files: [],
  containers: [],
  dependsOn: { app: ["db"] },
  images: [{ reference: "busybox:1", id: "sha256:img", repoDigests: ["busybox@sha256:abc"] }],
  volumes: [{
    name: `${P}_db`,
    driver: "local",
    mountpoint: "",
    labels: { "com.docker.compose.project": P },
    options: {},
    usedBy: [],
    composeName: "db",
    external: false,
  }],
  binds: [],
  networks: [netInfo],
  gaps: [],
};

const composeText =
  `version: "2.4"\nservices:\n  db:\n    image: busybox:1\n    environment:\n      PW: \${DB_PASSWORD}\n  app:\n    image: busybox:1\n`;
const recipe: Recipe = {
  format: 1,
  stowageVersion: "0.1.0",
  backupId: BID,
  scope: "standard",
  createdAt: TS,
  host: "h1",
  unit,
  files: [
    { path: "/srv/shop/docker-compose.yml", kind: "compose", mode: 0o644, content: composeText },
    { path: "/srv/shop/.env", kind: "env", mode: 0o600, content: "APP_MODE=prod\n" },
  ],
  containers: [],
};
const networks: NetworksDocument = { format: 1, backupId: BID, unit: P, networks: [netInfo] };

const opts = (o: Partial<RestoreOptions> = {}): RestoreOptions => ({
  parts: [],
  volumes: [],
  start: false,
  stop: false,
  pinImages: false,
  networks: "refuse",
  secrets: {},
  ...o,
});

const vol = (name: string): EngineVolume => ({
  Name: name,
  Driver: "local",
  Mountpoint: `/var/lib/docker/volumes/${name}/_data`,
});

function hostView(h: Partial<HostView> = {}): HostView {
  return {
    containers: [],
    volumes: [],
    networks: [],
    paths: {},
    files: {},
    composeCommand: ["docker-compose"],
    ...h,
  };
}

function input(o: Partial<RestoreOptions>, h?: Partial<HostView>): RestoreInput {
  return { point, recipe, networks, options: opts(o), host: o.toDir ? undefined : hostView(h) };
}

Deno.test("on an empty host everything is created and nothing is overwritten", () => {
  const plan = planRestore(input({ start: true }));
  assert.deepEqual(plan.conflicts, []);
  assert.deepEqual(plan.overwrites, []);
  const db = plan.data.find((d) => d.name === `${P}_db`)!;
  assert.equal(db.state, "absent");
  assert.equal(db.preRestore, false);
  assert.deepEqual(db.create, {
    Name: `${P}_db`,
    Driver: "local",
    DriverOpts: {},
    Labels: { "com.docker.compose.project": P },
  });
  assert.equal(db.snapshotPath, `/var/lib/docker/volumes/${P}_db/_data`);
  assert.equal(plan.data.find((d) => d.kind === "bind")?.target, "/srv/shop/html");
  assert.equal(plan.networks[0].action, "create");
  assert.equal(plan.networks[0].spec.IPAM?.Config?.[0].Subnet, "10.9.0.0/24");
  assert.deepEqual(plan.files.map((f) => [f.to, f.action]), [[
    "/srv/shop/docker-compose.yml",
    "write",
  ], ["/srv/shop/.env", "write"]]);
  assert.deepEqual(plan.compose?.argv, [
    "docker-compose",
    "-p",
    P,
    "-f",
    "/srv/shop/docker-compose.yml",
    "up",
    "-d",
  ]);
  assert.equal(plan.compose?.cwd, "/srv/shop");
  assert.ok(
    plan.warnings.some((w) => w.includes("DB_PASSWORD")),
    "unset compose variables are named",
  );
});

Deno.test("a volume with data in use by a running container needs --stop, then gets a pre-restore snapshot", () => {
  const h = {
    volumes: [vol(`${P}_db`)],
    paths: { [`/var/lib/docker/volumes/${P}_db/_data`]: "data" as const },
    containers: [
      container(`${P}_db_1`, { project: P, service: "db", running: true, volume: `${P}_db` }),
      container(`${P}_app_1`, { project: P, service: "app", running: true }),
    ],
  };
  const refused = planRestore(input({ parts: ["volumes"] }, h));
  assert.equal(refused.conflicts.length, 1);
  assert.equal(refused.conflicts[0].resolve, "--stop");
  assert.match(refused.conflicts[0].message, /in use by running container 'shop_db_1'/);

  const plan = planRestore(input({ parts: ["volumes"], stop: true }, h));
  assert.deepEqual(plan.conflicts, []);
  const db = plan.data.find((d) => d.name === `${P}_db`)!;
  assert.equal(db.preRestore, true);
  assert.equal(db.create, undefined);
  assert.deepEqual(plan.stop, [`${P}_app_1`, `${P}_db_1`], "dependents stop first");
  assert.deepEqual(plan.restart, [`${P}_db_1`, `${P}_app_1`]);
  assert.ok(plan.overwrites.some((o) => o.includes("pre-restore")));
});

Deno.test("a volume used by another unit's container is refused even with --stop", () => {
  const h = {
    volumes: [vol(`${P}_db`)],
    containers: [container("intruder", { running: false, volume: `${P}_db` })],
  };
  const plan = planRestore(input({ parts: ["volumes"], stop: true }, h));
  assert.equal(plan.conflicts[0].kind, "other-unit");
  assert.match(plan.conflicts[0].message, /'intruder'/);
});

Deno.test("a different existing network: refuse by default, keep or recreate on request", () => {
  const h = { networks: [engineNet("10.8.0.0/24")] };
  const refused = planRestore(input({ parts: ["networks"] }, h));
  assert.equal(refused.conflicts[0].kind, "network");
  assert.match(refused.conflicts[0].message, /IPAM config/);
  assert.equal(refused.networks[0].action, "conflict");

  const kept = planRestore(input({ parts: ["networks"], networks: "keep" }, h));
  assert.deepEqual(kept.conflicts, []);
  assert.equal(kept.networks[0].action, "keep");

  const recreated = planRestore(input({ parts: ["networks"], networks: "recreate" }, h));
  assert.deepEqual(recreated.conflicts, []);
  assert.equal(recreated.networks[0].action, "recreate");

  const identical = planRestore(
    input({ parts: ["networks"] }, { networks: [engineNet("10.9.0.0/24")] }),
  );
  assert.equal(identical.networks[0].action, "identical");
  assert.deepEqual(identical.conflicts, []);
});

Deno.test("recreating a network never disconnects other units' containers", () => {
  const h = {
    networks: [engineNet("10.8.0.0/24", ["neighbour", `${P}_db_1`])],
    containers: [
      container("neighbour", { running: true, networks: { [`${P}_backend`]: undefined } }),
      container(`${P}_db_1`, {
        project: P,
        service: "db",
        networks: { [`${P}_backend`]: "10.8.0.10" },
      }),
    ],
  };
  const plan = planRestore(input({ parts: ["networks"], networks: "recreate" }, h));
  assert.equal(plan.conflicts.length, 1);
  assert.match(plan.conflicts[0].message, /'neighbour'/);
  assert.deepEqual(plan.networks[0].reconnect, [{
    container: `${P}_db_1`,
    endpoint: { IPAMConfig: { IPv4Address: "10.8.0.10" }, Aliases: [`${P}_db_1`] },
  }]);
});

Deno.test("compose files that differ go to a new directory; identical ones stay", () => {
  const same = planRestore(
    input({ parts: ["recipe"] }, {
      files: { "/srv/shop/docker-compose.yml": composeText, "/srv/shop/.env": null },
    }),
  );
  assert.equal(same.filesDir?.relocated, false);
  assert.deepEqual(same.files.map((f) => f.action), ["identical", "write"]);

  const differ = planRestore(
    input({ parts: ["recipe"] }, { files: { "/srv/shop/docker-compose.yml": "changed" } }),
  );
  assert.equal(differ.filesDir?.relocated, true);
  assert.equal(differ.filesDir?.dir, `/srv/shop.restored-${BID}`);
  assert.deepEqual(differ.files.map((f) => f.to), [
    `/srv/shop.restored-${BID}/docker-compose.yml`,
    `/srv/shop.restored-${BID}/.env`,
  ]);
  assert.deepEqual(differ.overwrites, []);
});

Deno.test("--to-dir plans files only, with volume contents and documents under the directory", () => {
  const plan = planRestore(input({ toDir: "/tmp/out/" }));
  assert.deepEqual(plan.networks, []);
  assert.equal(plan.compose, undefined);
  assert.deepEqual(plan.data.map((d) => d.target), [
    `/tmp/out/volumes/${P}_db`,
    "/tmp/out/binds/srv/shop/html",
  ]);
  assert.ok(plan.data.every((d) => !d.preRestore && !d.create));
  assert.deepEqual(plan.files.map((f) => f.to), [
    "/tmp/out/docker-compose.yml",
    "/tmp/out/.env",
    "/tmp/out/stowage-recipe.json",
    "/tmp/out/stowage-networks.json",
  ]);
  const probe = probeTargets({ point, recipe, networks, options: opts({ toDir: "/tmp/out" }) }, []);
  assert.ok(probe.dirs.includes(`/tmp/out/volumes/${P}_db`));
});

Deno.test("--volume picks by full or compose name and suggests on a typo", () => {
  const plan = planRestore(input({ parts: ["volumes"], volumes: ["db"] }));
  assert.deepEqual(plan.data.map((d) => d.name), [`${P}_db`]);
  assert.throws(
    () => planRestore(input({ parts: ["volumes"], volumes: ["dbb"] })),
    /no such volume/,
  );
});

Deno.test("--pin-images rewrites compose images to recorded digests", () => {
  const plan = planRestore(input({ parts: ["recipe"], pinImages: true }));
  const compose = plan.files.find((f) => f.kind === "compose")!;
  assert.equal(compose.pinned, true);
  assert.match(compose.content, /image: busybox@sha256:abc/);
  assert.doesNotMatch(compose.content, /image: busybox:1/);
  assert.deepEqual(plan.pins, [{ image: "busybox:1", pinned: "busybox@sha256:abc" }]);
  const out = pinCompose(
    "services:\n  a:\n    image: other:2\n",
    new Map([["busybox:1", "x@sha256:1"]]),
  );
  assert.deepEqual(out.pins, []);
});

Deno.test("a standalone container is recreated from inspect; missing secrets are refused by name", () => {
  const saved = container("solo", {
    running: true,
    networks: { solo_net: "10.7.0.5", other_net: undefined },
    env: ["A=1", `API_TOKEN=${REDACTED}`],
  });
  const standalone: Recipe = {
    ...recipe,
    unit: {
      ...unit,
      name: "solo",
      kind: "standalone",
      workingDir: undefined,
      volumes: [],
      networks: [],
    },
    files: [],
    containers: [saved],
  };
  const pt = { ...point, unit: "solo", volumes: [], binds: [] };
  const base: RestoreInput = {
    point: pt,
    recipe: standalone,
    options: opts({ start: true }),
    host: hostView(),
  };
  const refused = planRestore(base);
  assert.equal(refused.conflicts[0].kind, "secret");
  assert.match(refused.conflicts[0].message, /API_TOKEN/);

  const plan = planRestore({
    ...base,
    options: opts({ start: true, secrets: { API_TOKEN: "t0k" } }),
  });
  assert.deepEqual(plan.conflicts, []);
  const c = plan.container!;
  assert.equal(c.name, "solo");
  assert.equal(c.start, true);
  assert.deepEqual(c.body.Env, ["A=1", "API_TOKEN=t0k"]);
  assert.deepEqual(c.body.NetworkingConfig, {
    EndpointsConfig: { solo_net: { IPAMConfig: { IPv4Address: "10.7.0.5" } } },
  });
  assert.deepEqual(c.connect, [{ network: "other_net", endpoint: {} }]);
  assert.equal(c.body.Hostname, "solo", "a chosen hostname is kept");
  assert.deepEqual((c.body.HostConfig as Record<string, unknown>).RestartPolicy, {
    Name: "always",
  });

  const existing = planRestore({
    ...base,
    options: opts({ secrets: { API_TOKEN: "x" } }),
    host: hostView({ containers: [container("solo", { running: true })] }),
  });
  assert.equal(existing.conflicts[0].resolve, "--stop");
});

// ---------------------------------------------------------------------------------------------
// What a repository writer must not be able to make restore do (docs/restore.md "What restore
// refuses"). Tags are validated when read (core/tags_test.ts); these points are built by hand to
// prove the planner refuses on its own too.

const hostile = (d: { kind: "volume" | "bind"; name: string }) => ({
  ...point,
  volumes: d.kind === "volume" ? [{ ...point.volumes[0], name: d.name }] : [],
  binds: d.kind === "bind" ? [{ ...point.binds[0], name: d.name }] : [],
});

function refusal(fn: () => unknown): StowageError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StowageError) return e;
    throw e;
  }
  assert.fail("expected a StowageError");
}

Deno.test("--to-dir / plans /volumes/NAME and /stowage-recipe.json, never //", () => {
  const plan = planRestore(input({ toDir: "/" }));
  assert.equal(plan.toDir, "/");
  assert.equal(plan.data.find((d) => d.kind === "volume")?.target, `/volumes/${P}_db`);
  assert.equal(plan.data.find((d) => d.kind === "bind")?.target, "/binds/srv/shop/html");
  assert.ok(plan.files.every((f) => !f.to.startsWith("//")), plan.files.map((f) => f.to).join());
  const trailing = planRestore(input({ toDir: "/tmp/x/./y/" }));
  assert.equal(trailing.data.find((d) => d.kind === "volume")?.target, `/tmp/x/y/volumes/${P}_db`);
});

Deno.test("a volume named ../../victim is refused with and without --to-dir, before any probe", () => {
  for (const toDir of ["/tmp/restore", undefined]) {
    const i: RestoreInput = {
      point: hostile({ kind: "volume", name: "../../victim" }),
      recipe,
      networks,
      options: opts({ toDir }),
      host: toDir ? undefined : hostView({ volumes: [vol("../../victim")] }),
    };
    const e = refusal(() => probeTargets(i, []));
    assert.equal(e.code, "restore.untrusted");
    assert.match(e.message, /'shop': volume \.\.\/\.\.\/victim is outside Docker's volume names/);
    assert.ok(e.hint);
    assert.equal(refusal(() => planRestore(i)).code, "restore.untrusted");
  }
});

Deno.test("a bind folder outside the safe roots is refused; --to-dir keeps it under binds/", () => {
  for (const name of ["/etc/ssh", "/", "/srv/../etc", "/var/lib/docker/volumes/x"]) {
    const e = refusal(() =>
      planRestore({
        point: hostile({ kind: "bind", name }),
        recipe,
        networks,
        options: opts({}),
        host: hostView(),
      })
    );
    assert.equal(e.code, "restore.untrusted", name);
  }
  const unsafeByConfig = refusal(() =>
    planRestore({ ...input({}), options: opts({ unsafePaths: ["/srv/shop"] }) })
  );
  assert.match(unsafeByConfig.message, /backup.unsafe_paths/);
  const e = refusal(() =>
    planRestore({
      point: hostile({ kind: "bind", name: "/../../etc" }),
      recipe,
      options: opts({ toDir: "/tmp/r" }),
    })
  );
  assert.equal(e.code, "restore.untrusted");
});

Deno.test("recipe files outside the unit's working directory are refused in place", () => {
  for (
    const path of ["/srv/shop/../escape/pwned.txt", "/etc/cron.d/pwn", "/srv/shopping/x.yml"]
  ) {
    const bad: Recipe = {
      ...recipe,
      files: [...recipe.files, { path, kind: "env", mode: 0o644, content: "x" }],
    };
    const e = refusal(() => planRestore({ ...input({}), recipe: bad }));
    assert.equal(e.code, "restore.untrusted", path);
    assert.match(e.message, /working directory \/srv\/shop/);
    assert.equal(refusal(() => probeTargets({ ...input({}), recipe: bad }, [])).code, e.code);
  }
  const inEtc: Recipe = {
    ...recipe,
    unit: { ...unit, workingDir: "/etc/cron.d" },
    files: [{ path: "/etc/cron.d/pwn", kind: "compose", mode: 0o644, content: "x" }],
  };
  assert.match(refusal(() => planRestore({ ...input({}), recipe: inEtc })).message, /\/etc/);
  // With --to-dir the same file lands inside the directory.
  const plan = planRestore({
    ...input({ toDir: "/tmp/r" }),
    recipe: {
      ...recipe,
      files: [{ path: "/opt/other/compose.yml", kind: "compose", mode: 0o644, content: "x" }],
    },
  });
  assert.ok(
    plan.files.every((f) => f.to.startsWith("/tmp/r/")),
    plan.files.map((f) => f.to).join(),
  );
});

Deno.test("setuid, setgid and sticky bits are never restored on recipe files", () => {
  const plan = planRestore({
    ...input({}),
    recipe: { ...recipe, files: [{ ...recipe.files[0], mode: 0o7777 }] },
  });
  assert.equal(plan.files[0].mode, 0o777);
  assert.ok(plan.warnings.some((w) => w.includes("7777")));
});

Deno.test("a volume created with o=bind onto /etc is refused", () => {
  const bad: Recipe = {
    ...recipe,
    unit: {
      ...unit,
      volumes: [{ ...unit.volumes[0], options: { type: "none", o: "bind", device: "/etc" } }],
    },
  };
  const e = refusal(() => planRestore({ ...input({}), recipe: bad }));
  assert.equal(e.code, "restore.untrusted");
  assert.match(e.message, /would bind \/etc/);
});

Deno.test("a standalone container keeps only known HostConfig; privileged settings need --allow-privileged", () => {
  const saved = container("solo");
  saved.HostConfig = {
    ...saved.HostConfig,
    Privileged: true,
    CapAdd: ["SYS_ADMIN"],
    Devices: [{ PathOnHost: "/dev/sda", PathInContainer: "/dev/sda", CgroupPermissions: "rwm" }],
    Binds: ["/:/host", "solo_data:/data"],
    Mounts: [{
      Type: "volume",
      Source: "sneaky",
      Target: "/s",
      VolumeOptions: { DriverConfig: { Options: { type: "none", o: "bind", device: "/etc" } } },
    }],
    VolumesFrom: ["other"],
    PidMode: "host",
    Frobnicate: "yes",
    MaskedPaths: ["/proc/kcore"],
    CgroupnsMode: "host",
  };
  const standalone: Recipe = {
    ...recipe,
    unit: { ...unit, name: "solo", kind: "standalone", workingDir: undefined, volumes: [] },
    files: [],
    containers: [saved],
  };
  const base: RestoreInput = {
    point: { ...point, unit: "solo", volumes: [], binds: [] },
    recipe: standalone,
    options: opts({ parts: ["recipe"] }),
    host: hostView(),
  };
  const refused = planRestore(base);
  const c = refused.conflicts.find((x) => x.kind === "privileged");
  assert.equal(c?.resolve, "--allow-privileged");
  for (
    const what of [
      "Privileged",
      "SYS_ADMIN",
      "/dev/sda",
      "host bind / ",
      "host bind /etc",
      "volumes from other",
      "PidMode host",
    ]
  ) {
    assert.ok(c!.message.includes(what), `${what} in: ${c!.message}`);
  }
  assert.ok(!c!.message.includes("CgroupnsMode"), "cgroup v1's default is not a privilege");
  const hc = refused.container!.body.HostConfig as Record<string, unknown>;
  for (
    const k of [
      "Privileged",
      "CapAdd",
      "Devices",
      "Binds",
      "Mounts",
      "VolumesFrom",
      "PidMode",
      "Frobnicate",
    ]
  ) {
    assert.equal(hc[k], undefined, `${k} is not in a body made without the flag`);
  }
  assert.ok(refused.warnings.some((w) => w.includes("Frobnicate")), "unknown fields are reported");
  assert.ok(!refused.warnings.some((w) => w.includes("MaskedPaths")), "engine defaults are silent");

  const allowed = planRestore({
    ...base,
    options: opts({ parts: ["recipe"], allowPrivileged: true }),
  });
  assert.deepEqual(allowed.conflicts, []);
  const body = allowed.container!.body.HostConfig as Record<string, unknown>;
  assert.equal(body.Privileged, true);
  assert.deepEqual(body.Binds, ["/:/host", "solo_data:/data"]);
  assert.equal(body.Frobnicate, undefined);
  assert.ok(allowed.warnings.some((w) => w.includes("--allow-privileged")));
});

Deno.test("the recipe schema takes a real recipe and refuses hostile ones", () => {
  assert.ok(RECIPE_SCHEMA.safeParse(recipe).success);
  const bad = (patch: (r: Record<string, unknown>) => void) => {
    const r = structuredClone(recipe) as unknown as Record<string, unknown>;
    patch(r);
    return RECIPE_SCHEMA.safeParse(r).success;
  };
  assert.equal(bad((r) => ((r.files as { path: string }[])[0].path = "/srv/app/../x")), false);
  assert.equal(bad((r) => ((r.files as { path: string }[])[0].path = "relative.yml")), false);
  assert.equal(bad((r) => ((r.files as { mode: number }[])[0].mode = 0o17777)), false);
  assert.equal(bad((r) => ((r.unit as { workingDir: string }).workingDir = "/srv/a/../b")), false);
  assert.equal(
    bad((r) => ((r.unit as { volumes: { name: string }[] }).volumes[0].name = "../v")),
    false,
  );
  assert.equal(bad((r) => (r.files = "nope")), false);
  assert.equal(bad((r) => (r.containers = [{ Name: "/x" }])), false);
  assert.equal(bad((r) => delete r.unit), false);
});

/** The same unit written in format 3: recipe, networks, and one data snapshot for both folders. */
function format3Point(bindPath = "/srv/shop/html") {
  const id = "d".repeat(64);
  const dbPath = `/var/lib/docker/volumes/${P}_db/_data`;
  const data = parseSnapshot({
    id,
    short_id: id.slice(0, 8),
    time: TS,
    hostname: "h1",
    paths: [dbPath, bindPath],
    tags: buildTags({
      unit: P,
      type: "data",
      backupId: BID,
      timestamp: TS,
      scope: "standard",
      data: [
        { kind: "volume", name: `${P}_db`, path: dbPath },
        { kind: "bind", name: bindPath, path: bindPath },
      ],
    }),
  });
  return { data, point: restorePoints([snap("recipe"), snap("network"), data], P)[0] };
}

Deno.test("a format-3 data snapshot restores each folder from its own path, only that path", () => {
  const { data, point: p3 } = format3Point();
  const plan = planRestore({ ...input({ start: true }), point: p3 });
  assert.deepEqual(
    plan.data.map((d) => [d.kind, d.name, d.snapshotId, d.snapshotPath, d.include, d.target]),
    [
      [
        "volume",
        `${P}_db`,
        data.id,
        `/var/lib/docker/volumes/${P}_db/_data`,
        `/var/lib/docker/volumes/${P}_db/_data`,
        undefined, // created first; its mountpoint is known then
      ],
      ["bind", "/srv/shop/html", data.id, "/srv/shop/html", "/srv/shop/html", "/srv/shop/html"],
    ],
  );
  const one = planRestore({
    ...input({ parts: ["volumes"], volumes: ["db"], toDir: "/tmp/o" }),
    point: p3,
  });
  assert.deepEqual(one.data.map((d) => d.name), [`${P}_db`]);
  const toDir = planRestore({ ...input({ toDir: "/tmp/o" }), point: p3 });
  assert.deepEqual(toDir.data.map((d) => d.target), [
    `/tmp/o/volumes/${P}_db`,
    "/tmp/o/binds/srv/shop/html",
  ]);
  // restic's --include takes glob patterns: a folder named with glob characters matches itself only.
  const glob = format3Point("/srv/shop/h[t]m*");
  const step = planRestore({ ...input({ toDir: "/tmp/o" }), point: glob.point }).data[1];
  assert.equal(step.include, "/srv/shop/h\\[t]m\\*");
});

Deno.test("an old-layout snapshot whose restic path leads out of staging is refused", () => {
  const id = "e".repeat(64);
  const evil = parseSnapshot({
    id,
    short_id: id.slice(0, 8),
    time: TS,
    hostname: "h1",
    paths: ["/var/lib/docker/volumes/x/_data/../../../../../etc"],
    tags: buildTags({
      unit: P,
      type: "volume",
      backupId: BID,
      timestamp: TS,
      scope: "standard",
      volume: `${P}_db`,
    }),
  });
  const p = restorePoints([snap("recipe"), evil], P)[0];
  assert.throws(
    () => planRestore({ ...input({ toDir: "/tmp/o" }), point: p }),
    (e) => e instanceof StowageError && e.code === "restore.untrusted",
  );
});
