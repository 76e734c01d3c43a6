import assert from "node:assert/strict";
import { applyRetention, planRetention } from "./retention.ts";
import type { SnapshotInfo, SnapshotType } from "../model.ts";
import { buildTags, parseSnapshot, type TagFields } from "../tags.ts";
import { type RestorePoint, restorePoints } from "../restore/points.ts";

const snap = (id: string, time: string, extra: Partial<SnapshotInfo> = {}): SnapshotInfo => ({
  id,
  shortId: id,
  time,
  hostname: "h",
  paths: [],
  tags: [],
  unit: "u",
  type: "volume",
  volume: "v",
  ...extra,
});

// Every 6 hours for 20 days, ending 2025-03-20T18:00Z.
const series = Array.from({ length: 80 }, (_, i) => {
  const t = new Date(Date.UTC(2025, 2, 1, 0) + i * 6 * 3600_000);
  return snap(`s${String(i).padStart(2, "0")}`, t.toISOString());
});

Deno.test("latest keeps the N newest", () => {
  const d = applyRetention(series, { latest: 3 });
  assert.deepEqual(d.keep.map((s) => s.id), ["s79", "s78", "s77"]);
  assert.equal(d.forget.length, 77);
});

Deno.test("daily keeps the newest snapshot of each of the last N days", () => {
  const d = applyRetention(series, { daily: 3 });
  assert.deepEqual(d.keep.map((s) => s.time), [
    "2025-03-20T18:00:00.000Z",
    "2025-03-19T18:00:00.000Z",
    "2025-03-18T18:00:00.000Z",
  ]);
});

Deno.test("rules combine: a snapshot kept by any rule stays", () => {
  const d = applyRetention(series, { latest: 2, daily: 2, weekly: 2 });
  // latest: s79,s78; daily: s79 (03-20), s75 (03-19); weekly: s79 (W12), last of W11 = Sun 03-16 18:00 = s63
  assert.deepEqual(d.keep.map((s) => s.id), ["s79", "s78", "s75", "s63"]);
});

Deno.test("an empty or zero policy still keeps the group's last snapshot", () => {
  assert.deepEqual(applyRetention(series, {}).keep.map((s) => s.id), ["s79"]);
  assert.deepEqual(applyRetention(series, { latest: 0, daily: 0 }).keep.map((s) => s.id), ["s79"]);
  assert.deepEqual(applyRetention([], { latest: 1 }), { keep: [], forget: [] });
});

Deno.test("monthly and yearly buckets use UTC", () => {
  const s = [
    snap("a", "2024-12-31T23:30:00Z"),
    snap("b", "2025-01-01T00:30:00Z"),
    snap("c", "2025-01-15T00:00:00Z"),
  ];
  assert.deepEqual(applyRetention(s, { monthly: 2 }).keep.map((x) => x.id), ["c", "a"]);
  assert.deepEqual(applyRetention(s, { yearly: 5 }).keep.map((x) => x.id), ["c", "a"]);
});

// ---------------------------------------------------------------------------------------------
// Whole restore points

let n = 0;
/** One run's snapshots: recipe + volume, plus the marker unless `marker` is false. */
function run(
  at: string,
  opts: { host?: string; unit?: string; marker?: boolean; volume?: boolean; format?: 1 } = {},
): SnapshotInfo[] {
  const backupId = at.slice(0, 19).replaceAll(":", "-") + "Z";
  const mk = (type: SnapshotType, extra: Partial<TagFields> = {}) => {
    const id = (++n).toString(16).padStart(8, "0") + "0".repeat(56);
    let tags = buildTags({
      unit: opts.unit ?? "u",
      type,
      backupId,
      timestamp: at,
      scope: "standard",
      ...extra,
    });
    if (opts.format === 1) tags = tags.map((t) => (t.startsWith("format=") ? "format=1" : t));
    return parseSnapshot({
      id,
      short_id: id.slice(0, 8),
      time: at,
      hostname: opts.host ?? "h",
      paths: [],
      tags,
    });
  };
  const out = [mk("recipe")];
  if (opts.volume !== false) out.push(mk("volume", { volume: "vol" }));
  if (opts.marker ?? true) {
    out.push(mk("complete", { items: out.length, size: 1000 }));
  }
  return out;
}
const day = (d: number, h = 2) =>
  new Date(Date.UTC(2025, 2, d, h)).toISOString().slice(0, 19) + "Z";
const ids = (ps: RestorePoint[]) => ps.map((p) => p.backupId.slice(0, 13));

Deno.test("retention keeps or forgets whole points: every snapshot of a point together", () => {
  const snaps = [1, 2, 3, 4].flatMap((d) => run(day(d)));
  const d = planRetention(restorePoints(snaps, "u"), [{ latest: 2 }]);
  assert.deepEqual(ids(d.keep), ["2025-03-04T02", "2025-03-03T02"]);
  assert.deepEqual(ids(d.forget), ["2025-03-02T02", "2025-03-01T02"]);
  for (const p of d.forget) assert.equal(p.snapshots.length, 3, "recipe, volume and marker");
  assert.deepEqual(d.notes, []);
});

