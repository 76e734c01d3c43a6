import assert from "node:assert/strict";
import type { Unit } from "./model.ts";
import { volumeKindsCheck } from "./doctor.ts";
import { resticCacheCheck, restorePointsCheck } from "./doctor.ts";
import { buildTags, parseSnapshot, type TagFields } from "./tags.ts";
import type { SnapshotType } from "./model.ts";

const unit = (volumes: [string, Record<string, string>][]): Unit => ({
  name: "u",
  kind: "standalone",
  files: [],
  containers: [],
  dependsOn: {},
  images: [],
  volumes: volumes.map(([name, options]) => ({
    name,
    driver: "local",
    mountpoint: `/var/lib/docker/volumes/${name}/_data`,
    labels: {},
    options,
    usedBy: [],
    external: false,
  })),
  binds: [],
  networks: [],
  gaps: [],
});

Deno.test("doctor counts volume kinds and warns about the ones that are not saved", () => {
  const ok = volumeKindsCheck([unit([["a", {}], ["b", { type: "nfs", device: ":/x" }]])]);
  assert.equal(ok.status, "ok");
  assert.match(ok.detail, /2 volume\(s\): 1 local, 1 mounted only while used/);
  const warn = volumeKindsCheck([unit([["t", { type: "tmpfs" }], [
    "e",
    { type: "none", o: "bind", device: "/etc/x" },
  ]])]);
  assert.equal(warn.status, "warn");
  assert.match(warn.detail, /u\/t: a tmpfs-type volume/);
  assert.match(warn.detail, /u\/e: device folder outside the safe roots/);
});

let n = 0;
const snap = (type: SnapshotType, backupId: string, extra: Partial<TagFields> = {}) => {
  const id = (++n).toString(16).padStart(64, "0");
  const time = backupId.replace(/T(\d\d)-(\d\d)-(\d\d)Z/, "T$1:$2:$3Z");
  return parseSnapshot({
    id,
    short_id: id.slice(0, 8),
    time,
    hostname: "h",
    paths: [],
    tags: buildTags({ unit: "web", type, backupId, timestamp: time, scope: "standard", ...extra }),
  });
};
const A = "2025-03-01T02-00-00Z";
const B = "2025-03-02T02-00-00Z";

Deno.test("doctor: every point complete is ok", () => {
  const c = restorePointsCheck([snap("recipe", A), snap("complete", A, { items: 1 })]);
  assert.equal(c.status, "ok");
});

Deno.test("doctor: incomplete points and orphans are named, and whether a newer complete point covers them", () => {
  const snaps = [
    snap("volume", A, { volume: "web_db" }), // an orphan volume: no recipe, no marker
    snap("recipe", B),
    snap("volume", B, { volume: "web_db" }),
    snap("complete", B, { items: 2 }),
    snap("recipe", "2025-03-03T02-00-00Z"), // the newest run failed after its recipe
  ];
  const c = restorePointsCheck(snaps);
  assert.equal(c.status, "warn");
  assert.match(c.detail, /2 incomplete restore point/);
  assert.match(
    c.detail,
    new RegExp(`${A} \\(1 snapshot\\(s\\)\\).*a newer complete point covers it`),
  );
  assert.match(c.detail, /2025-03-03T02-00-00Z .*no newer complete point/);
  assert.match(c.hint ?? "", /stowage backup/);
});

Deno.test("doctor names restic's cache dir and warns when restic cannot write it", () => {
  const dir = "/var/lib/stowage/cache/restic";
  const ok = resticCacheCheck(dir, { exists: true, probed: dir, writable: true });
  assert.equal(ok.status, "ok");
  assert.equal(ok.detail, `${dir} is writable`);
  const later = resticCacheCheck(dir, {
    exists: false,
    probed: "/var/lib/stowage",
    writable: true,
  });
  assert.equal(later.status, "ok");
  assert.match(later.detail, /created by the first restic call/);
  const ro = resticCacheCheck(dir, {
    exists: false,
    probed: "/var/lib/stowage",
    writable: false,
    error: "Read-only file system (os error 30)",
  });
  assert.equal(ro.status, "warn");
  assert.match(
    ro.detail,
    /^\/var\/lib\/stowage\/cache\/restic is not writable \(\/var\/lib\/stowage\)/,
  );
  assert.match(ro.detail, /Read-only file system/);
  assert.match(ro.hint!, /ReadWritePaths/);
});
