import assert from "node:assert/strict";
import { applyRetention, retentionGroups } from "./retention.ts";
import type { SnapshotInfo } from "../model.ts";

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

Deno.test("groups split by unit, type and volume; pre-restore snapshots are never grouped", () => {
  const g = retentionGroups([
    snap("1", "2025-01-01T00:00:00Z"),
    snap("2", "2025-01-02T00:00:00Z"),
    snap("3", "2025-01-01T00:00:00Z", { volume: "w" }),
    snap("4", "2025-01-01T00:00:00Z", { type: "recipe", volume: undefined }),
    snap("5", "2025-01-01T00:00:00Z", { type: "pre-restore" }),
  ]);
  assert.deepEqual([...g.values()].map((x) => x.map((s) => s.id)), [["1", "2"], ["3"], ["4"]]);
});
