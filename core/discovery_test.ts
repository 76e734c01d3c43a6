import assert from "node:assert/strict";
import type {
  EngineContainer,
  EngineMountPoint,
  EngineNetwork,
  EngineState,
  EngineVolume,
} from "./engine_types.ts";
import { discoverUnits } from "./discovery.ts";
import type { Unit } from "./model.ts";

// ---------------------------------------------------------------------------------------------
// Builders shaped like real `docker inspect` output of docker-compose 1.29 containers (API 1.41).

let seq = 0;
const hexId = (seed: string) => {
  let h = "";
  for (const ch of `${seed}-${seq++}`) h += ch.charCodeAt(0).toString(16);
  return (h + "0".repeat(64)).slice(0, 64);
};

interface CtrOpts {
  name: string;
  project?: string;
  service?: string;
  number?: number;
  oneoff?: boolean;
  workingDir?: string;
  configFiles?: string;
  image?: string;
  imageId?: string;
  running?: boolean;
  health?: string;
  healthcheck?: string[];
  labels?: Record<string, string>;
  mounts?: EngineMountPoint[];
  networks?: Record<string, { ipv4?: string; ip?: string; aliases?: string[]; networkId?: string }>;
  networkMode?: string;
  links?: string[];
  tmpfs?: Record<string, string>;
}

function ctr(o: CtrOpts): EngineContainer {
  const id = hexId(o.name);
  const labels: Record<string, string> = { ...o.labels };
  if (o.project) {
    Object.assign(labels, {
      "com.docker.compose.project": o.project,
      "com.docker.compose.service": o.service ?? o.name,
      "com.docker.compose.container-number": String(o.number ?? 1),
      "com.docker.compose.oneoff": o.oneoff ? "True" : "False",
      "com.docker.compose.project.working_dir": o.workingDir ?? `/srv/${o.project}`,
      "com.docker.compose.project.config_files": o.configFiles ?? "docker-compose.yml",
      "com.docker.compose.version": "1.29.2",
    });
  }
  const running = o.running ?? true;
  const networks: NonNullable<EngineContainer["NetworkSettings"]["Networks"]> = {};
  for (
    const [net, n] of Object.entries(
      o.networks ?? (o.project ? { [`${o.project}_default`]: {} } : { bridge: {} }),
    )
  ) {
    networks[net] = {
      IPAMConfig: n.ipv4 ? { IPv4Address: n.ipv4 } : null,
      Links: null,
      Aliases: o.project ? [o.service ?? o.name, id.slice(0, 12), ...(n.aliases ?? [])] : null,
      NetworkID: n.networkId ?? `net-${net}`,
      IPAddress: running ? (n.ip ?? n.ipv4 ?? "172.18.0.9") : "",
      GlobalIPv6Address: "",
    };
  }
  return {
    Id: id,
    Name: `/${o.name}`,
    Image: o.imageId ?? "sha256:aaa",
    Created: "2025-01-01T00:00:00Z",
    State: {
      Status: running ? "running" : "exited",
      Running: running,
      Paused: false,
      Restarting: false,
      ExitCode: running ? 0 : 137,
      Health: o.health ? { Status: o.health } : undefined,
    },
    Config: {
      Image: o.image ?? "busybox:1",
      Env: ["PATH=/bin", "DB_PASSWORD=hunter2"],
      Labels: labels,
      Cmd: ["sleep", "infinity"],
      Healthcheck: o.healthcheck ? { Test: o.healthcheck } : undefined,
    },
    HostConfig: {
      NetworkMode: o.networkMode ?? (o.project ? `${o.project}_default` : "default"),
      Links: o.links ?? null,
      RestartPolicy: { Name: "", MaximumRetryCount: 0 },
      Binds: null,
      Init: true,
      ...(o.tmpfs ? { Tmpfs: o.tmpfs } : {}),
    },
    Mounts: o.mounts ?? [],
    NetworkSettings: { Networks: networks },
  };
}

const volMount = (name: string, dest: string, rw = true): EngineMountPoint => ({
  Type: "volume",
  Name: name,
  Source: `/var/lib/docker/volumes/${name}/_data`,
  Destination: dest,
  Driver: "local",
  Mode: "z",
  RW: rw,
});
const bindMount = (source: string, dest: string, rw = true): EngineMountPoint => ({
  Type: "bind",
  Source: source,
  Destination: dest,
  Mode: "",
  RW: rw,
});

