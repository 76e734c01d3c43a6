import assert from "node:assert/strict";
import { backupIdFor, backupIdTime, buildTags, parseSnapshot } from "./tags.ts";

Deno.test("tags round-trip through restic's snapshot list, commas included", () => {
  const tags = buildTags({
    unit: "web",
    type: "bind",
    backupId: "2025-01-31T23-59-59Z",
    timestamp: "2025-01-31T23:59:59Z",
    scope: "standard",
    path: "/srv/a,b%c",
  });
  assert.ok(tags.every((t) => !t.includes(",")));
  const info = parseSnapshot({
    id: "abcdef1234",
    short_id: "abcdef12",
    time: "t",
    hostname: "h",
    paths: ["/srv/a,b%c"],
    tags,
  });
  assert.equal(info.unit, "web");
  assert.equal(info.type, "bind");
  assert.equal(info.path, "/srv/a,b%c");
  assert.equal(info.backupId, "2025-01-31T23-59-59Z");
  assert.equal(info.scope, "standard");
});

Deno.test("backup ids are UTC second-precision and parse back", () => {
  const d = new Date("2025-01-31T23:59:59.789Z");
  assert.equal(backupIdFor(d), "2025-01-31T23-59-59Z");
  assert.equal(backupIdTime("2025-01-31T23-59-59Z")?.toISOString(), "2025-01-31T23:59:59.000Z");
  assert.equal(backupIdTime("yesterday"), undefined);
});

const snap = (tags: string[]) =>
  parseSnapshot({
    id: "abcdef1234",
    short_id: "abcdef12",
    time: "t",
    hostname: "h",
    paths: ["/x"],
    tags,
  });
const base = [
  "stowage",
  "format=1",
  "unit=shop",
  "backup_id=2025-01-31T23-59-59Z",
  "scope=standard",
];

Deno.test("well-formed stowage tags are accepted with every field", () => {
  const v = snap([...base, "type=volume", "volume=shop_db-data.1"]);
  assert.equal(v.invalid, undefined);
  assert.equal(v.volume, "shop_db-data.1");
  const b = snap([...base, "type=bind", "path=/srv/shop/uploads"]);
  assert.equal(b.invalid, undefined);
  assert.equal(b.path, "/srv/shop/uploads");
  assert.equal(
    snap(["stowage", "unit=_host", "type=docker-config", "backup_id=2025-01-31T23-59-59Z"]).invalid,
    undefined,
  );
});

Deno.test("hostile tags mark the snapshot invalid and keep no path, volume or type", () => {
  const cases: [string[], RegExp][] = [
    [[...base, "type=volume", "volume=../../victim"], /volume/],
    [[...base, "type=volume", "volume=a/b"], /volume/],
    [[...base, "type=bind", "path=/etc/ssh"], /\/etc/],
    [[...base, "type=bind", "path=/srv/app/../../etc"], /normalised/],
    [[...base, "type=bind", "path=srv/app"], /normalised/],
    [[...base, "type=bind", "path=/srv/app/"], /normalised/],
    [[...base, "type=bind", "path=/srv/a%0Ab"], /path/],
    [[...base, "type=bind", "path=/"], /whole host/],
    [[...base, "type=volume"], /without volume=/],
    [[...base, "type=evil", "volume=x1"], /type/],
    [["stowage", "unit=../x", "type=recipe", "backup_id=2025-01-31T23-59-59Z"], /unit/],
    [["stowage", "unit=shop", "type=recipe", "backup_id=../../x"], /backup/],
    [[...base, "scope=everything", "type=recipe"], /scope/],
    [[...base, "type=volume", "volume=good1", "volume=../../bad"], /more than once/],
  ];
  for (const [tags, reason] of cases) {
    const info = snap(tags.map((t) => t.replace("%0A", "\n")));
    assert.match(info.invalid ?? "", reason, tags.join(" "));
    assert.equal(info.type, undefined);
    assert.equal(info.volume, undefined);
    assert.equal(info.path, undefined);
  }
  // Valid unit and backup id survive, so restore can refuse the point they belong to.
  const hostile = snap([...base, "type=volume", "volume=../../victim"]);
  assert.equal(hostile.unit, "shop");
  assert.equal(hostile.backupId, "2025-01-31T23-59-59Z");
  assert.equal(snap(["stowage", "unit=../x", "type=recipe"]).unit, undefined);
});

Deno.test("a dump's engine, service and database round-trip; a hostile database name is refused", () => {
  const base = {
    unit: "shop",
    backupId: "2025-01-31T23-59-59Z",
    timestamp: "2025-01-31T23:59:59Z",
    scope: "standard" as const,
  };
  const snap = (tags: string[]) =>
    parseSnapshot({
      id: "abcdef1234",
      short_id: "abcdef12",
      time: "t",
      hostname: "h",
      paths: [],
      tags,
    });
  const dump = { engine: "postgres" as const, service: "db", database: "shop_1" };
  const info = snap(buildTags({ ...base, type: "dump", dump }));
  assert.equal(info.invalid, undefined);
  assert.equal(info.type, "dump");
  assert.deepEqual(info.dump, dump);
  // The safety dump a restore takes is a pre-restore snapshot with the dump's fields.
  const safety = snap(buildTags({ ...base, type: "pre-restore", dump }));
  assert.equal(safety.invalid, undefined);
  assert.deepEqual(safety.dump, dump);
  for (const database of ["../etc/passwd", "a b", "x;rm", "-d"]) {
    const bad = snap(buildTags({ ...base, type: "dump", dump: { ...dump, database } }));
    assert.match(bad.invalid ?? "", /database/, database);
    assert.equal(bad.dump, undefined);
  }
  assert.match(
    snap(buildTags({ ...base, type: "dump" })).invalid ?? "",
    /dump snapshot without engine/,
  );
});