Deno.test("incomplete points count for no rule and go once a newer complete point exists", () => {
  const snaps = [
    ...run(day(1)),
    ...run(day(2), { marker: false }), // interrupted after the recipe and the volume
    ...run(day(3), { marker: false, volume: false }), // data phase failed
    ...run(day(4)),
  ];
  const points = restorePoints(snaps, "u");
  assert.deepEqual(points.map((p) => p.status), [
    "complete",
    "incomplete",
    "incomplete",
    "complete",
  ]);
  // latest: 2 keeps the two newest COMPLETE points: days 4 and 1, not days 4 and 3.
  const d = planRetention(points, [{ latest: 2 }]);
  assert.deepEqual(ids(d.keep), ["2025-03-04T02", "2025-03-01T02"]);
  assert.deepEqual(ids(d.forget), ["2025-03-03T02", "2025-03-02T02"]);
  assert.equal(d.notes.length, 2);
  assert.match(d.notes[0], /incomplete restore point 2025-03-03T02-00-00Z .*2025-03-04T02-00-00Z/);
});

Deno.test("an incomplete point with no newer complete one is kept", () => {
  const snaps = [...run(day(1)), ...run(day(2), { marker: false })];
  const d = planRetention(restorePoints(snaps, "u"), [{ latest: 1 }]);
  assert.deepEqual(ids(d.keep), ["2025-03-02T02", "2025-03-01T02"]);
  assert.deepEqual(d.forget, []);
  // Only incomplete points: all kept.
  const only = planRetention(restorePoints(run(day(1), { marker: false }), "u"), [{ latest: 1 }]);
  assert.equal(only.keep.length, 1);
});

Deno.test("a point whose marker counts more items than remain is incomplete", () => {
  const snaps = run(day(1)).filter((s) => s.type !== "volume"); // its volume forgotten by hand
  const [p] = restorePoints(snaps, "u");
  assert.equal(p.status, "incomplete");
  assert.match(p.problems[0], /saved 2 item\(s\); 1 are in the repository/);
});

Deno.test("hosts sharing a repository are separate series: one never prunes the other", () => {
  const snaps = [
    ...[1, 2, 3].flatMap((d) => run(day(d), { host: "a" })),
    ...run(day(1, 5), { host: "b" }),
  ];
  const d = planRetention(restorePoints(snaps, "u"), [{ latest: 1 }]);
  assert.deepEqual(d.keep.map((p) => `${p.host} ${p.backupId.slice(0, 13)}`), [
    "a 2025-03-03T02",
    "b 2025-03-01T05",
  ]);
  assert.deepEqual(d.forget.map((p) => p.host), ["a", "a"]);
});

Deno.test("a volume's own longer policy keeps whole points longer (any policy keeps)", () => {
  const snaps = [1, 2, 3, 4].flatMap((d) => run(day(d)));
  const d = planRetention(restorePoints(snaps, "u"), [{ latest: 1 }, { latest: 3 }]);
  assert.equal(d.keep.length, 3);
  assert.equal(planRetention(restorePoints(snaps, "u"), []).keep.length, 4);
});

Deno.test("old split points (format 1) are repaired: orphans go once a complete point covers them", () => {
  const legacy = { format: 1 as const, marker: false };
  const volumeOnly = run(day(1), legacy).filter((s) => s.type === "volume");
  const recipeOnly = run(day(2), { ...legacy, volume: false });
  const whole = run(day(3), legacy);
  const points = restorePoints([...volumeOnly, ...recipeOnly, ...whole], "u");
  assert.deepEqual(points.map((p) => p.status), ["unverified", "incomplete", "incomplete"]);
  const d = planRetention(points, [{ latest: 5 }]);
  assert.deepEqual(ids(d.keep), ["2025-03-03T02"]);
  assert.deepEqual(ids(d.forget), ["2025-03-02T02", "2025-03-01T02"]);
  assert.equal(d.notes.length, 2);
  // Nothing newer and complete: the orphan stays.
  assert.equal(planRetention(restorePoints(volumeOnly, "u"), [{}]).keep.length, 1);
});

Deno.test("pre-restore points are never forgotten by retention", () => {
  const undo = parseSnapshot({
    id: "f".repeat(64),
    short_id: "ffffffff",
    time: day(1),
    hostname: "h",
    paths: [],
    tags: buildTags({
      unit: "u",
      type: "pre-restore",
      backupId: "2025-03-01T01-00-00Z",
      timestamp: day(1, 1),
      scope: "standard",
      volume: "v",
    }),
  });
  const d = planRetention(restorePoints([undo, ...run(day(2)), ...run(day(3))], "u"), [{}]);
  assert.deepEqual(d.forget.map((p) => p.kind), ["backup"]);
  assert.ok(!d.keep.some((p) => p.kind === "pre-restore"), "not in either list: untouched");
});