function vol(
  name: string,
  labels: Record<string, string> = {},
  options: Record<string, string> | null = null,
): EngineVolume {
  return {
    Name: name,
    Driver: "local",
    Mountpoint: `/var/lib/docker/volumes/${name}/_data`,
    Labels: labels,
    Options: options,
    Scope: "local",
  };
}
const composeVol = (project: string, short: string) =>
  vol(`${project}_${short}`, {
    "com.docker.compose.project": project,
    "com.docker.compose.volume": short,
    "com.docker.compose.version": "1.29.2",
  });

function net(
  name: string,
  attached: EngineContainer[],
  opts: Partial<EngineNetwork> = {},
): EngineNetwork {
  return {
    Id: `net-${name}`,
    Name: name,
    Driver: "bridge",
    Scope: "local",
    Internal: false,
    Attachable: true,
    EnableIPv6: false,
    IPAM: {
      Driver: "default",
      Options: null,
      Config: [{ Subnet: "10.50.0.0/24", Gateway: "10.50.0.1" }],
    },
    Options: {},
    Labels: {},
    Containers: Object.fromEntries(
      attached
        .filter((c) => c.State.Running)
        .map((c) => [c.Id, {
          Name: c.Name.slice(1),
          IPv4Address: `${c.NetworkSettings.Networks?.[name]?.IPAddress}/24`,
          IPv6Address: "",
        }]),
    ),
    ...opts,
  };
}

const builtins = (): EngineNetwork[] =>
  ["bridge", "host", "none"].map((n) => ({
    Id: `net-${n}`,
    Name: n,
    Driver: n === "bridge" ? "bridge" : n === "host" ? "host" : "null",
    Scope: "local",
    Internal: false,
    Attachable: false,
    EnableIPv6: false,
    IPAM: { Driver: "default", Config: n === "bridge" ? [{ Subnet: "172.17.0.0/16" }] : [] },
  }));

function state(p: Partial<EngineState>): EngineState {
  return {
    containers: p.containers ?? [],
    volumes: p.volumes ?? [],
    networks: [...builtins(), ...(p.networks ?? [])],
    images: p.images ?? [],
    files: p.files ?? {},
  };
}

const unitNamed = (units: Unit[], name: string) => {
  const u = units.find((x) => x.name === name);
  assert.ok(u, `unit ${name} in ${units.map((x) => x.name).join(", ")}`);
  return u;
};

// ---------------------------------------------------------------------------------------------
// A WordPress-like stack, the fixture's shape: web -> app -> db, two volumes, a bind, IPAM.

const WP_COMPOSE = `version: "2.4"
services:
  db:
    image: mariadb:11
    volumes: [db_data:/var/lib/mysql]
    networks:
      backend:
        ipv4_address: 10.50.0.10
  app:
    image: wordpress:6
    depends_on: [db]
    volumes: [wp_data:/var/www/html, ./uploads.ini:/usr/local/etc/php/conf.d/uploads.ini:ro]
    networks: [backend]
  web:
    image: nginx:1
    depends_on:
      app:
        condition: service_started
    volumes: [./html:/usr/share/nginx/html:ro]
    networks: [backend]
volumes:
  db_data:
  wp_data:
networks:
  backend:
    ipam:
      config: [{ subnet: 10.50.0.0/24 }]
`;