const dataSnap = (items: string[], paths: string[], type = "data") =>
  parseSnapshot({
    id: "abcdef1234",
    short_id: "abcdef12",
    time: "t",
    hostname: "h",
    paths,
    tags: [...base.map((t) => t === "format=1" ? "format=3" : t), `type=${type}`, ...items],
  });

Deno.test("a data snapshot's item= tags name each volume and bind path it holds, commas included", () => {
  const tags = buildTags({
    unit: "shop",
    type: "data",
    backupId: "2025-01-31T23-59-59Z",
    timestamp: "2025-01-31T23:59:59Z",
    scope: "standard",
    data: [
      { kind: "volume", name: "shop_db", path: "/mnt/dev,ice/db" },
      { kind: "bind", name: "/srv/shop/up,loads", path: "/srv/shop/up,loads" },
    ],
  });
  assert.ok(tags.every((t) => !t.includes(",")));
  const info = parseSnapshot({
    id: "abcdef1234",
    short_id: "abcdef12",
    time: "t",
    hostname: "h",
    paths: ["/mnt/dev,ice/db", "/srv/shop/up,loads"],
    tags,
  });
  assert.equal(info.invalid, undefined);
  assert.equal(info.type, "data");
  assert.deepEqual(info.items, [
    { kind: "volume", name: "shop_db", path: "/mnt/dev,ice/db" },
    { kind: "bind", name: "/srv/shop/up,loads", path: "/srv/shop/up,loads" },
  ]);
});

Deno.test("crafted item= tags make the data snapshot invalid: restore never maps them to a folder", () => {
  const V = "/var/lib/docker/volumes/shop_db/_data";
  const cases: [string[], string[], RegExp][] = [
    [[], [V], /without item=/],
    [["item=volume:shop_db:/var/lib/docker/volumes/other/_data"], [V], /not one of the paths/],
    [["item=volume:shop_db:/var/lib/../../etc"], ["/var/lib/../../etc"], /normalised/],
    [["item=volume:shop_db:/"], ["/"], /normalised absolute folder/],
    [["item=volume:shop_db:var/x"], ["var/x"], /normalised/],
    [["item=volume:../x:" + V], [V], /volume name/],
    [["item=volume:shop_db"], [V], /volume:NAME:PATH/],
    [["item=file:/etc/passwd"], ["/etc/passwd"], /not volume:NAME:PATH or bind:PATH/],
    [["item=bind:/etc/ssh"], ["/etc/ssh"], /\/etc/],
    [["item=bind:/srv/a\nb"], ["/srv/a\nb"], /control/],
    [["item=volume:shop_db:" + V, "item=volume:shop_db:/srv/x"], [V, "/srv/x"], /more than once/],
    [["item=volume:shop_db:/srv/x", "item=bind:/srv/x/y"], ["/srv/x", "/srv/x/y"], /overlap/],
  ];
  for (const [items, paths, why] of cases) {
    const s = dataSnap(items, paths);
    assert.ok(s.invalid, `${items.join(" ")} should be refused`);
    assert.match(s.invalid!, why, items.join(" "));
    assert.equal(s.type, undefined);
    assert.equal(s.items, undefined);
  }
  // item= tags belong to data and pre-restore snapshots only.
  assert.match(
    dataSnap(["volume=shop_db", "item=volume:shop_db:" + V], [V], "volume").invalid ?? "",
    /not type=data or type=pre-restore/,
  );
});

Deno.test("a pre-restore snapshot names its folders one way: item= tags, volume=, path= or a dump", () => {
  const V = "/var/lib/docker/volumes/shop_db/_data";
  const items = dataSnap(
    ["item=volume:shop_db:" + V, "item=bind:/srv/shop"],
    [V, "/srv/shop"],
    "pre-restore",
  );
  assert.equal(items.invalid, undefined);
  assert.equal(items.type, "pre-restore");
  assert.deepEqual(items.items?.map((d) => [d.kind, d.name, d.path]), [
    ["volume", "shop_db", V],
    ["bind", "/srv/shop", "/srv/shop"],
  ]);
  assert.equal(dataSnap(["volume=shop_db"], [V], "pre-restore").invalid, undefined);
  for (
    const tags of [["volume=shop_db", "item=volume:shop_db:" + V], [], [
      "volume=shop_db",
      "path=/srv/x",
    ]]
  ) {
    assert.match(
      dataSnap(tags, [V, "/srv/x"], "pre-restore").invalid ?? "",
      /exactly one of/,
      tags.join(" "),
    );
  }
  // The item= rules hold as for a data snapshot.
  assert.match(dataSnap(["item=bind:/etc"], ["/etc"], "pre-restore").invalid ?? "", /\/etc/);
});
