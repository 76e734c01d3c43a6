import assert from "node:assert/strict";
import { behindSince, lagSeconds, newestCopied, planCopy } from "./plan.ts";
import { copyCheck } from "./doctor.ts";
import type { SnapshotInfo, SnapshotType } from "../model.ts";
import { buildTags, parseSnapshot } from "../tags.ts";

const HOST = "h";
let n = 0;
const hex = (s: string) => s.padEnd(64, "0");

/** A primary snapshot of unit `u`'s run `id` (backup id at hour `hour` of 2025-03-01). */
function snap(
  unit: string,
  hour: number,
  type: SnapshotType,
  opts: { items?: number; host?: string; volume?: string } = {},
): SnapshotInfo {
  const d = new Date(Date.UTC(2025, 2, 1, hour));
  const backupId = d.toISOString().slice(0, 19).replaceAll(":", "-") + "Z";
  const id = hex(`${(++n).toString(16)}a`);
  return parseSnapshot({
    id,
    short_id: id.slice(0, 8),
    time: d.toISOString(),
    hostname: opts.host ?? HOST,
    paths: ["/x"],
    tags: buildTags({
      unit,
      type,
      backupId,
      timestamp: d.toISOString().slice(0, 19) + "Z",
      scope: "standard",
      ...(type === "volume" ? { volume: opts.volume ?? "data" } : {}),
      ...(type === "complete" ? { items: opts.items ?? 2 } : {}),
    }),
  });
}

/** A complete point: recipe, one volume, the marker (returned in that order). */
const point = (unit: string, hour: number, host = HOST) => [
  snap(unit, hour, "recipe", { host }),
  snap(unit, hour, "volume", { host }),
  snap(unit, hour, "complete", { host }),
];

/** What `restic copy` leaves on the copy: a new id, `original` naming the source. */
const copied = (s: SnapshotInfo): SnapshotInfo => ({
  ...s,
  id: hex(`c${s.id.slice(0, 10)}`),
  original: s.id,
});

const ids = (s: SnapshotInfo[]) => s.map((x) => x.id);

Deno.test("planCopy: a point goes over data first, its completion marker in a second pass", () => {
  const p = point("app", 1);
  const plan = planCopy({ primary: p, copy: [], host: HOST, policies: [] });
  assert.deepEqual(plan.first, ids(p.slice(0, 2)).sort());
  assert.deepEqual(plan.second, [p[2].id]);
  assert.deepEqual(plan.points.map((x) => x.backupId), ["2025-03-01T01-00-00Z"]);
});

Deno.test("planCopy: a copy that is caught up needs nothing", () => {
  const p = [...point("app", 1), ...point("app", 2)];
  const plan = planCopy({ primary: p, copy: p.map(copied), host: HOST, policies: [] });
  assert.deepEqual(plan, { points: [], images: [], first: [], second: [], skipped: [] });
  assert.equal(behindSince(plan), undefined);
});

Deno.test("planCopy: after an outage every missing point goes over, oldest first, not only the latest", () => {
  const old = point("app", 1);
  const missed = point("app", 2);
  const latest = point("app", 3);
  const plan = planCopy({
    primary: [...latest, ...old, ...missed],
    copy: old.map(copied),
    host: HOST,
    policies: [],
  });
  assert.deepEqual(plan.points.map((x) => x.backupId), [
    "2025-03-01T02-00-00Z",
    "2025-03-01T03-00-00Z",
  ]);
  assert.deepEqual(plan.second, [missed[2].id, latest[2].id]);
  assert.equal(behindSince(plan), "2025-03-01T02:00:00.000Z");
});

Deno.test("planCopy: a point half copied earlier (no marker there) sends only what the copy lacks", () => {
  const p = point("app", 1);
  const plan = planCopy({ primary: p, copy: [copied(p[0])], host: HOST, policies: [] });
  assert.deepEqual(plan.first, [p[1].id]);
  assert.deepEqual(plan.second, [p[2].id]);
});

Deno.test("planCopy: incomplete points on the primary are not copied", () => {
  const broken = point("app", 1).slice(0, 2); // no marker: the run failed
  const plan = planCopy({ primary: broken, copy: [], host: HOST, policies: [] });
  assert.deepEqual(plan.points, []);
});