function wordpress(opts: { composeFile?: string | null; dbRunning?: boolean } = {}) {
  const p = "wp";
  const networks = (ipv4?: string, ip?: string) => ({ wp_backend: { ipv4, ip } });
  const db = ctr({
    name: "wp_db_1",
    project: p,
    service: "db",
    image: "mariadb:11",
    imageId: "sha256:db",
    running: opts.dbRunning ?? true,
    mounts: [volMount("wp_db_data", "/var/lib/mysql")],
    networks: networks("10.50.0.10"),
    networkMode: "wp_backend",
    healthcheck: ["CMD", "healthcheck.sh"],
    health: opts.dbRunning === false ? undefined : "healthy",
  });
  const app = ctr({
    name: "wp_app_1",
    project: p,
    service: "app",
    image: "wordpress:6",
    imageId: "sha256:app",
    mounts: [
      volMount("wp_wp_data", "/var/www/html"),
      bindMount("/srv/wp/uploads.ini", "/usr/local/etc/php/conf.d/uploads.ini", false),
    ],
    networks: networks(undefined, "10.50.0.2"),
    networkMode: "wp_backend",
  });
  const web = ctr({
    name: "wp_web_1",
    project: p,
    service: "web",
    image: "nginx:1",
    imageId: "sha256:web",
    mounts: [bindMount("/srv/wp/html", "/usr/share/nginx/html", false)],
    networks: networks(undefined, "10.50.0.3"),
    networkMode: "wp_backend",
  });
  const containers = [web, db, app];
  const files: Record<string, string | null> = {
    "/srv/wp/docker-compose.yml": opts.composeFile === undefined ? WP_COMPOSE : opts.composeFile,
    "/srv/wp/.env": "WORDPRESS_DB_HOST=db\n",
  };
  return {
    containers,
    volumes: [composeVol(p, "db_data"), composeVol(p, "wp_data")],
    networks: [
      net("wp_backend", containers, {
        Labels: { "com.docker.compose.project": p, "com.docker.compose.network": "backend" },
      }),
    ],
    images: [
      { Id: "sha256:db", RepoTags: ["mariadb:11"], RepoDigests: ["mariadb@sha256:1111"] },
      { Id: "sha256:app", RepoTags: ["wordpress:6"], RepoDigests: ["wordpress@sha256:2222"] },
      { Id: "sha256:web", RepoTags: ["nginx:1"], RepoDigests: [] },
    ],
    files,
  };
}

// ---------------------------------------------------------------------------------------------

Deno.test("a compose project is one unit with every field filled", () => {
  const units = discoverUnits(state(wordpress()));
  assert.deepEqual(units.map((u) => u.name), ["wp"]);
  const u = units[0];
  assert.equal(u.kind, "stack");
  assert.equal(u.workingDir, "/srv/wp");
  assert.deepEqual(u.files, [
    { path: "/srv/wp/docker-compose.yml", kind: "compose", exists: true },
    { path: "/srv/wp/.env", kind: "env", exists: true },
  ]);
  assert.deepEqual(u.containers.map((c) => [c.name, c.service]), [["wp_app_1", "app"], [
    "wp_db_1",
    "db",
  ], ["wp_web_1", "web"]]);
  assert.deepEqual(u.dependsOn, { app: ["db"], db: [], web: ["app"] });
  assert.deepEqual(u.images, [
    { reference: "mariadb:11", id: "sha256:db", repoDigests: ["mariadb@sha256:1111"] },
    { reference: "nginx:1", id: "sha256:web", repoDigests: [] },
    { reference: "wordpress:6", id: "sha256:app", repoDigests: ["wordpress@sha256:2222"] },
  ]);
  assert.deepEqual(u.volumes.map((v) => [v.name, v.composeName, v.usedBy, v.external]), [
    ["wp_db_data", "db_data", ["wp_db_1"], false],
    ["wp_wp_data", "wp_data", ["wp_app_1"], false],
  ]);
  assert.equal(u.volumes[0].mountpoint, "/var/lib/docker/volumes/wp_db_data/_data");
  assert.equal(u.volumes[0].driver, "local");
  assert.deepEqual(u.binds, [
    {
      source: "/srv/wp/html",
      usedBy: ["wp_web_1"],
      destinations: ["/usr/share/nginx/html"],
      safe: true,
    },
    {
      source: "/srv/wp/uploads.ini",
      usedBy: ["wp_app_1"],
      destinations: ["/usr/local/etc/php/conf.d/uploads.ini"],
      safe: true,
    },
  ]);
  assert.equal(u.networks.length, 1);
  const n = u.networks[0];
  assert.equal(n.name, "wp_backend");
  assert.deepEqual(n.ipam, {
    driver: "default",
    config: [{ subnet: "10.50.0.0/24", gateway: "10.50.0.1" }],
    options: {},
  });
  assert.deepEqual(n.containers, [
    { name: "wp_app_1", ipv4: "10.50.0.2" },
    { name: "wp_db_1", ipv4: "10.50.0.10" },
    { name: "wp_web_1", ipv4: "10.50.0.3" },
  ]);
  assert.deepEqual(u.gaps, []);
  assert.equal(u.notes, undefined);
});

