import assert from "node:assert/strict";
import {
  isOwnSnapshot,
  type MountInfo,
  type PathProbe,
  planFsSnapshots,
  requireViolation,
} from "./plan.ts";

// A btrfs filesystem on /dev/loop7: top level mounted at /pool, subvolume `vols/db` (id 257)
// also mounted on its own at /srv/db, `vols` (256) a subvolume holding it.
const top: MountInfo = { target: "/pool", source: "/dev/loop7", fsroot: "/", fstype: "btrfs" };
const dbOnly: MountInfo = {
  target: "/srv/db",
  source: "/dev/loop7",
  fsroot: "/vols/db",
  fstype: "btrfs",
};
const root: MountInfo = { target: "/", source: "/dev/sda1", fsroot: "/", fstype: "ext4" };
const subvolumes = [
  { id: 256, path: "vols" },
  { id: 257, path: "vols/db" },
  { id: 258, path: "vols/db/inner" },
];

function probe(path: string, mount: MountInfo, subvolumeId?: number, mounts = [root, top]) {
  const p: PathProbe = { path, mount, mounts };
  if (subvolumeId !== undefined) p.btrfs = { subvolumeId, subvolumes };
  return p;
}
const opts = { mode: "auto" as const, unit: "shop", backupId: "2026-01-02T03-04-05Z" };

Deno.test("a folder in a btrfs subvolume is read from a snapshot of that subvolume, bound over its own path", () => {
  const probes = new Map([["/pool/vols/data", probe("/pool/vols/data", top, 256)]]);
  const plan = planFsSnapshots(
    [{ type: "bind", item: "/pool/vols/data", paths: ["/pool/vols/data"] }],
    probes,
    opts,
  );
  assert.deepEqual(plan.snapshots, [{
    method: "btrfs",
    source: "/pool/vols",
    dest: "/pool/.stowage-snapshots/stowage-shop-2026-01-02T03-04-05Z-0",
  }]);
  assert.deepEqual(plan.items, [{
    type: "bind",
    item: "/pool/vols/data",
    method: "btrfs",
    mounts: [{
      source: "/pool/.stowage-snapshots/stowage-shop-2026-01-02T03-04-05Z-0/data",
      target: "/pool/vols/data",
    }],
    snapshots: [0],
  }]);
  assert.ok(isOwnSnapshot(plan.snapshots[0]));
});

Deno.test("two folders of one subvolume share one snapshot", () => {
  const probes = new Map([
    ["/pool/vols/a", probe("/pool/vols/a", top, 256)],
    ["/pool/vols/b/c", probe("/pool/vols/b/c", top, 256)],
  ]);
  const plan = planFsSnapshots(
    [
      { type: "volume", item: "a", paths: ["/pool/vols/a"] },
      { type: "bind", item: "/pool/vols/b/c", paths: ["/pool/vols/b/c"] },
    ],
    probes,
    opts,
  );
  assert.equal(plan.snapshots.length, 1);
  assert.deepEqual(plan.items.map((i) => i.method === "none" ? [] : i.snapshots), [[0], [0]]);
});

Deno.test("a subvolume mounted on its own is snapshotted through the top-level mount, outside what is read", () => {
  const mounts = [root, top, dbOnly];
  const probes = new Map([["/srv/db", probe("/srv/db/", dbOnly, 257, mounts)]]);
  // vols/db holds the nested subvolume inner: refused with the reason.
  const plan = planFsSnapshots([{ type: "volume", item: "db", paths: ["/srv/db"] }], probes, opts);
  assert.equal(plan.items[0].method, "none");
  assert.match((plan.items[0] as { reason: string }).reason, /nested subvolume \/vols\/db\/inner/);

  const noNested: PathProbe = {
    ...probe("/srv/db", dbOnly, 257, mounts),
    btrfs: { subvolumeId: 257, subvolumes: subvolumes.slice(0, 2) },
  };
  const ok = planFsSnapshots(
    [{ type: "volume", item: "db", paths: ["/srv/db"] }],
    new Map([["/srv/db", noNested]]),
    opts,
  );
  assert.deepEqual(ok.snapshots[0], {
    method: "btrfs",
    source: "/pool/vols/db",
    dest: "/pool/.stowage-snapshots/stowage-shop-2026-01-02T03-04-05Z-0",
  });
  assert.deepEqual(ok.items[0].method === "btrfs" && ok.items[0].mounts, [{
    source: "/pool/.stowage-snapshots/stowage-shop-2026-01-02T03-04-05Z-0",
    target: "/srv/db",
  }]);

  // Without the top level mounted, the only view is the folder itself: no room for a snapshot.
  const alone = planFsSnapshots(
    [{ type: "volume", item: "db", paths: ["/srv/db"] }],
    new Map([["/srv/db", { ...noNested, mounts: [root, dbOnly] }]]),
    opts,
  );
  assert.match(
    (alone.items[0] as { reason: string }).reason,
    /no mount of its filesystem leaves room for a snapshot outside \/srv\/db/,
  );
});

