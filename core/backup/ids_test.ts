import assert from "node:assert/strict";
import { buildTags, buildWarmTags, parseSnapshot } from "../tags.ts";
import { isStowageError } from "../errors.ts";
import type { SnapshotInfo, SnapshotType } from "../model.ts";
import type { ResticSnapshot } from "../ports.ts";
import { resolveShortIds } from "./ids.ts";
import { restorePoints } from "../restore/points.ts";

let n = 0;
function raw(tags: string[], host = "h1", time = "2025-01-31T10:00:00Z"): ResticSnapshot {
  const id = (++n).toString(16).padStart(8, "0") + "a".repeat(56);
  return { id, short_id: id.slice(0, 8), time, hostname: host, paths: ["/x"], tags };
}
function snap(
  type: SnapshotType,
  backupId: string,
  extra: { volume?: string; path?: string; source?: "archive"; items?: number; host?: string } = {},
): SnapshotInfo {
  const ts = backupId.replace(/T(\d{2})-(\d{2})-(\d{2})Z/, "T$1:$2:$3Z");
  const { host, ...fields } = extra;
  return parseSnapshot(
    raw(
      buildTags({ unit: "web", type, backupId, timestamp: ts, scope: "standard", ...fields }),
      host,
      ts,
    ),
  );
}

const A = "2025-01-30T10-00-00Z";
const B = "2025-01-31T10-00-00Z";

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