Deno.test("container details: state, health, fixed addresses, aliases without the short id, mounts", () => {
  const u = discoverUnits(state(wordpress({ dbRunning: false })))[0];
  const db = u.containers.find((c) => c.service === "db")!;
  assert.equal(db.state, "exited");
  assert.equal(db.running, false);
  assert.equal(db.health, undefined);
  assert.equal(db.hasHealthcheck, true);
  assert.deepEqual(db.networks, { wp_backend: { ipv4: "10.50.0.10", aliases: ["db"] } });
  assert.equal(db.networkMode, "wp_backend");
  assert.deepEqual(db.mounts, [{
    type: "volume",
    source: "wp_db_data",
    destination: "/var/lib/mysql",
    readOnly: false,
  }]);
  assert.equal(db.image, "mariadb:11");
  assert.equal(db.imageId, "sha256:db");
  assert.equal(db.labels["com.docker.compose.service"], "db");
  const web = u.containers.find((c) => c.service === "web")!;
  assert.equal(web.hasHealthcheck, false);
  assert.deepEqual(web.networks.wp_backend, { aliases: ["web"] });
  assert.deepEqual(web.mounts[0].readOnly, true);
  // A stopped container is still on the network, without a current address.
  assert.deepEqual(u.networks[0].containers.find((c) => c.name === "wp_db_1"), { name: "wp_db_1" });
});

Deno.test("secrets in the environment never reach the unit", () => {
  const text = JSON.stringify(discoverUnits(state(wordpress())));
  assert.ok(!text.includes("hunter2"));
});

Deno.test("standalone containers are units of their own; one-off compose containers are skipped", () => {
  const wp = wordpress();
  const solo = ctr({ name: "portainer", mounts: [volMount("portainer_data", "/data")] });
  const oneoff = ctr({ name: "wp_app_run_1a2b", project: "wp", service: "app", oneoff: true });
  const units = discoverUnits(state({
    ...wp,
    containers: [...wp.containers, solo, oneoff],
    volumes: [...wp.volumes, vol("portainer_data")],
  }));
  assert.deepEqual(units.map((u) => [u.name, u.kind]), [["portainer", "standalone"], [
    "wp",
    "stack",
  ]]);
  const p = unitNamed(units, "portainer");
  assert.deepEqual(p.containers.map((c) => [c.name, c.service]), [["portainer", undefined]]);
  assert.deepEqual(p.files, []);
  assert.deepEqual(p.dependsOn, {});
  assert.equal(p.workingDir, undefined);
  assert.deepEqual(p.volumes.map((v) => [v.name, v.external]), [["portainer_data", false]]);
  // The default bridge is not the unit's network.
  assert.deepEqual(p.networks, []);
  assert.equal(unitNamed(units, "wp").containers.length, 3);
});

Deno.test("without the compose file, dependencies come from links, network_mode and labels", () => {
  const p = "legacy";
  const db = ctr({ name: "legacy_db_1", project: p, service: "db" });
  const app = ctr({
    name: "legacy_app_1",
    project: p,
    service: "app",
    links: ["/legacy_db_1:/legacy_app_1/db"],
  });
  const vpn = ctr({ name: "legacy_vpn_1", project: p, service: "vpn" });
  const torrent = ctr({
    name: "legacy_torrent_1",
    project: p,
    service: "torrent",
    networkMode: `container:${vpn.Id}`,
    networks: {},
  });
  const v2 = ctr({
    name: "legacy_web_1",
    project: p,
    service: "web",
    labels: {
      "com.docker.compose.depends_on": "app:service_started:false,db:service_healthy:true",
    },
  });
  const u = discoverUnits(
    state({
      containers: [db, app, vpn, torrent, v2],
      files: { "/srv/legacy/docker-compose.yml": null },
    }),
  )[0];
  assert.deepEqual(u.dependsOn, {
    app: ["db"],
    db: [],
    torrent: ["vpn"],
    vpn: [],
    web: ["app", "db"],
  });
  assert.equal(u.containers.find((c) => c.service === "torrent")!.networkMode, "service:vpn");
  assert.deepEqual(u.files, [{
    path: "/srv/legacy/docker-compose.yml",
    kind: "compose",
    exists: false,
  }]);
  assert.deepEqual(u.gaps.map((g) => [g.kind, g.item]), [[
    "compose-file-missing",
    "/srv/legacy/docker-compose.yml",
  ]]);
  assert.match(u.notes!.join("\n"), /no readable compose file/);
});

