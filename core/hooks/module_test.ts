import assert from "node:assert/strict";
import { describeError, validateHookExport } from "./module.ts";
import { SDK_MAJOR, SDK_VERSION } from "../../hooks-sdk/version.ts";
import type { SdkMajor } from "../../hooks-sdk/mod.ts";
import sdkText from "../../hooks-sdk/mod.ts" with { type: "text" };

// The SDK's declared major and version.ts must agree, or modules that type-check are refused.
const _major: SdkMajor = SDK_MAJOR;
const _back: typeof SDK_MAJOR = 1 as SdkMajor;

Deno.test("SDK types and version.ts agree", () => {
  assert.ok(SDK_VERSION.startsWith(`${SDK_MAJOR}.`));
  assert.ok(
    sdkText.includes(`version ${SDK_VERSION}`),
    "hooks-sdk/mod.ts names the SDK version in its header",
  );
  assert.ok(
    !/^import /m.test(sdkText),
    "the SDK file stands alone (it is copied by `admin hooks init`)",
  );
});

Deno.test("validateHookExport accepts a hook and names every problem", () => {
  assert.ok(validateHookExport({ default: { sdk: 1, name: "x", preBackup() {} } }).hook);
  const cases: [unknown, RegExp][] = [
    [{}, /has no default export/],
    [{ default: 3 }, /default-exports a number \(3\)/],
    [{ default: () => {} }, /default-exports a function/],
    [{ default: { preBackup() {} } }, /declares no SDK version \(add `sdk: 1`\)/],
    [
      { default: { sdk: 2, preBackup() {} } },
      /written for hooks SDK 2, but this stowage supports SDK 1/,
    ],
    [
      { default: { sdk: 1, prebackup() {} } },
      /unknown key 'prebackup' \(did you mean 'preBackup'\?\)/,
    ],
    [{ default: { sdk: 1, preBackup: "touch" } }, /has 'preBackup' as a string/],
    [{ default: { sdk: 1 } }, /defines none of preBackup, postBackup, preRestore, postRestore/],
    [{ default: { sdk: 1, name: "", postBackup() {} } }, /'name'/],
  ];
  for (const [mod, re] of cases) {
    const r = validateHookExport(mod);
    assert.equal(r.hook, undefined);
    assert.match(r.problems.join("\n"), re);
  }
});

Deno.test("describeError points at the module's own line, without a stowage stack", () => {
  const e = new Error("database is locked");
  e.stack =
    "Error: database is locked\n    at helper (file:///etc/stowage/hooks/db.ts?v=1-2:12:9)\n    at run (file:///opt/stowage/core/hooks/run.ts:1:1)";
  assert.equal(
    describeError(e, "/etc/stowage/hooks/db.ts"),
    "database is locked (at /etc/stowage/hooks/db.ts:12:9)",
  );
  assert.equal(describeError("plain string"), "plain string");
  const t = new TypeError("x is not a function");
  t.stack = "TypeError: x is not a function\n    at file:///h/a.ts:3:1";
  assert.equal(describeError(t), "TypeError: x is not a function (at /h/a.ts:3:1)");
});
