import assert from "node:assert/strict";
import { buildTags, buildWarmTags, parseSnapshot } from "../tags.ts";
import { restorePoints } from "../restore/points.ts";
import type { DataItem, SnapshotInfo, SnapshotType } from "../model.ts";
import type { PlanItem } from "./plan.ts";
import { bestParent, groupPasses, parentCandidates } from "./passes.ts";

const vol = (name: string, excludes: string[] = []): PlanItem => ({
  type: "volume",
  item: name,
  paths: [`/var/lib/docker/volumes/${name}/_data`],
  excludes,
  retention: {},
});
const bind = (path: string, excludes: string[] = []): PlanItem => ({
  type: "bind",
  item: path,
  paths: [path],
  excludes,
  retention: {},
});

Deno.test("a unit's volume folders and bind mounts share one pass, with each path named", () => {
  const passes = groupPasses([vol("web_db"), bind("/srv/web"), vol("web_app")]);
  assert.equal(passes.length, 1);
  assert.deepEqual(passes[0].paths, [
    "/var/lib/docker/volumes/web_db/_data",
    "/srv/web",
    "/var/lib/docker/volumes/web_app/_data",
  ]);
  assert.deepEqual(passes[0].data, [
    { kind: "volume", name: "web_db", path: "/var/lib/docker/volumes/web_db/_data" },
    { kind: "bind", name: "/srv/web", path: "/srv/web" },
    { kind: "volume", name: "web_app", path: "/var/lib/docker/volumes/web_app/_data" },
  ]);
});

Deno.test("what a pass writes into its tags, restore reads back as the same folders", () => {
  const [pass] = groupPasses([vol("web_db"), bind("/srv/web,site"), {
    ...vol("web_bv"),
    paths: ["/srv/pool/bv/"], // a device folder given with a trailing slash
  }]);
  assert.deepEqual(pass.paths, [
    "/var/lib/docker/volumes/web_db/_data",
    "/srv/web,site",
    "/srv/pool/bv",
  ]);
  const info = parseSnapshot({
    id: "a".repeat(64),
    short_id: "aaaaaaaa",
    time: "2025-01-31T10:00:00Z",
    hostname: "h1",
    paths: pass.paths,
    tags: buildTags({
      unit: "web",
      type: "data",
      backupId: "2025-01-31T10-00-00Z",
      timestamp: "2025-01-31T10:00:00Z",
      scope: "standard",
      data: pass.data,
    }),
  });
  assert.equal(info.invalid, undefined);
  assert.deepEqual(info.items, pass.data);
});

Deno.test("a volume's own excludes, and folders inside another, get a pass of their own", () => {
  const passes = groupPasses([
    vol("web_db", ["*.tmp"]),
    vol("web_cache", ["*.tmp", "cache"]),
    bind("/srv/web", ["*.tmp"]),
    bind("/srv/web/uploads", ["*.tmp"]),
    vol("web_app", ["*.tmp"]),
  ]);
  assert.deepEqual(passes.map((p) => p.items.map((i) => i.item)), [
    ["web_db", "/srv/web", "web_app"],
    ["web_cache"],
    ["/srv/web/uploads"],
  ]);
  assert.deepEqual(passes[1].excludes, ["*.tmp", "cache"]);
});

let n = 0;
function snap(
  type: SnapshotType,
  backupId: string,
  extra: { volume?: string; path?: string; items?: number; data?: DataItem[]; host?: string } = {},
): SnapshotInfo {
  const ts = backupId.replace(/T(\d{2})-(\d{2})-(\d{2})Z/, "T$1:$2:$3Z");
  const { host, ...fields } = extra;
  const id = (++n).toString(16).padStart(8, "0") + "a".repeat(56);
  const paths = fields.data?.map((d) => d.path) ??
    [fields.volume ? `/var/lib/docker/volumes/${fields.volume}/_data` : fields.path ?? "/x"];
  return parseSnapshot({
    id,
    short_id: id.slice(0, 8),
    time: ts,
    hostname: host ?? "h1",
    paths,
    tags: buildTags({ unit: "web", type, backupId, timestamp: ts, scope: "standard", ...fields }),
  });
}
const A = "2025-01-30T10-00-00Z";
const B = "2025-01-31T10-00-00Z";
const DB = {
  kind: "volume" as const,
  name: "web_db",
  path: "/var/lib/docker/volumes/web_db/_data",
};
const HTML = { kind: "bind" as const, name: "/srv/web", path: "/srv/web" };

Deno.test("the parent is the newest complete point's data snapshot, with the paths it holds", () => {
  const old = snap("data", A, { data: [DB, HTML] });
  const data = snap("data", B, { data: [DB, HTML] });
  const snaps = [old, snap("complete", A, { items: 2 }), data, snap("complete", B, { items: 2 })];
  const candidates = parentCandidates(snaps, "web", "h1");
  assert.deepEqual(candidates, [{ id: data.id, paths: [DB.path, HTML.path] }]);
  assert.equal(bestParent([DB.path, HTML.path], candidates), data.id);
});

Deno.test("after an old-layout point, the per-folder snapshot holding most of the pass is its parent", () => {
  const db = snap("volume", A, { volume: "web_db" });
  const html = snap("bind", A, { path: "/srv/web" });
  const snaps = [db, html, snap("complete", A, { items: 2 })];
  const candidates = parentCandidates(snaps, "web", "h1");
  assert.equal(candidates.length, 2);
  assert.equal(bestParent([HTML.path], candidates), html.id);
  assert.equal(bestParent(["/srv/other"], candidates), undefined);
  // The warm pass's snapshot goes first and wins a tie.
  const warm = { id: "f".repeat(64), paths: [DB.path, HTML.path] };
  assert.equal(bestParent([DB.path, HTML.path], [warm, ...candidates]), warm.id);
});

Deno.test("an incomplete newer point and another host's points are never a parent", () => {
  const good = snap("data", A, { data: [DB] });
  const snaps = [
    good,
    snap("complete", A, { items: 1 }),
    snap("data", B, { data: [DB] }), // killed run: no marker
    snap("data", "2025-02-01T10-00-00Z", { data: [DB], host: "h2" }),
    snap("complete", "2025-02-01T10-00-00Z", { items: 1, host: "h2" }),
  ];
  assert.deepEqual(parentCandidates(snaps, "web", "h1").map((c) => c.id), [good.id]);
});

Deno.test("warm snapshots are no restore point, name no unit and are no parent of a later run", () => {
  const warm = parseSnapshot({
    id: "b".repeat(64),
    short_id: "bbbbbbbb",
    time: "2025-01-31T10:00:00Z",
    hostname: "h1",
    paths: [DB.path],
    tags: buildWarmTags("web", B),
  });
  assert.equal(warm.unit, undefined);
  assert.equal(warm.invalid, undefined);
  assert.deepEqual(restorePoints([warm], "web"), []);
  assert.deepEqual(parentCandidates([warm], "web", "h1"), []);
});