Deno.test("a garbage compose file is noted, and runtime dependencies still count", () => {
  const wp = wordpress({ composeFile: "services: [oops" });
  const u = discoverUnits(state(wp))[0];
  assert.deepEqual(u.files[0], {
    path: "/srv/wp/docker-compose.yml",
    kind: "compose",
    exists: true,
  });
  assert.deepEqual(u.dependsOn, { app: [], db: [], web: [] });
  assert.match(u.notes!.join("\n"), /not valid YAML/);
  assert.deepEqual(u.gaps, []);
});

Deno.test("network_mode container: outside the unit names the container", () => {
  const vpn = ctr({ name: "vpn" });
  const client = ctr({ name: "client", networkMode: `container:${vpn.Id}`, networks: {} });
  const units = discoverUnits(state({ containers: [vpn, client] }));
  assert.equal(unitNamed(units, "client").containers[0].networkMode, "container:vpn");
});

Deno.test("several compose files and a relative config_files label", () => {
  const c = ctr({
    name: "multi_app_1",
    project: "multi",
    service: "app",
    workingDir: "/opt/multi",
    configFiles: "compose.yml,compose.prod.yml",
  });
  const d = ctr({
    name: "multi_db_1",
    project: "multi",
    service: "db",
    workingDir: "/opt/multi",
    configFiles: "compose.yml,compose.prod.yml",
  });
  const u = discoverUnits(state({
    containers: [c, d],
    files: {
      "/opt/multi/compose.yml":
        'version: "2.4"\nservices:\n  app: { image: a }\n  db: { image: d }\n',
      "/opt/multi/compose.prod.yml": 'version: "2.4"\nservices:\n  app: { depends_on: [db] }\n',
      "/opt/multi/.env": null,
    },
  }))[0];
  assert.deepEqual(u.files, [
    { path: "/opt/multi/compose.yml", kind: "compose", exists: true },
    { path: "/opt/multi/compose.prod.yml", kind: "compose", exists: true },
  ]);
  assert.deepEqual(u.dependsOn, { app: ["db"], db: [] });
});

Deno.test("a stack whose containers name no compose file gets a gap", () => {
  const c = ctr({ name: "odd_app_1", project: "odd", service: "app", configFiles: "" });
  const u = discoverUnits(state({ containers: [c] }))[0];
  assert.deepEqual(u.gaps.map((g) => [g.kind, g.item]), [["compose-file-missing", "odd"]]);
});

Deno.test("unsafe bind mounts are listed as gaps with the reason; config adds paths", () => {
  const c = ctr({
    name: "agent",
    mounts: [
      bindMount("/var/run/docker.sock", "/var/run/docker.sock"),
      bindMount("/etc/localtime", "/etc/localtime", false),
      bindMount("/", "/host", false),
      bindMount("/srv/agent/conf/", "/conf"),
      bindMount("/srv/media", "/media"),
    ],
  });
  const u = discoverUnits(state({ containers: [c] }), { unsafePaths: ["/srv/media"] })[0];
  assert.deepEqual(u.binds.map((b) => [b.source, b.safe]), [
    ["/", false],
    ["/etc/localtime", false],
    ["/srv/agent/conf", true],
    ["/srv/media", false],
    ["/var/run/docker.sock", false],
  ]);
  const gaps = Object.fromEntries(u.gaps.map((g) => [g.item, g]));
  assert.equal(Object.keys(gaps).length, 4);
  for (const g of Object.values(gaps)) assert.equal(g.kind, "bind-unsafe");
  assert.match(gaps["/"].reason, /whole host file system/);
  assert.match(gaps["/etc/localtime"].reason, /\/etc/);
  assert.match(gaps["/var/run/docker.sock"].reason, /control socket/);
  assert.match(gaps["/srv/media"].reason, /backup\.unsafe_paths/);
});

Deno.test("tmpfs mounts (--mount and HostConfig.Tmpfs) are gaps", () => {
  const c = ctr({
    name: "cache",
    mounts: [{ Type: "tmpfs", Source: "", Destination: "/run/cache", Mode: "", RW: true }],
    tmpfs: { "/tmp": "size=64m", "/run/cache": "" },
  });
  const u = discoverUnits(state({ containers: [c] }))[0];
  assert.deepEqual(u.gaps.map((g) => [g.kind, g.item]), [["tmpfs", "cache:/run/cache"], [
    "tmpfs",
    "cache:/tmp",
  ]]);
  assert.deepEqual(u.containers[0].mounts, [{
    type: "tmpfs",
    source: "",
    destination: "/run/cache",
    readOnly: false,
  }]);
});

