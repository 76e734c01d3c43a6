/** The backup plan reads each volume where its data lives (issue 17). Pure. */
import { bareUnit } from "../restore/hooks.ts";
import assert from "node:assert/strict";
import type { ContainerInfo, Unit, VolumeInfo } from "../model.ts";
import { configSchema } from "../config/schema.ts";
import { classifyVolume } from "../volume_kind.ts";
import { planUnit } from "./plan.ts";

const volume = (name: string, driver: string, options: Record<string, string>): VolumeInfo => {
  const mountpoint = `/var/lib/docker/volumes/${name}/_data`;
  return {
    name,
    driver,
    mountpoint,
    labels: {},
    options,
    usedBy: ["app"],
    external: false,
    location: classifyVolume({ driver, options, mountpoint }),
  };
};

function unitWith(volumes: VolumeInfo[], mounted = true): Unit {
  const app: ContainerInfo = {
    id: "c1",
    name: "app",
    image: "busybox",
    imageId: "sha256:x",
    state: "running",
    running: true,
    hasHealthcheck: false,
    labels: {},
    mounts: mounted
      ? volumes.map((v) => ({
        type: "volume" as const,
        source: v.name,
        destination: `/v/${v.name}`,
        readOnly: false,
      }))
      : [],
    networks: {},
    networkMode: "default",
  };
  return { ...bareUnit("u", "standalone"), containers: [app], volumes };
}

const config = configSchema.parse({});

Deno.test("each volume kind is read from where its data is, never from an empty _data", () => {
  const plan = planUnit(
    unitWith([
      volume("plain", "local", {}),
      volume("bv", "local", { type: "none", o: "bind", device: "/srv/appdata" }),
      volume("nfs", "local", { type: "nfs", o: "addr=10.0.0.2", device: ":/export" }),
      volume("blk", "local", { type: "ext4", device: "/dev/loop0" }),
      volume("tmp", "local", { type: "tmpfs", device: "tmpfs" }),
      volume("plug", "rclone", { remote: "s3:x" }),
      volume("etc", "local", { type: "none", o: "bind", device: "/etc/app" }),
    ]),
    config,
    "minimal",
  );
  const items = Object.fromEntries(
    plan.items.map((i) => [i.item, [i.read, i.volumeKind, i.paths.join(",")]]),
  );
  assert.deepEqual(items, {
    plain: ["dir", "local", "/var/lib/docker/volumes/plain/_data"],
    bv: ["dir", "bind", "/srv/appdata"],
    nfs: ["archive", "mounted", ""],
    blk: ["archive", "mounted", ""],
    plug: ["archive", "driver", ""],
  });
  assert.match(plan.items.find((i) => i.item === "nfs")!.how ?? "", /nfs.*container app, \/v\/nfs/);
});

Deno.test("a volume mounted only while used with no container to read it through is a named gap", () => {
  const plan = planUnit(
    unitWith([volume("nfs", "local", { type: "nfs", device: ":/export" })], false),
    config,
    "minimal",
  );
  assert.deepEqual(plan.items, []);
  assert.deepEqual(plan.gaps.map((g) => [g.kind, g.item]), [["volume-unreadable", "nfs"]]);
});

Deno.test("a unit from an older recipe without volume kinds is classified again", () => {
  const v = volume("bv", "local", { type: "none", o: "bind", device: "/srv/appdata" });
  delete v.location;
  const plan = planUnit(unitWith([v]), config, "minimal");
  assert.deepEqual(plan.items[0].paths, ["/srv/appdata"]);
});
