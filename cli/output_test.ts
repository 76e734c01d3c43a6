import assert from "node:assert/strict";
import { table, wrapWords } from "./output.ts";

Deno.test("wrapWords breaks at spaces, commas and slashes, and cuts only a word wider than the column", () => {
  assert.deepEqual(wrapWords("docker compose >= 2, or docker-compose >= 1.29", 20), [
    "docker compose >= 2,",
    "or docker-compose >=",
    "1.29",
  ]);
  assert.deepEqual(wrapWords("network,recipe,volume", 10), ["network,", "recipe,", "volume"]);
  assert.deepEqual(wrapWords("abcdefghij", 4), ["abcd", "efgh", "ij"]);
  assert.deepEqual(wrapWords("short", 10), ["short"]);
});

Deno.test("a table wider than the width wraps its widest column at word boundaries, every line fits", () => {
  const rows = [
    ["dependency", "status", "needs", "package"],
    ["Compose", "ok", "docker compose >= 2, or docker-compose >= 1.29", "docker-compose"],
    ["Docker Engine", "ok", "API >= 1.41", "docker.io"],
  ];
  const text = table(rows, 50);
  const lines = text.trimEnd().split("\n");
  for (const l of lines) assert.ok(l.length <= 50, `${l.length}: ${l}`);
  // Words stay whole: nothing like "docke/r.io".
  assert.ok(lines.some((l) => l.endsWith("docker.io")), text);
  assert.ok(lines.some((l) => l.includes(">= 1.29")), text);
  assert.ok(lines.length > rows.length, "a row took more than one line");
});

Deno.test("without a width (a pipe), or when it fits, each row is one line as before", () => {
  const rows = [["A", "B"], ["one two", "three"]];
  assert.equal(table(rows), "A        B\none two  three\n");
  assert.equal(table(rows, 80), "A        B\none two  three\n");
});

Deno.test("an indented cell keeps its indent on its continuation lines", () => {
  assert.deepEqual(wrapWords("  1 h ago (2026-11-29T06-54-29Z)", 24), [
    "  1 h ago",
    "  (2026-11-29T06-54-29Z)",
  ]);
});