Deno.test("compose secrets are gaps; their bind mounts are never saved", () => {
  const compose = `version: "3.8"
services:
  db:
    image: postgres
    secrets: [db_password]
secrets:
  db_password:
    file: ./secrets/db_password.txt
  cloud_key:
    external: true
`;
  const db = ctr({
    name: "sec_db_1",
    project: "sec",
    service: "db",
    mounts: [bindMount("/srv/sec/secrets/db_password.txt", "/run/secrets/db_password", false)],
  });
  const solo = ctr({
    name: "solo",
    mounts: [bindMount("/srv/solo/token", "/run/secrets/token", false)],
  });
  const units = discoverUnits(
    state({ containers: [db, solo], files: { "/srv/sec/docker-compose.yml": compose } }),
  );
  const u = unitNamed(units, "sec");
  assert.deepEqual(u.binds.map((b) => [b.source, b.safe]), [[
    "/srv/sec/secrets/db_password.txt",
    false,
  ]]);
  assert.deepEqual(u.gaps.map((g) => [g.kind, g.item]), [[
    "secret",
    "/srv/sec/secrets/db_password.txt",
  ], ["secret", "cloud_key"]]);
  assert.match(u.gaps[0].reason, /compose secret 'db_password'/);
  // Without a compose file, a bind under /run/secrets is still recognised as a secret.
  const s = unitNamed(units, "solo");
  assert.deepEqual(s.binds.map((b) => b.safe), [false]);
  assert.deepEqual(s.gaps.map((g) => [g.kind, g.item]), [["secret", "/srv/solo/token"]]);
});

Deno.test("volumes of another project are external; shared unlabelled volumes have one owner", () => {
  const proxyVol = composeVol("proxy", "certs");
  const proxy = ctr({
    name: "proxy_traefik_1",
    project: "proxy",
    service: "traefik",
    mounts: [volMount(proxyVol.Name, "/certs")],
  });
  // The blog mounts the proxy's certs (declared `external: true` in its compose file) and a
  // hand-made volume that only it uses, and shares another hand-made one with a standalone tool.
  const blog = ctr({
    name: "blog_app_1",
    project: "blog",
    service: "app",
    mounts: [
      volMount(proxyVol.Name, "/certs", false),
      volMount("blog_media", "/media"),
      volMount("shared_cache", "/cache"),
    ],
  });
  const tool = ctr({ name: "tool", mounts: [volMount("shared_cache", "/cache")] });
  const units = discoverUnits(state({
    containers: [proxy, blog, tool],
    volumes: [proxyVol, vol("blog_media"), vol("shared_cache")],
  }));
  const b = unitNamed(units, "blog");
  assert.deepEqual(b.volumes.map((v) => [v.name, v.external]), [["blog_media", false], [
    "proxy_certs",
    true,
  ], ["shared_cache", false]]);
  const ext = b.gaps.filter((g) => g.kind === "external-volume");
  assert.deepEqual(ext.map((g) => g.item), ["proxy_certs"]);
  assert.match(ext[0].reason, /backed up with unit 'proxy': it belongs to compose project 'proxy'/);
  assert.deepEqual(unitNamed(units, "proxy").volumes.map((v) => [v.name, v.external]), [[
    "proxy_certs",
    false,
  ]]);
  const t = unitNamed(units, "tool");
  assert.deepEqual(t.volumes.map((v) => [v.name, v.external]), [["shared_cache", true]]);
  assert.match(t.gaps[0].reason, /backed up with unit 'blog': it is shared by units blog, tool/);
});

Deno.test("a volume whose project has no containers goes with the unit that uses it", () => {
  const orphanVol = composeVol("oldproj", "data");
  const c = ctr({
    name: "new_app_1",
    project: "new",
    service: "app",
    mounts: [volMount(orphanVol.Name, "/data")],
  });
  const u = discoverUnits(state({ containers: [c], volumes: [orphanVol] }))[0];
  assert.deepEqual(u.volumes.map((v) => [v.name, v.external, v.composeName]), [[
    "oldproj_data",
    false,
    "data",
  ]]);
  assert.deepEqual(u.gaps.filter((g) => g.kind === "external-volume"), []);
});

