import assert from "node:assert/strict";
import { StowageError } from "../errors.ts";
import { bundlePasswordPlan, passwordFromFileText } from "./password.ts";

Deno.test("password: a password file wins; otherwise a generated one needs a terminal on stderr", () => {
  assert.deepEqual(
    bundlePasswordPlan({ passwordFile: "/p", stderrIsTerminal: false, json: true }),
    { kind: "file", path: "/p" },
  );
  assert.deepEqual(bundlePasswordPlan({ stderrIsTerminal: true, json: true }), {
    kind: "generate",
  });
  assert.deepEqual(bundlePasswordPlan({ stderrIsTerminal: true, json: false }), {
    kind: "generate",
  });
  for (const json of [true, false]) {
    assert.throws(
      () => bundlePasswordPlan({ stderrIsTerminal: false, json }),
      (e) =>
        e instanceof StowageError && e.code === "not.terminal" &&
        /--password-file/.test(e.hint ?? ""),
    );
  }
});

Deno.test("password: the first line of the file, as openssl's -pass file: reads it", () => {
  assert.equal(passwordFromFileText("s3cret\n", "/p"), "s3cret");
  assert.equal(passwordFromFileText("s3cret\r\nignored\n", "/p"), "s3cret");
  assert.equal(passwordFromFileText("no newline", "/p"), "no newline");
  assert.equal(passwordFromFileText("  spaces kept  \n", "/p"), "  spaces kept  ");
  assert.throws(() => passwordFromFileText("\nsecond line\n", "/p"), /first line is empty/);
});
