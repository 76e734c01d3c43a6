import assert from "node:assert/strict";
import { configSchema } from "../config/schema.ts";
import type { ContainerInfo, Unit } from "../model.ts";
import {
  configuredHooks,
  describeHook,
  labelHooks,
  parseLabelCommand,
  plannedHooks,
  runName,
} from "./plan.ts";

function container(
  name: string,
  service: string | undefined,
  labels: Record<string, string> = {},
): ContainerInfo {
  return {
    id: name,
    name,
    service,
    image: "busybox",
    imageId: "sha256:x",
    state: "running",
    running: true,
    hasHealthcheck: false,
    labels,
    mounts: [],
    networks: {},
    networkMode: "default",
  };
}

function unit(containers: ContainerInfo[], dependsOn: Record<string, string[]> = {}): Unit {
  return {
    name: "nc",
    kind: "stack",
    files: [],
    containers,
    dependsOn,
    images: [],
    volumes: [],
    binds: [],
    networks: [],
    gaps: [],
  };
}

const config = configSchema.parse({
  hooks: {
    pre_backup: [{ run: "/opt/notify.sh --token abc" }],
    post_backup: [{ run: ["/usr/bin/curl", "-fsS", "https://x"], mode: "optional" }],
  },
  units: {
    nc: { hooks: { pre_backup: [{ module: "/etc/stowage/hooks/maint.ts", timeout: 30 }] } },
    other: { hooks: { pre_backup: [{ run: "true" }] } },
  },
});

Deno.test("plannedHooks: global, then unit, then labels in stop order for pre phases", () => {
  const u = unit(
    [
      container("nc_db_1", "db", { "stowage.pre-backup": "sync" }),
      container("nc_app_1", "app", {
        "stowage.pre-backup": "touch /m",
        "stowage.hook-user": "www-data",
      }),
      container("nc_web_1", "web", { "stowage.post-backup": "true" }),
    ],
    { app: ["db"], web: ["app"] },
  );
  const hooks = plannedHooks(u, config, "pre_backup");
  assert.deepEqual(hooks.map((h) => h.source), [
    "hooks.pre_backup[0]",
    "units.nc.hooks.pre_backup[0]",
    "label stowage.pre-backup on nc_app_1",
    "label stowage.pre-backup on nc_db_1",
  ]);
  assert.deepEqual(hooks.map((h) => h.name), [
    "notify.sh",
    "maint.ts",
    "stowage.pre-backup@nc_app_1",
    "stowage.pre-backup@nc_db_1",
  ]);
  assert.equal(hooks[1].timeoutSeconds, 30);
  assert.equal(hooks[0].timeoutSeconds, 180);
  assert.equal(hooks[0].mode, "essential");
  const app = hooks[2];
  assert.ok(app.kind === "label");
  assert.deepEqual(app.argv, ["sh", "-c", "touch /m"]);
  assert.equal(app.user, "www-data");
  assert.equal(app.service, "app");
});

Deno.test("plannedHooks: post label hooks follow the start order (dependencies first)", () => {
  const u = unit(
    [
      container("nc_app_1", "app", { "stowage.post-backup": "a" }),
      container("nc_db_1", "db", { "stowage.post-backup": "b" }),
    ],
    { app: ["db"] },
  );
  const hooks = plannedHooks(u, config, "post_backup");
  assert.deepEqual(hooks.map((h) => h.source), [
    "hooks.post_backup[0]",
    "label stowage.post-backup on nc_db_1",
    "label stowage.post-backup on nc_app_1",
  ]);
  assert.equal(hooks[0].mode, "optional");
});

Deno.test("plannedHooks: a unit without config or labels gets only global hooks", () => {
  const hooks = plannedHooks(unit([container("x", undefined)]), config, "pre_restore");
  assert.deepEqual(hooks, []);
  const pre = plannedHooks(
    { ...unit([container("x", undefined)]), name: "x" },
    config,
    "pre_backup",
  );
  assert.deepEqual(pre.map((h) => h.source), ["hooks.pre_backup[0]"]);
});

Deno.test("labelHooks: JSON argv, bad timeout and mode labels become problems", () => {
  const u = unit([
    container("a", "a", {
      "stowage.pre-restore": '["/app/cli","maint","on"]',
      "stowage.hook-timeout": "5",
      "stowage.hook-mode": "optional",
    }),
    container("b", "b", {
      "stowage.pre-restore": "[not json",
      "stowage.hook-timeout": "0",
      "stowage.hook-mode": "sometimes",
    }),
  ]);
  const hooks = labelHooks(u, "pre_restore");
  // No dependencies: stop order is the reverse of the name order.
  assert.deepEqual(hooks.map((h) => h.kind === "label" && h.container), ["b", "a"]);
  const [b, a] = hooks;
  assert.ok(a.kind === "label" && b.kind === "label");
  assert.deepEqual(a.argv, ["/app/cli", "maint", "on"]);
  assert.equal(a.timeoutSeconds, 5);
  assert.equal(a.mode, "optional");
  assert.equal(a.problem, undefined);
  assert.match(b.problem ?? "", /not a JSON list/);
  assert.match(b.problem ?? "", /stowage.hook-timeout: expected seconds from 1 to 86400, got "0"/);
  assert.match(b.problem ?? "", /stowage.hook-mode/);
});

Deno.test("parseLabelCommand: empty and non-string lists are refused", () => {
  assert.ok("problem" in parseLabelCommand("  "));
  assert.ok("problem" in parseLabelCommand("[1,2]"));
  assert.ok("problem" in parseLabelCommand("[]"));
  assert.deepEqual(parseLabelCommand("echo hi"), { argv: ["sh", "-c", "echo hi"] });
});

Deno.test("configuredHooks lists every config hook with its path", () => {
  assert.deepEqual(configuredHooks(config).map((h) => h.source), [
    "hooks.pre_backup[0]",
    "hooks.post_backup[0]",
    "units.nc.hooks.pre_backup[0]",
    "units.other.hooks.pre_backup[0]",
  ]);
});

Deno.test("names and descriptions never carry a command's arguments", () => {
  assert.equal(runName("/opt/notify.sh --token abc"), "notify.sh");
  assert.equal(runName(["/usr/bin/curl", "https://secret@x"]), "curl");
  const d = JSON.stringify(configuredHooks(config).map(describeHook));
  assert.ok(!d.includes("abc") && !d.includes("https://x"), d);
});

Deno.test("verify hooks: the config's verify phase and stowage.verify labels, in start order", () => {
  const config = configSchema.parse({
    hooks: { verify: [{ run: "echo global" }] },
    units: { shop: { hooks: { verify: [{ module: "/etc/stowage/hooks/sql.ts" }] } } },
  });
  const unit = {
    name: "shop",
    containers: [
      { name: "sbx_db_1", service: "db", labels: { "stowage.verify": "pg_isready" } },
      { name: "sbx_app_1", service: "app", labels: {} },
    ],
    dependsOn: { app: ["db"] },
  } as unknown as Unit;
  const hooks = plannedHooks(unit, config, "verify");
  assert.deepEqual(hooks.map((h) => h.source), [
    "hooks.verify[0]",
    "units.shop.hooks.verify[0]",
    "label stowage.verify on sbx_db_1",
  ]);
});
