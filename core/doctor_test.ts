import assert from "node:assert/strict";
import type { Unit } from "./model.ts";
import { volumeKindsCheck } from "./doctor.ts";

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