Deno.test("anonymous volumes and volumes missing from the list still appear", () => {
  const anon = "f".repeat(64);
  const c = ctr({ name: "pg", mounts: [volMount(anon, "/var/lib/postgresql/data")] });
  const u = discoverUnits(state({ containers: [c] }))[0];
  assert.deepEqual(u.volumes, [{
    name: anon,
    driver: "local",
    mountpoint: `/var/lib/docker/volumes/${anon}/_data`,
    labels: {},
    options: {},
    usedBy: ["pg"],
    external: false,
    location: {
      kind: "local",
      path: `/var/lib/docker/volumes/${anon}/_data`,
      describe:
        `a local volume: the data is in /var/lib/docker/volumes/${anon}/_data, read from there`,
    },
  }]);
});

Deno.test("volume driver options and labels are kept", () => {
  const v = vol("nfs_data", { team: "ops" }, {
    type: "nfs",
    o: "addr=10.0.0.5,rw",
    device: ":/export",
  });
  const c = ctr({ name: "files", mounts: [volMount("nfs_data", "/data")] });
  const u = discoverUnits(state({ containers: [c], volumes: [v] }))[0];
  assert.deepEqual(u.volumes[0].options, {
    type: "nfs",
    o: "addr=10.0.0.5,rw",
    device: ":/export",
  });
  assert.deepEqual(u.volumes[0].labels, { team: "ops" });
});

Deno.test("each volume's kind says where its data lives; tmpfs and unsafe bind-type volumes are gaps", () => {
  const vols = [
    vol("k_plain"),
    vol("k_bind", {}, { type: "none", o: "bind", device: "/srv/k/data" }),
    vol("k_etc", {}, { type: "none", o: "bind", device: "/etc/k" }),
    vol("k_nfs", {}, { type: "nfs", o: "addr=10.0.0.5", device: ":/export" }),
    vol("k_tmp", {}, { type: "tmpfs", device: "tmpfs" }),
  ];
  const c = ctr({
    name: "k_app_1",
    project: "k",
    service: "app",
    mounts: vols.map((v) => volMount(v.Name, `/${v.Name}`)),
  });
  const media = ctr({
    name: "media",
    mounts: [volMount("k_media", "/m")],
  });
  const units = discoverUnits(
    state({
      containers: [c, media],
      volumes: [
        ...vols,
        vol("k_media", {}, { type: "none", o: "bind", device: "/data/media/lib" }),
      ],
    }),
    { unsafePaths: ["/data/media"] },
  );
  const u = unitNamed(units, "k");
  assert.deepEqual(u.volumes.map((v) => [v.name, v.location?.kind, v.location?.path]), [
    ["k_bind", "bind", "/srv/k/data"],
    ["k_etc", "bind", "/etc/k"],
    ["k_nfs", "mounted", undefined],
    ["k_plain", "local", "/var/lib/docker/volumes/k_plain/_data"],
    ["k_tmp", "tmpfs", undefined],
  ]);
  const volumeGaps = u.gaps.filter((g) => g.kind !== "compose-file-missing");
  assert.deepEqual(volumeGaps.map((g) => [g.kind, g.item]), [
    ["bind-unsafe", "/etc/k"],
    ["tmpfs", "k_tmp"],
  ]);
  assert.match(volumeGaps[0].reason, /bind-type volume 'k_etc'.*\/etc/);
  // backup.unsafe_paths applies to bind-type volumes like to bind mounts.
  assert.deepEqual(unitNamed(units, "media").gaps.map((g) => [g.kind, g.item]), [
    ["bind-unsafe", "/data/media/lib"],
  ]);
});

