/**
 * The backup plan's decisions, pure: which containers stop and start in which order, what is
 * saved per scope, what config leaves out, which excludes and retention each item carries, and
 * the dry-run downtime estimate. (Where each volume kind is read from: plan_volume_kind_test.ts.)
 */
import assert from "node:assert/strict";
import type { BindInfo, ContainerInfo, ImageRef, NetworkInfo, Unit, VolumeInfo } from "../model.ts";
import { configSchema } from "../config/schema.ts";
import { effectiveScope, estimateDowntimeMs, planUnit, type UnitPlan } from "./plan.ts";

function container(
  name: string,
  service: string,
  opts: { running?: boolean; volumes?: string[]; number?: number } = {},
): ContainerInfo {
  const running = opts.running ?? true;
  return {
    id: `id-${name}`,
    name,
    service,
    image: "busybox",
    imageId: `sha256:${name}`,
    state: running ? "running" : "exited",
    running,
    hasHealthcheck: false,
    labels: opts.number === undefined
      ? {}
      : { "com.docker.compose.container-number": String(opts.number) },
    mounts: (opts.volumes ?? []).map((v) => ({
      type: "volume" as const,
      source: v,
      destination: `/data/${v}`,
      readOnly: false,
    })),
    networks: {},
    networkMode: "default",
  };
}

function volume(name: string, external = false): VolumeInfo {
  return {
    name,
    driver: "local",
    mountpoint: `/var/lib/docker/volumes/${name}/_data`,
    labels: {},
    options: {},
    usedBy: ["web-1"],
    external,
  };
}

const bind = (source: string, safe = true): BindInfo => ({
  source,
  usedBy: ["web-1"],
  destinations: ["/srv"],
  safe,
});

const network: NetworkInfo = {
  id: "n1",
  name: "shop_default",
  driver: "bridge",
  scope: "local",
  internal: false,
  attachable: false,
  enableIPv6: false,
  ipam: { driver: "default", config: [], options: {} },
  options: {},
  labels: {},
  containers: [{ name: "web-1" }],
};

const images: ImageRef[] = [
  { reference: "busybox:1", id: "sha256:pulled", repoDigests: ["busybox@sha256:aa"] },
  { reference: "shop/web:local", id: "sha256:built", repoDigests: [], size: 1234 },
  // The same local image under a second tag: exported once.
  { reference: "shop/web:latest", id: "sha256:built", repoDigests: [] },
];

/**
 * A stack `shop`: web depends on api, api on db; a stopped worker; volumes db_data and cache, an
 * external volume, a safe and an unsafe bind, a local image, a network.
 */
function shop(over: Partial<Unit> = {}): Unit {
  return {
    name: "shop",
    kind: "stack",
    files: [],
    containers: [
      container("web-1", "web", { volumes: ["cache"] }),
      container("api-2", "api", { number: 2 }),
      container("api-1", "api", { number: 1 }),
      container("db-1", "db", { volumes: ["db_data", "shared"] }),
      container("worker-1", "worker", { running: false }),
    ],
    dependsOn: { web: ["api"], api: ["db"], worker: ["db"] },
    images,
    volumes: [volume("cache"), volume("db_data"), volume("shared", true)],
    binds: [bind("/srv/shop/uploads"), bind("/etc", false)],
    networks: [network],
    gaps: [{ kind: "bind-unsafe", item: "/etc", reason: "outside the safe roots" }],
    ...over,
  };
}

const config = (doc: Record<string, unknown> = {}) => configSchema.parse(doc);

const summary = (plan: UnitPlan) => plan.items.map((i) => `${i.type}:${i.item}`);

Deno.test("running containers stop dependents first and start dependencies first; stopped ones are left alone", () => {
  const plan = planUnit(shop(), config());
  assert.deepEqual(plan.stop, ["web-1", "api-2", "api-1", "db-1"]);
  assert.deepEqual(plan.start, ["db-1", "api-1", "api-2", "web-1"]);
  assert.ok(!plan.stop.includes("worker-1") && !plan.start.includes("worker-1"));
});

Deno.test("standard scope saves the recipe (the networks inside it), local images once, volumes and safe binds", () => {
  const plan = planUnit(shop(), config());
  assert.equal(plan.scope, "standard");
  assert.equal(plan.skip, undefined);
  assert.deepEqual(summary(plan), [
    "recipe:recipe.json",
    "image:shop/web:local",
    "volume:cache",
    "volume:db_data",
    "bind:/srv/shop/uploads",
  ]);
  const image = plan.items.find((i) => i.type === "image")!;
  assert.deepEqual(image.image, { id: "sha256:built", reference: "shop/web:local", size: 1234 });
});

Deno.test("full scope plans the same unit items as standard (the Docker config is saved once per run)", () => {
  const standard = planUnit(shop(), config());
  const full = planUnit(shop(), config({ backup: { scope: "full" } }));
  assert.equal(full.scope, "full");
  assert.deepEqual(summary(full), summary(standard));
});

