import assert from "node:assert/strict";
import {
  ALLOWED,
  compare,
  findViolations,
  importSpecifiers,
  key,
  type Violation,
} from "./check_boundaries.ts";

const keys = (vs: Violation[]) => vs.map(key).sort();

Deno.test("a command importing an adapter is a violation, type-only and multi-line imports too", () => {
  const found = findViolations([
    {
      path: "cli/commands/fake.ts",
      text:
        `import {\n  a,\n  b,\n} from "../../adapters/lock.ts";\nimport type { J } from "../../adapters/journal.ts";\n`,
    },
  ]);
  assert.deepEqual(keys(found), [
    "cli-adapter cli/commands/fake.ts -> adapters/journal.ts",
    "cli-adapter cli/commands/fake.ts -> adapters/lock.ts",
  ]);
});

Deno.test("any file in cli/, not only commands, importing an adapter is a violation", () => {
  const found = findViolations([
    {
      path: "cli/host_key.ts",
      text: `import { scanHostKeys } from "../adapters/ssh_host_keys.ts";`,
    },
    { path: "cli/x/y.ts", text: `import type { T } from "../../adapters/tailscale.ts";` },
    { path: "cli/ok.ts", text: `import { listPeers } from "../app/tailscale.ts";` },
    { path: "cli/ok_test.ts", text: `import { sshRun } from "../adapters/ssh_client.ts";` },
  ]);
  assert.deepEqual(keys(found), [
    "cli-adapter cli/host_key.ts -> adapters/ssh_host_keys.ts",
    "cli-adapter cli/x/y.ts -> adapters/tailscale.ts",
  ]);
});

Deno.test("Deno.* in core is a violation, except in tests and comments", () => {
  const found = findViolations([
    { path: "core/fake.ts", text: "export const pid = () => Deno.pid;\n" },
    { path: "core/fake_test.ts", text: "Deno.test('x', () => {});\n" },
    {
      path: "core/quiet.ts",
      text: "// Deno.Command is not used here\n/* Deno.pid */\nexport {};\n",
    },
  ]);
  assert.deepEqual(keys(found), ["core-deno core/fake.ts"]);
});

Deno.test("cli imported from core, adapters or app is a violation", () => {
  const found = findViolations([
    { path: "core/a.ts", text: `import type { Runtime } from "../cli/runtime.ts";` },
    { path: "adapters/x/b.ts", text: `export { y } from "../../cli/output.ts";` },
    { path: "app/c.ts", text: `const m = await import("../cli/mod.ts");` },
    { path: "cli/commands/d.ts", text: `import { z } from "../output.ts";` },
  ]);
  assert.deepEqual(keys(found), [
    "upward-cli adapters/x/b.ts -> cli/output.ts",
    "upward-cli app/c.ts -> cli/mod.ts",
    "upward-cli core/a.ts -> cli/runtime.ts",
  ]);
});

Deno.test("the app layer may not import adapters", () => {
  const found = findViolations([
    { path: "app/backup.ts", text: `import { acquireHostLock } from "../adapters/lock.ts";` },
    { path: "app/ok.ts", text: `import type { Clock } from "../core/ports.ts";` },
  ]);
  assert.deepEqual(keys(found), ["app-adapter app/backup.ts -> adapters/lock.ts"]);
});

Deno.test("a command importing another command is a violation; a group registering its subcommands is not", () => {
  const found = findViolations([
    { path: "cli/commands/backup.ts", text: `import { x } from "./restore.ts";` },
    { path: "cli/commands/admin.ts", text: `import { registerAdminRepo } from "./admin_repo.ts";` },
    { path: "cli/commands/admin_repo.ts", text: `import type { AdminCommand } from "./admin.ts";` },
    { path: "cli/commands/admin_repo2.ts", text: `import { y } from "./admin_config.ts";` },
  ]);
  assert.deepEqual(keys(found), [
    "command-command cli/commands/admin_repo2.ts -> cli/commands/admin_config.ts",
    "command-command cli/commands/backup.ts -> cli/commands/restore.ts",
  ]);
});

Deno.test("the allow-list fails on a new violation and on an entry that no longer exists", () => {
  const old: Violation = { rule: "core-deno", file: "core/old.ts" };
  const gone: Violation = { rule: "core-deno", file: "core/fixed.ts" };
  const fresh: Violation = {
    rule: "cli-adapter",
    file: "cli/commands/new.ts",
    target: "adapters/x.ts",
  };
  const { unexpected, stale } = compare([old, fresh], [old, gone]);
  assert.deepEqual(keys(unexpected), [key(fresh)]);
  assert.deepEqual(keys(stale), [key(gone)]);
  assert.deepEqual(compare([old], [old]), { unexpected: [], stale: [] });
});

Deno.test("import specifiers are read from imports, re-exports and dynamic imports, not comments", () => {
  const text = `import a from "./a.ts";\nimport "./side.ts";\n// import b from "./b.ts";\n` +
    `export * from "./c.ts";\nconst d = await import("./d.ts");\n`;
  assert.deepEqual(importSpecifiers(text).sort(), ["./a.ts", "./c.ts", "./d.ts", "./side.ts"]);
});

Deno.test("every allow-list entry says why it is there", () => {
  for (const a of ALLOWED) assert.ok(a.why.trim().length > 0, key(a));
});
