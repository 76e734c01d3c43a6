import assert from "node:assert/strict";
import { buildTags, parseSnapshot } from "../tags.ts";
import { isStowageError } from "../errors.ts";
import type { SnapshotInfo, SnapshotType } from "../model.ts";
import {
  holdsNetworks,
  missingFromRecipe,
  parseWhen,
  requireComplete,
  requireUnit,
  restorePoints,
  selectPoint,
  tagValue,
  unitsIn,
} from "./points.ts";

let n = 0;
function snap(
  unit: string,
  type: SnapshotType,
  backupId: string,
  extra: {
    volume?: string;
    path?: string;
    host?: string;
    source?: "archive";
    time?: string;
    items?: number;
    size?: number;
    format?: 1;
  } = {},
): SnapshotInfo {
  const ts = backupId.replace(/T(\d{2})-(\d{2})-(\d{2})Z/, "T$1:$2:$3Z");
  const id = (++n).toString(16).padStart(8, "0") + "f".repeat(56);
  const tags = buildTags({
    unit,
    type,
    backupId,
    timestamp: ts,
    scope: "standard",
    volume: extra.volume,
    path: extra.path,
    source: extra.source,
    items: extra.items,
    size: extra.size,
  });
  return parseSnapshot({
    id,
    short_id: id.slice(0, 8),
    time: extra.time ?? ts,
    hostname: extra.host ?? "h1",
    paths: [extra.volume ? `/var/lib/docker/volumes/${extra.volume}/_data` : "/recipe.json"],
    tags: extra.format === 1 ? tags.map((t) => t.startsWith("format=") ? "format=1" : t) : tags,
  });
}

const A = "2025-01-30T10-00-00Z";
const B = "2025-01-31T10-00-00Z";
const all = [
  snap("web", "recipe", A),
  snap("web", "volume", A, { volume: "web_db" }),
  snap("web", "complete", A, { items: 2, size: 2048 }),
  snap("web", "recipe", B),
  snap("web", "network", B),
  snap("web", "volume", B, { volume: "web_db" }),
  snap("web", "volume", B, { volume: "web_app", source: "archive" }),
  snap("web", "bind", B, { path: "/srv/web,html" }),
  snap("web", "complete", B, { items: 5 }),
  snap("web", "pre-restore", "2025-02-01T08-00-00Z", { volume: "web_db" }),
  snap("other", "volume", B, { volume: "other_x" }),
];

Deno.test("snapshots group into restore points by backup id, newest first", () => {
  const points = restorePoints(all, "web");
  assert.deepEqual(points.map((p) => p.backupId), ["2025-02-01T08-00-00Z", B, A]);
  const b = points[1];
  assert.equal(b.kind, "backup");
  assert.equal(b.time, "2025-01-31T10:00:00.000Z");
  assert.ok(b.recipe && b.networks);
  assert.deepEqual(b.volumes.map((v) => [v.name, v.source]), [["web_app", "archive"], [
    "web_db",
    "dir",
  ]]);
  assert.deepEqual(b.binds.map((v) => v.name), ["/srv/web,html"]);
  assert.equal(points[0].kind, "pre-restore");
  assert.deepEqual(points[0].volumes.map((v) => v.name), ["web_db"]);
  assert.equal(points[2].networks, undefined);
});

Deno.test("latest skips pre-restore points; backup id picks any; before picks the newest older", () => {
  const points = restorePoints(all, "web");
  assert.equal(selectPoint(points, "web", { latest: true }, "h1").backupId, B);
  assert.equal(
    selectPoint(points, "web", { backupId: "2025-02-01T08-00-00Z" }, "h1").kind,
    "pre-restore",
  );
  assert.equal(
    selectPoint(points, "web", { before: new Date("2025-01-31T09:00:00Z") }, "h1").backupId,
    A,
  );
  assert.equal(
    selectPoint(points, "web", { before: new Date("2025-01-31T10:00:00Z") }, "h1").backupId,
    B,
  );
});

Deno.test("an unknown backup id names the closest ones", () => {
  const points = restorePoints(all, "web");
  try {
    selectPoint(points, "web", { backupId: "2025-01-31T10-00-01Z" }, "h1");
    assert.fail("expected an error");
  } catch (e) {
    assert.ok(isStowageError(e, "snapshot.notfound"));
    assert.match(e.message, /2025-01-31T10-00-01Z/);
    assert.match(e.hint ?? "", /2025-01-31T10-00-00Z/);
  }
  assert.throws(
    () => selectPoint(points, "web", { before: new Date("2024-01-01T00:00:00Z") }, "h1"),
    /before 2024-01-01/,
  );
});