Deno.test("planCopy: points the copy's retention forgot (older than its newest) are not copied again", () => {
  const old = point("app", 1);
  const kept = point("app", 5);
  const plan = planCopy({
    primary: [...old, ...kept],
    copy: kept.map(copied),
    host: HOST,
    policies: [{ latest: 1 }],
  });
  assert.deepEqual(plan.points, []);
  assert.equal(plan.skipped.length, 1);
  assert.match(plan.skipped[0], /older than the copy's newest point/);
});

Deno.test("planCopy: a new copy of a long history gets only what its retention keeps", () => {
  const primary = [1, 2, 3, 4, 5].flatMap((h) => point("app", h));
  const plan = planCopy({ primary, copy: [], host: HOST, policies: [{ latest: 2 }] });
  assert.deepEqual(plan.points.map((x) => x.backupId), [
    "2025-03-01T04-00-00Z",
    "2025-03-01T05-00-00Z",
  ]);
  assert.equal(plan.skipped.length, 3);
});

Deno.test("planCopy: only this host's points and images; images go first", () => {
  const mine = point("app", 1);
  const theirs = point("app", 1, "other");
  const image = parseSnapshot({
    id: hex("ee"),
    short_id: "ee000000",
    time: "2025-03-01T00:30:00Z",
    hostname: HOST,
    paths: ["/x.tar"],
    tags: ["stowage", "unit=_images", "type=image", `image=sha256:${"ab".repeat(32)}`],
  });
  const plan = planCopy({
    primary: [...theirs, image, ...mine],
    copy: [],
    host: HOST,
    policies: [],
  });
  assert.deepEqual(plan.images, [image.id]);
  assert.equal(plan.first[0], image.id);
  assert.ok(!plan.first.some((id) => ids(theirs).includes(id)));
});

Deno.test("planCopy: units are independent series", () => {
  const a = point("a", 5);
  const b = point("b", 1);
  const plan = planCopy({ primary: [...a, ...b], copy: a.map(copied), host: HOST, policies: [] });
  assert.deepEqual(plan.points.map((x) => x.unit), ["b"]);
});

Deno.test("newestCopied and the lag: the newest complete point, seconds since the oldest missing one", () => {
  const p = [...point("app", 1), ...point("app", 2)];
  const onCopy = [...point("app", 1).map(copied)];
  // a marker-less (half copied) newer point does not count
  onCopy.push(copied(p[3]));
  assert.deepEqual(newestCopied(onCopy, HOST), {
    backupId: "2025-03-01T01-00-00Z",
    time: "2025-03-01T01:00:00.000Z",
  });
  assert.equal(newestCopied([], HOST), undefined);
  assert.equal(lagSeconds(undefined, new Date()), 0);
  assert.equal(lagSeconds("2025-03-01T02:00:00Z", new Date("2025-03-01T03:00:00Z")), 3600);
});

Deno.test("a copy's `original` is believed only as a full snapshot id", () => {
  const s = (original: string) =>
    parseSnapshot({
      id: hex("1"),
      short_id: "10000000",
      time: "2025-03-01T00:00:00Z",
      hostname: HOST,
      paths: [],
      original,
    }).original;
  assert.equal(s(hex("ab")), hex("ab"));
  assert.equal(s("../../etc"), undefined);
});

Deno.test("doctor: a copy behind says by how much and what it lacks; caught up is ok", () => {
  const p = [...point("app", 1), ...point("app", 2)];
  const now = new Date("2025-03-01T05:00:00Z");
  const plan = planCopy({ primary: p, copy: p.slice(0, 3).map(copied), host: HOST, policies: [] });
  const c = copyCheck("offsite", {
    plan,
    newest: newestCopied(p.slice(0, 3).map(copied), HOST),
    now,
  });
  assert.equal(c.status, "warn");
  assert.equal(
    c.detail,
    "behind by 3 h: lacks 1 restore point(s), the oldest app 2025-03-01T02-00-00Z; newest there 2025-03-01T01-00-00Z",
  );
  const ok = copyCheck("offsite", {
    plan: planCopy({ primary: p, copy: p.map(copied), host: HOST, policies: [] }),
    newest: { backupId: "2025-03-01T02-00-00Z" },
    now,
  });
  assert.deepEqual([ok.status, ok.detail], [
    "ok",
    "has every restore point (newest 2025-03-01T02-00-00Z)",
  ]);
  assert.equal(copyCheck("offsite", { error: "connection refused" }).status, "warn");
  assert.equal(copyCheck("offsite", { missing: true }).status, "warn");
});
