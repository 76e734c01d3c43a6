import assert from "node:assert/strict";
import { classifyVolume } from "./volume_kind.ts";

const MP = "/var/lib/docker/volumes/p_v/_data";
const local = (options: Record<string, string> | null) =>
  classifyVolume({ driver: "local", options, mountpoint: MP });

Deno.test("a local volume without options keeps its data in _data", () => {
  const cases: (Record<string, string> | null)[] = [null, {}, { o: "size=10m" }];
  for (const options of cases) {
    const l = local(options);
    assert.equal(l.kind, "local");
    assert.equal(l.path, MP);
  }
});

Deno.test("a bind-type local volume's data is its device folder, normalised", () => {
  const l = local({ type: "none", o: "bind", device: "/srv/app//data/" });
  assert.equal(l.kind, "bind");
  assert.equal(l.path, "/srv/app/data");
  assert.equal(l.unsafe, undefined);
  assert.match(l.describe, /\/srv\/app\/data/);
  // `rbind` and extra flags are still a bind; the type may be missing.
  assert.equal(local({ o: "rbind,ro", device: "/data/x" }).kind, "bind");
});

Deno.test("a bind-type volume's device folder obeys the same safe roots as bind mounts", () => {
  assert.match(local({ type: "none", o: "bind", device: "/etc/app" }).unsafe ?? "", /\/etc/);
  assert.match(local({ type: "none", o: "bind", device: "/srv/../etc" }).unsafe ?? "", /\/etc/);
  assert.match(
    local({ type: "none", o: "bind", device: "/var/lib/docker/volumes/x/_data" }).unsafe ?? "",
    /Docker/,
  );
  assert.match(local({ type: "none", o: "bind", device: "relative/dir" }).unsafe ?? "", /absolute/);
  assert.match(local({ type: "none", o: "bind" }).unsafe ?? "", /no device/);
  const extra = classifyVolume(
    {
      driver: "local",
      options: { type: "none", o: "bind", device: "/data/media/x" },
      mountpoint: MP,
    },
    ["/data/media"],
  );
  assert.match(extra.unsafe ?? "", /unsafe_paths/);
});

Deno.test("network file systems are mounted only while used (NFS and CIFS, classifier only: this kernel has neither)", () => {
  for (const type of ["nfs", "nfs4", "cifs", "smb", "NFS"]) {
    const l = local({ type, o: "addr=10.0.0.2,rw,password=hunter2", device: ":/export/app" });
    assert.equal(l.kind, "mounted", type);
    assert.equal(l.mountKind, "network");
    assert.equal(l.path, undefined, "never read from _data");
    assert.doesNotMatch(l.describe, /hunter2/, "option values never reach the description");
  }
});

Deno.test("a block device with a file system type is mounted only while used", () => {
  const l = local({ type: "ext4", device: "/dev/loop3" });
  assert.equal(l.kind, "mounted");
  assert.equal(l.mountKind, "block");
  assert.equal(l.fsType, "ext4");
  assert.match(l.describe, /\/dev\/loop3/);
  assert.equal(local({ type: "btrfs", device: "/dev/disk/by-uuid/abc" }).mountKind, "block");
  assert.equal(local({ device: "/dev/sdb1" }).kind, "mounted");
  assert.equal(local({ type: "overlay", o: "lowerdir=/a" }).mountKind, "other");
});

Deno.test("a tmpfs-type volume has nothing to save", () => {
  const l = local({ type: "tmpfs", device: "tmpfs", o: "size=100m" });
  assert.equal(l.kind, "tmpfs");
  assert.equal(l.path, undefined);
});

Deno.test("a volume of another driver is not readable from the host", () => {
  const l = classifyVolume({ driver: "rclone", options: { remote: "s3:bucket" }, mountpoint: MP });
  assert.equal(l.kind, "driver");
  assert.equal(l.path, undefined);
  assert.match(l.describe, /rclone/);
  assert.equal(classifyVolume({ driver: "", options: null, mountpoint: MP }).kind, "local");
});