Deno.test("host and none network modes have no networks; custom networks of standalones do", () => {
  const h = ctr({ name: "hostnet", networkMode: "host", networks: { host: {} } });
  const n = ctr({ name: "nonet", networkMode: "none", networks: { none: {} } });
  const custom = ctr({
    name: "custom",
    networkMode: "mynet",
    networks: { mynet: { ipv4: "10.60.0.5" } },
  });
  const mynet = net("mynet", [custom], {
    Internal: true,
    IPAM: {
      Driver: "default",
      Config: [{
        Subnet: "10.60.0.0/24",
        IPRange: "10.60.0.128/25",
        AuxiliaryAddresses: { router: "10.60.0.2" },
      }],
    },
    Options: { "com.docker.network.bridge.name": "br-my" },
  });
  const units = discoverUnits(state({ containers: [h, n, custom], networks: [mynet] }));
  assert.deepEqual(unitNamed(units, "hostnet").networks, []);
  assert.equal(unitNamed(units, "hostnet").containers[0].networkMode, "host");
  assert.deepEqual(unitNamed(units, "nonet").networks, []);
  const c = unitNamed(units, "custom");
  assert.equal(c.networks.length, 1);
  assert.equal(c.networks[0].internal, true);
  assert.deepEqual(c.networks[0].ipam.config, [{
    subnet: "10.60.0.0/24",
    ipRange: "10.60.0.128/25",
    auxAddresses: { router: "10.60.0.2" },
  }]);
  assert.deepEqual(c.networks[0].options, { "com.docker.network.bridge.name": "br-my" });
  assert.deepEqual(c.networks[0].containers, [{ name: "custom", ipv4: "10.60.0.5" }]);
  assert.deepEqual(c.containers[0].networks, { mynet: { ipv4: "10.60.0.5", aliases: [] } });
});

Deno.test("a network shared with another unit lists only this unit's containers", () => {
  const a = ctr({
    name: "a_web_1",
    project: "a",
    service: "web",
    networks: { proxy: { ip: "10.70.0.2" } },
  });
  const b = ctr({
    name: "b_web_1",
    project: "b",
    service: "web",
    networks: { proxy: { ip: "10.70.0.3" } },
  });
  const proxy = net("proxy", [a, b]);
  const units = discoverUnits(state({ containers: [a, b], networks: [proxy] }));
  assert.deepEqual(unitNamed(units, "a").networks[0].containers, [{
    name: "a_web_1",
    ipv4: "10.70.0.2",
  }]);
  assert.deepEqual(unitNamed(units, "b").networks[0].containers, [{
    name: "b_web_1",
    ipv4: "10.70.0.3",
  }]);
});

Deno.test("units are sorted by name and discovery is deterministic", () => {
  const wp = wordpress();
  const others = ["zulu", "alpha", "mike"].map((n) => ctr({ name: n }));
  const s = state({ ...wp, containers: [...others, ...wp.containers] });
  const first = discoverUnits(s);
  assert.deepEqual(first.map((u) => u.name), ["alpha", "mike", "wp", "zulu"]);
  const reversed = discoverUnits({
    ...s,
    containers: [...s.containers].reverse(),
    networks: [...s.networks].reverse(),
  });
  assert.deepEqual(reversed, first);
});

Deno.test("an empty engine has no units", () => {
  assert.deepEqual(discoverUnits(state({})), []);
});

Deno.test("referenced files: saved when safe, a bind's content stays data, the rest are named gaps", () => {
  const compose = `version: "2.4"
services:
  web:
    image: w
    env_file: [./app.env, /etc/app.env, ./data/in-bind.env]
    build: { context: ./app, dockerfile: Dockerfile.prod }
  remote:
    build: git@github.com:x/y.git
configs:
  conf: { file: ./conf/nginx.conf }
`;
  const web = ctr({
    name: "ref_web_1",
    project: "ref",
    service: "web",
    mounts: [bindMount("/srv/ref/data", "/data")],
  });
  const u = unitNamed(
    discoverUnits(state({ containers: [web], files: { "/srv/ref/docker-compose.yml": compose } })),
    "ref",
  );
  assert.deepEqual(u.references, [
    { kind: "env_file", service: "web", written: "./app.env", path: "/srv/ref/app.env" },
    {
      kind: "build",
      service: "web",
      written: "./app",
      path: "/srv/ref/app",
      dockerfile: "/srv/ref/app/Dockerfile.prod",
    },
    { kind: "config", written: "./conf/nginx.conf", path: "/srv/ref/conf/nginx.conf" },
  ]);
  const gaps = u.gaps.filter((g) => g.kind === "reference-unsaved");
  assert.deepEqual(gaps.map((g) => g.item), ["/etc/app.env", "git@github.com:x/y.git"]);
  assert.match(gaps[0].reason, /outside the safe roots: host system configuration/);
  assert.match(gaps[1].reason, /remote build context/);
});
