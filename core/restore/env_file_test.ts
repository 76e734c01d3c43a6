import assert from "node:assert/strict";
import { composeVariables, parseEnvFile } from "./env_file.ts";

Deno.test("env files: comments, export, quotes; a bad line names its number, not its content", () => {
  assert.deepEqual(parseEnvFile("# c\n\nexport A=1\nB = 'two words'\nC=\"x=y\"\nD=\n"), {
    A: "1",
    B: "two words",
    C: "x=y",
    D: "",
  });
  assert.throws(
    () => parseEnvFile("A=1\nsecret-value-here\n"),
    (e: Error) => /line 2/.test(e.message) && !e.message.includes("secret-value"),
  );
});

Deno.test("compose variables: $VAR and ${VAR}, not $$ or ones with defaults", () => {
  assert.deepEqual(
    composeVariables("a: ${DB_PASSWORD}\nb: $TOKEN\nc: $$NOT\nd: ${WITH:-x}\ne: ${DASH-y}\n"),
    ["DB_PASSWORD", "TOKEN"],
  );
});