Deno.test("an unknown unit lists the closest names", () => {
  assert.deepEqual(unitsIn(all), ["other", "web"]);
  requireUnit(all, "web");
  try {
    requireUnit(all, "wbe");
    assert.fail("expected an error");
  } catch (e) {
    assert.ok(isStowageError(e, "unit.notfound"));
    assert.match(e.hint ?? "", /'web'/);
  }
  assert.throws(() => requireUnit([], "web"), /no backup of it/);
});

Deno.test("the same backup id from two hosts prefers the local one", () => {
  const twin = ["h1", "h2"].flatMap((host) => [
    snap("web", "recipe", B, { host }),
    snap("web", "complete", B, { host, items: 1 }),
  ]);
  const points = restorePoints(twin, "web");
  assert.equal(points.length, 2);
  assert.equal(selectPoint(points, "web", { backupId: B }, "h2").host, "h2");
  assert.equal(selectPoint(points, "web", { latest: true }, "h2").host, "h2");
});

Deno.test("--before reads backup ids, ISO times and dates; rejects the rest", () => {
  assert.equal(parseWhen("2025-01-31T23-59-59Z").toISOString(), "2025-01-31T23:59:59.000Z");
  assert.equal(parseWhen("2025-01-31T23:59:59Z").toISOString(), "2025-01-31T23:59:59.000Z");
  assert.equal(parseWhen("2025-01-31 12:00").toISOString(), "2025-01-31T12:00:00.000Z");
  assert.equal(parseWhen("2025-01-31").toISOString(), "2025-01-31T00:00:00.000Z");
  assert.equal(parseWhen("2025-01-31T12:00:00+02:00").toISOString(), "2025-01-31T10:00:00.000Z");
  assert.throws(() => parseWhen("yesterday"), /not a time/);
});

Deno.test("tag values are unescaped", () => {
  const s = snap("web", "bind", B, { path: "/a,b" });
  assert.equal(tagValue(s, "path"), "/a,b");
  assert.equal(tagValue(s, "source"), undefined);
});

Deno.test("a point is complete only with its marker and every item the marker counts", () => {
  const C = "2025-02-02T10-00-00Z";
  const snaps = [...all, snap("web", "recipe", C), snap("web", "volume", C, { volume: "web_db" })];
  const points = restorePoints(snaps, "web");
  const c = points.find((p) => p.backupId === C)!;
  assert.equal(c.status, "incomplete");
  assert.match(c.problems[0], /no completion marker/);
  const a = points.find((p) => p.backupId === A)!;
  assert.equal(a.status, "complete");
  assert.equal(a.sizeBytes, 2048);
  assert.equal(a.marker?.type, "complete");
  // --latest skips the newer incomplete point; naming it needs --allow-incomplete.
  assert.equal(selectPoint(points, "web", { latest: true }, "h1").backupId, B);
  assert.equal(
    selectPoint(points, "web", { before: new Date("2025-02-03T00:00:00Z") }, "h1").backupId,
    B,
  );
  try {
    selectPoint(points, "web", { backupId: C }, "h1");
    assert.fail("expected an error");
  } catch (e) {
    assert.ok(isStowageError(e, "snapshot.incomplete"));
    assert.match(e.hint ?? "", /--allow-incomplete/);
    assert.match(e.details.join("\n"), /no completion marker/);
  }
  assert.equal(
    selectPoint(points, "web", { backupId: C }, "h1", { allowIncomplete: true }).backupId,
    C,
  );
});

Deno.test("only incomplete points: --latest says so and names the way out", () => {
  const C = "2025-02-02T10-00-00Z";
  const points = restorePoints([snap("web", "recipe", C)], "web");
  assert.throws(
    () => selectPoint(points, "web", { latest: true }, "h1"),
    (e) =>
      isStowageError(e, "snapshot.notfound") && /no complete restore point/.test(e.message) &&
      /--backup-id 2025-02-02T10-00-00Z --allow-incomplete/.test(e.hint ?? ""),
  );
});

