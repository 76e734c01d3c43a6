import assert from "node:assert/strict";
import { isStowageError } from "../errors.ts";
import type { ResticSnapshot } from "../ports.ts";
import { resolveShortIds } from "./ids.ts";

let n = 0;
function raw(tags: string[], host = "h1", time = "2025-01-31T10:00:00Z"): ResticSnapshot {
  const id = (++n).toString(16).padStart(8, "0") + "a".repeat(56);
  return { id, short_id: id.slice(0, 8), time, hostname: host, paths: ["/x"], tags };
}

Deno.test("short ids resolve from one listing; full ids pass through", () => {
  const a = raw([]), b = raw([]);
  const full = resolveShortIds([a.short_id, b.id], [a, b]);
  assert.equal(full.get(a.short_id), a.id);
  assert.equal(full.get(b.id), b.id);
});

Deno.test("a short id with no match or two matches is refused", () => {
  const a = raw([]);
  const twin = { ...raw([]), id: a.id.slice(0, 8) + "b".repeat(56) };
  assert.throws(() => resolveShortIds(["deadbeef"], [a]), (e) => isStowageError(e, "repo.error"));
  assert.throws(
    () => resolveShortIds([a.short_id], [a, twin]),
    (e) => isStowageError(e, "repo.error"),
  );
});
