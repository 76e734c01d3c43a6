/** Restore planning by volume kind: data goes where it lives (issue 17). Pure. */
import { bareUnit } from "./hooks.ts";
import assert from "node:assert/strict";
import type { EngineVolume } from "../engine_types.ts";
import type { Unit, VolumeInfo } from "../model.ts";
import { type Recipe, REDACTED } from "../recipe.ts";
import { buildTags, parseSnapshot } from "../tags.ts";
import { restorePoints } from "./points.ts";
import { type HostView, planRestore, probeTargets, type RestoreOptions } from "./plan.ts";

const BID = "2025-01-31T10-00-00Z";
const TS = "2025-01-31T10:00:00Z";
const P = "files";

const volSnap = (volume: string, path: string, source?: "archive") => {
  const id = crypto.randomUUID().replaceAll("-", "");
  return parseSnapshot({
    id,
    short_id: id.slice(0, 8),
    time: TS,
    hostname: "h1",
    paths: [path],
    tags: buildTags({
      unit: P,
      type: "volume",
      backupId: BID,
      timestamp: TS,
      scope: "minimal",
      volume,
      ...(source ? { source } : {}),
    }),
  });
};

const meta = (name: string, options: Record<string, string>): VolumeInfo => ({
  name,
  driver: "local",
  mountpoint: `/var/lib/docker/volumes/${name}/_data`,
  labels: {},
  options,
  usedBy: [],
  external: false,
});

function recipeWith(volumes: VolumeInfo[]): Recipe {
  const unit: Unit = { ...bareUnit(P, "stack"), volumes };
  return {
    format: 1,
    stowageVersion: "0.1.0",
    backupId: BID,
    scope: "standard",
    createdAt: TS,
    host: "h1",
    unit,
    files: [],
    containers: [],
  };
}

const options = (o: Partial<RestoreOptions> = {}): RestoreOptions => ({
  parts: ["volumes"],
  volumes: [],
  start: false,
  stop: false,
  pinImages: false,
  networks: "refuse",
  secrets: {},
  ...o,
});

const host = (volumes: EngineVolume[], paths: HostView["paths"] = {}): HostView => ({
  containers: [],
  volumes,
  networks: [],
  paths,
  files: {},
});

const BIND_OPTS = { type: "none", o: "bind", device: "/srv/appdata" };

Deno.test("a bind-type volume is restored into its device folder, also when it is created again", () => {
  const point = restorePoints([volSnap(`${P}_bv`, "/srv/appdata")], P)[0];
  const recipe = recipeWith([meta(`${P}_bv`, BIND_OPTS)]);
  // Absent: created with the same driver and options, data into the device folder.
  const plan = planRestore({ point, recipe, options: options(), host: host([]) });
  assert.deepEqual(plan.conflicts, []);
  assert.equal(plan.data[0].target, "/srv/appdata");
  assert.deepEqual(plan.data[0].create, {
    Name: `${P}_bv`,
    Driver: "local",
    DriverOpts: BIND_OPTS,
    Labels: {},
  });
  assert.deepEqual(probeTargets({ point, recipe, options: options() }, []).dirs, ["/srv/appdata"]);
  // Present: the existing volume's device decides, and it is probed there.
  const existing: EngineVolume = {
    Name: `${P}_bv`,
    Driver: "local",
    Mountpoint: `/var/lib/docker/volumes/${P}_bv/_data`,
    Options: { ...BIND_OPTS, device: "/srv/appdata-now" },
  };
  const again = planRestore({
    point,
    recipe,
    options: options(),
    host: host([existing], { "/srv/appdata-now": "data" }),
  });
  assert.equal(again.data[0].target, "/srv/appdata-now");
  assert.equal(again.data[0].create, undefined);
  assert.equal(again.data[0].preRestore, true);
});

Deno.test("a recipe naming an unsafe device folder cannot steer a restore there", () => {
  const point = restorePoints([volSnap(`${P}_bv`, "/srv/appdata")], P)[0];
  const recipe = recipeWith([meta(`${P}_bv`, { type: "none", o: "bind", device: "/etc" })]);
  // The repository is untrusted: refused outright (restore.untrusted), not a conflict to override.
  assert.throws(
    () => planRestore({ point, recipe, options: options(), host: host([]) }),
    (e: Error & { code?: string }) =>
      e.code === "restore.untrusted" && /outside the safe roots/.test(e.message),
  );
});

Deno.test("a redacted driver option must be supplied: the restore refuses instead of writing the token", () => {
  const point = restorePoints([volSnap(`${P}_share`, `/${P}_share.tar`, "archive")], P)[0];
  const recipe = recipeWith([meta(`${P}_share`, {
    type: "cifs",
    device: "//nas/share",
    o: `username=u,password=${REDACTED},vers=3.0`,
  })]);
  const plan = planRestore({ point, recipe, options: options(), host: host([]) });
  const secret = plan.conflicts.find((c) => c.kind === "secret");
  assert.ok(secret, JSON.stringify(plan.conflicts));
  assert.match(secret.message, /driver option o was redacted.*docker volume create/);
});

Deno.test("a volume mounted only while used is not written under its mount point", () => {
  const point = restorePoints([volSnap(`${P}_lv`, `/${P}_lv.tar`, "archive")], P)[0];
  const existing: EngineVolume = {
    Name: `${P}_lv`,
    Driver: "local",
    Mountpoint: `/var/lib/docker/volumes/${P}_lv/_data`,
    Options: { type: "ext4", device: "/dev/loop3" },
  };
  const plan = planRestore({ point, options: options(), host: host([existing]) });
  assert.match(
    plan.conflicts.map((c) => c.message).join("\n"),
    /in place: ext4 on block device \/dev\/loop3.*--to-dir/,
  );
  // --to-dir is files only, and fine.
  const toDir = planRestore({ point, options: options({ toDir: "/tmp/out" }) });
  assert.deepEqual(toDir.conflicts, []);
});