Deno.test("format 1 points (before markers) are judged by their contents and checked against the recipe", () => {
  const old = { format: 1 as const };
  const snaps = [
    snap("web", "recipe", A, old),
    snap("web", "volume", A, { ...old, volume: "web_db" }),
    snap("web", "recipe", B, old), // the data phase failed: recipe only
    snap("web", "volume", "2025-01-29T10-00-00Z", { ...old, volume: "web_db" }), // recipe forgotten
  ];
  const points = restorePoints(snaps, "web");
  assert.deepEqual(points.map((p) => [p.backupId, p.status, p.format]), [
    [B, "incomplete", 1],
    [A, "unverified", 1],
    ["2025-01-29T10-00-00Z", "incomplete", 1],
  ]);
  assert.equal(selectPoint(points, "web", { latest: true }, "h1").backupId, A);
  const a = points[1];
  const recipe = {
    unit: {
      volumes: [{ name: "web_db" }, { name: "web_app" }, { name: "shared", external: true }],
      binds: [{ source: "/srv/html", safe: true }, { source: "/etc", safe: false }],
    },
  };
  assert.deepEqual(missingFromRecipe(a, recipe), ["volume web_app", "bind /srv/html"]);
  assert.throws(
    () => requireComplete(a, missingFromRecipe(a, recipe), {}),
    (e) => isStowageError(e, "snapshot.incomplete"),
  );
  requireComplete(a, missingFromRecipe(a, recipe), { allowIncomplete: true });
  requireComplete(a, missingFromRecipe(a, { unit: { volumes: [{ name: "web_db" }] } }), {});
});

Deno.test("a point with a data snapshot (format 3 and later): it counts as each volume and bind it holds", () => {
  const B = "2025-02-01T10-00-00Z";
  const ts = "2025-02-01T10:00:00Z";
  const dbPath = "/var/lib/docker/volumes/shop_db/_data";
  const data = parseSnapshot({
    id: "c".repeat(64),
    short_id: "cccccccc",
    time: ts,
    hostname: "h1",
    paths: [dbPath, "/srv/shop"],
    tags: buildTags({
      unit: "shop",
      type: "data",
      backupId: B,
      timestamp: ts,
      scope: "standard",
      data: [
        { kind: "volume", name: "shop_db", path: dbPath },
        { kind: "bind", name: "/srv/shop", path: "/srv/shop" },
      ],
    }),
  });
  const complete = [snap("shop", "recipe", B), data, snap("shop", "complete", B, { items: 3 })];
  const [p] = restorePoints(complete, "shop");
  assert.equal(p.status, "complete", p.problems.join("; "));
  assert.deepEqual(p.volumes.map((v) => [v.name, v.path, v.snapshot.id]), [
    ["shop_db", dbPath, data.id],
  ]);
  assert.deepEqual(p.binds.map((b) => [b.name, b.path]), [["/srv/shop", "/srv/shop"]]);
  // Written by this version (format 4: no networks snapshot; the recipe counts once).
  assert.equal(p.format, 4);
  // Retention forgets a point's snapshots together: the data snapshot once.
  assert.deepEqual(p.snapshots.filter((s) => s.id === data.id).length, 1);
  // The marker counts items: without its data snapshot the point is incomplete.
  const [q] = restorePoints([complete[0], complete[2]], "shop");
  assert.equal(q.status, "incomplete");
});

Deno.test("a format-4 pre-restore point: one snapshot holds every folder the restore replaced", () => {
  const R = "2025-02-02T10-00-00Z";
  const ts = "2025-02-02T10:00:00Z";
  const dbPath = "/var/lib/docker/volumes/shop_db/_data";
  const pre = parseSnapshot({
    id: "d".repeat(64),
    short_id: "dddddddd",
    time: ts,
    hostname: "h1",
    paths: [dbPath, "/srv/shop"],
    tags: buildTags({
      unit: "shop",
      type: "pre-restore",
      backupId: R,
      timestamp: ts,
      scope: "standard",
      data: [
        { kind: "volume", name: "shop_db", path: dbPath },
        { kind: "bind", name: "/srv/shop", path: "/srv/shop" },
      ],
    }),
  });
  const [p] = restorePoints([pre], "shop");
  assert.equal(p.kind, "pre-restore");
  assert.equal(p.status, "complete", p.problems.join("; "));
  assert.deepEqual(p.volumes.map((v) => [v.name, v.path, v.snapshot.id]), [
    ["shop_db", dbPath, pre.id],
  ]);
  assert.deepEqual(p.binds.map((b) => [b.name, b.path, b.snapshot.id]), [
    ["/srv/shop", "/srv/shop", pre.id],
  ]);
});

Deno.test("a point holds its networks in a networks snapshot, or from format 4 in its recipe", () => {
  const [a, b] = restorePoints(all, "web").filter((p) => p.kind !== "pre-restore")
    .sort((x, y) => x.backupId.localeCompare(y.backupId));
  // Written with today's format (4): the recipe is enough.
  assert.equal(a.networks, undefined);
  assert.equal(a.format, 4);
  assert.equal(holdsNetworks(a), true);
  assert.equal(holdsNetworks(b), true);
  // Format 1 without a networks snapshot: the recipe does not hold them.
  const old = restorePoints([snap("db", "recipe", A, { format: 1 })], "db")[0];
  assert.equal(old.format, 1);
  assert.equal(holdsNetworks(old), false);
});
