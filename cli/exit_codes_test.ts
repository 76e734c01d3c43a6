import assert from "node:assert/strict";
import { EXIT_CODES } from "./exit_codes.ts";

const DOC = new URL("../docs/exit-codes.md", import.meta.url);

/** `| 3 | \`config.parse\` | ... |` rows of the published table. */
async function documentedCodes(): Promise<Map<string, number>> {
  const text = await Deno.readTextFile(DOC);
  const rows = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = line.match(/^\|\s*(\d+)\s*\|\s*`([^`]+)`\s*\|\s*(.*?)\s*\|\s*$/);
    if (!m) continue;
    assert.ok(!rows.has(m[2]), `docs/exit-codes.md lists '${m[2]}' twice`);
    assert.ok(m[3].length > 0, `docs/exit-codes.md gives no meaning for '${m[2]}'`);
    rows.set(m[2], Number(m[1]));
  }
  return rows;
}

Deno.test("docs/exit-codes.md lists exactly the codes of cli/exit_codes.ts, with the same numbers", async () => {
  const documented = await documentedCodes();
  assert.ok(documented.size > 0, "no table rows found in docs/exit-codes.md");
  const expected = new Map(Object.entries(EXIT_CODES));
  const missing = [...expected.keys()].filter((k) => !documented.has(k));
  const extra = [...documented.keys()].filter((k) => !expected.has(k));
  assert.deepEqual(missing, [], `codes missing from docs/exit-codes.md: ${missing.join(", ")}`);
  assert.deepEqual(extra, [], `codes in docs/exit-codes.md that do not exist: ${extra.join(", ")}`);
  for (const [code, exit] of expected) {
    assert.equal(documented.get(code), exit, `exit code of '${code}'`);
  }
});

Deno.test("exit codes: 0 only for ok, usage is 2, and every code fits a process exit status", () => {
  for (const [code, exit] of Object.entries(EXIT_CODES)) {
    assert.ok(Number.isInteger(exit) && exit >= 0 && exit <= 255, `${code} -> ${exit}`);
    if (code !== "ok") assert.notEqual(exit, 0, `${code} must not exit 0`);
  }
  assert.equal(EXIT_CODES.usage, 2);
  assert.equal(EXIT_CODES.bug, 1);
});