Deno.test("minimal scope saves only the volumes: no recipe, networks, images or binds", () => {
  const plan = planUnit(shop(), config({ backup: { scope: "minimal" } }));
  assert.equal(plan.scope, "minimal");
  assert.deepEqual(summary(plan), ["volume:cache", "volume:db_data"]);
  // The containers still stop: volumes are read cold.
  assert.deepEqual(plan.stop, ["web-1", "api-2", "api-1", "db-1"]);
});

Deno.test("a unit's networks get no snapshot of their own (format 4: the recipe holds them)", () => {
  for (const networks of [undefined, []]) {
    const plan = planUnit(shop(networks ? { networks } : {}), config());
    assert.ok(!plan.items.some((i) => i.type === "network"));
    assert.ok(summary(plan).includes("recipe:recipe.json"));
  }
});

Deno.test("the scope comes from the flag, then the unit's config, then backup.scope", () => {
  const c = config({ backup: { scope: "full" }, units: { shop: { scope: "minimal" } } });
  assert.equal(effectiveScope(c, "shop", "standard"), "standard");
  assert.equal(effectiveScope(c, "shop"), "minimal");
  assert.equal(effectiveScope(c, "other"), "full");
  assert.equal(effectiveScope(config(), "other"), "standard");
  assert.equal(planUnit(shop(), c).scope, "minimal");
  assert.equal(planUnit(shop(), c, "standard").scope, "standard");
});

Deno.test("a unit skipped in the config stops nothing and saves nothing, and says why", () => {
  const plan = planUnit(shop(), config({ units: { shop: { skip: true } } }));
  assert.equal(plan.skip, "units.shop.skip is set");
  assert.deepEqual(plan.stop, []);
  assert.deepEqual(plan.start, []);
  assert.deepEqual(plan.items, []);
});

Deno.test("a volume skipped in the config is not saved and becomes a gap; external volumes are never saved here", () => {
  const unit = shop();
  const plan = planUnit(unit, config({ units: { shop: { volumes: { cache: { skip: true } } } } }));
  assert.deepEqual(plan.items.filter((i) => i.type === "volume").map((i) => i.item), ["db_data"]);
  assert.deepEqual(plan.gaps, [
    { kind: "bind-unsafe", item: "/etc", reason: "outside the safe roots" },
    { kind: "skipped-by-config", item: "cache", reason: "units.shop.volumes.cache.skip is set" },
  ]);
  // The unit's own gap list is not changed by planning.
  assert.equal(unit.gaps.length, 1);
});

Deno.test("excludes add up: backup.exclude, then the unit's, then the volume's; binds get no volume excludes", () => {
  const plan = planUnit(
    shop(),
    config({
      backup: { exclude: ["*.tmp"] },
      units: { shop: { exclude: ["cache/**"], volumes: { db_data: { exclude: ["pg_wal/*"] } } } },
    }),
  );
  const by = (item: string) => plan.items.find((i) => i.item === item)!;
  assert.deepEqual(by("db_data").excludes, ["*.tmp", "cache/**", "pg_wal/*"]);
  assert.deepEqual(by("cache").excludes, ["*.tmp", "cache/**"]);
  assert.deepEqual(by("/srv/shop/uploads").excludes, ["*.tmp", "cache/**"]);
  assert.deepEqual(by("recipe.json").excludes, []);
});

Deno.test("retention: a volume's own, else the unit's, else the top-level policy", () => {
  const c = config({
    retention: { latest: 5 },
    units: {
      shop: { retention: { daily: 2 }, volumes: { db_data: { retention: { weekly: 9 } } } },
    },
  });
  const plan = planUnit(shop(), c);
  const by = (item: string) => plan.items.find((i) => i.item === item)!.retention;
  assert.deepEqual(by("db_data"), { weekly: 9 });
  assert.deepEqual(by("cache"), { daily: 2 });
  assert.deepEqual(by("recipe.json"), { daily: 2 });
  assert.deepEqual(by("/srv/shop/uploads"), { daily: 2 });
  const other = planUnit(shop({ name: "other" }), c);
  assert.deepEqual(other.items.find((i) => i.item === "db_data")!.retention, { latest: 5 });
});

Deno.test("a volume records the container that mounts it, for the archive-API fallback", () => {
  const plan = planUnit(shop(), config());
  const db = plan.items.find((i) => i.item === "db_data")!;
  assert.deepEqual(db.archive, { container: "db-1", destination: "/data/db_data" });
  assert.deepEqual(db.paths, ["/var/lib/docker/volumes/db_data/_data"]);
  assert.equal(db.read, "dir");
});

Deno.test("downtime estimate: nothing stopped is no downtime; images are exported before the stop", () => {
  const plan = planUnit(shop(), config());
  const sizes = { db_data: 150 * 1024 * 1024, "shop/web:local": 10 * 150 * 1024 * 1024 };
  // 4 stops + 4 starts at 1 s, 1 s of reading, 2 s overhead; the image costs nothing.
  assert.equal(estimateDowntimeMs(plan, sizes), 4000 + 4000 + 1000 + 2000);
  const idle = planUnit(
    shop({ containers: shop().containers.map((c) => ({ ...c, running: false })) }),
    config(),
  );
  assert.deepEqual(idle.stop, []);
  assert.equal(estimateDowntimeMs(idle, sizes), 0);
});