Deno.test("no snapshot for: another filesystem, a mount inside the folder, the Engine's archive reads, off", () => {
  const ext4 = probe("/var/lib/docker/volumes/x/_data", root);
  const withMount = probe("/pool/vols/data", top, 256, [root, top, {
    target: "/pool/vols/data/nfs",
    source: "srv:/x",
    fsroot: "/",
    fstype: "nfs",
  }]);
  const probes = new Map([[ext4.path, ext4], [withMount.path, withMount]]);
  const items = [
    { type: "volume", item: "x", paths: [ext4.path] },
    { type: "bind", item: withMount.path, paths: [withMount.path] },
    { type: "volume", item: "eng", paths: [], read: "archive" as const },
    { type: "volume", item: "gone", paths: ["/nowhere"] },
  ];
  const reasons = planFsSnapshots(items, probes, opts).items.map((i) =>
    i.method === "none" ? i.reason : i.method
  );
  assert.match(reasons[0], /is on ext4 \(\/dev\/sda1\), which is neither btrfs nor an LVM/);
  assert.match(reasons[1], /\/pool\/vols\/data\/nfs is mounted inside it/);
  assert.match(reasons[2], /read through the Docker Engine/);
  assert.match(reasons[3], /was not examined/);
  const off = planFsSnapshots(items, probes, { ...opts, mode: "off" });
  assert.deepEqual(off.snapshots, []);
  assert.ok(off.items.every((i) => i.method === "none" && /is off/.test(i.reason)));
});

Deno.test("require names every folder that cannot be snapshotted; auto and a fully snapshot-able unit pass", () => {
  const ext4 = probe("/data", root);
  const good = probe("/pool/vols/a", top, 256);
  const probes = new Map([[ext4.path, ext4], [good.path, good]]);
  const items = [
    { type: "bind", item: "/data", paths: ["/data"] },
    { type: "bind", item: "/pool/vols/a", paths: ["/pool/vols/a"] },
  ];
  const req = planFsSnapshots(items, probes, { ...opts, mode: "require" });
  assert.match(requireViolation(req) ?? "", /^bind \/data: \/data is on ext4/);
  assert.equal(requireViolation(planFsSnapshots(items, probes, opts)), undefined);
  assert.equal(
    requireViolation(planFsSnapshots(items.slice(1), probes, { ...opts, mode: "require" })),
    undefined,
  );
});

Deno.test("the journal can only name snapshots stowage makes", () => {
  const ok = {
    method: "btrfs" as const,
    source: "/a",
    dest: "/pool/.stowage-snapshots/stowage-x-1",
  };
  assert.ok(isOwnSnapshot(ok));
  assert.ok(!isOwnSnapshot({ ...ok, dest: "/pool/vols" }));
  assert.ok(!isOwnSnapshot({ ...ok, dest: "/pool/.stowage-snapshots/../vols" }));
  assert.ok(!isOwnSnapshot({ ...ok, dest: "/pool/.stowage-snapshots/other" }));
  assert.ok(!isOwnSnapshot({ ...ok, dest: "pool/.stowage-snapshots/stowage-x" }));
});

Deno.test("a snapshot never goes inside another folder the unit reads; an LVM volume is named but not snapshotted yet", () => {
  // The unit also reads the whole pool: a snapshot in /pool/.stowage-snapshots would be saved
  // with it, and no other view of vols exists, so vols/a is read while stopped.
  const a = probe("/pool/vols/a", top, 256);
  const all = probe("/pool", top, 5);
  const plan = planFsSnapshots(
    [
      { type: "bind", item: "/pool/vols/a", paths: ["/pool/vols/a"] },
      { type: "bind", item: "/pool", paths: ["/pool"] },
    ],
    new Map([[a.path, a], [all.path, all]]),
    opts,
  );
  assert.deepEqual(plan.snapshots, []);
  assert.ok(plan.items.every((i) => i.method === "none"), JSON.stringify(plan.items));

  const lv: PathProbe = {
    path: "/srv/data",
    mount: { target: "/srv/data", source: "/dev/mapper/vg0-data", fsroot: "/", fstype: "ext4" },
    mounts: [root],
    lvm: { vg: "vg0", lv: "data", attr: "-wi-ao----", vgFreeBytes: 1 << 30 },
  };
  const r = planFsSnapshots(
    [{ type: "bind", item: "/srv/data", paths: ["/srv/data"] }],
    new Map([[lv.path, lv]]),
    opts,
  );
  assert.match(
    (r.items[0] as { reason: string }).reason,
    /LVM logical volume vg0\/data: LVM snapshots are not supported yet/,
  );
});

Deno.test("another mount of the same subvolume (the Engine's _data mount) is no place for its snapshot", () => {
  // Only vols/db's own mount and the Engine's mount of it on _data exist: both views are inside
  // the folder read, whatever their names.
  const dataMount: MountInfo = {
    target: "/var/lib/docker/volumes/db/_data",
    source: "/dev/loop7",
    fsroot: "/vols/db",
    fstype: "btrfs",
  };
  const p: PathProbe = {
    path: "/srv/db",
    mount: dbOnly,
    mounts: [root, dbOnly, dataMount],
    btrfs: { subvolumeId: 257, subvolumes: subvolumes.slice(0, 2) },
  };
  const plan = planFsSnapshots(
    [{ type: "volume", item: "db", paths: ["/srv/db"] }],
    new Map([["/srv/db", p]]),
    opts,
  );
  assert.deepEqual(plan.snapshots, []);
  assert.match(
    (plan.items[0] as { reason: string }).reason,
    /no mount of its filesystem leaves room/,
  );
  // With the top level mounted as well, that view is used.
  const withTop = planFsSnapshots(
    [{ type: "volume", item: "db", paths: ["/srv/db"] }],
    new Map([["/srv/db", { ...p, mounts: [root, dataMount, dbOnly, top] }]]),
    opts,
  );
  assert.equal(
    withTop.snapshots[0]?.method === "btrfs" && withTop.snapshots[0].source,
    "/pool/vols/db",
  );
});
