import assert from "node:assert/strict";
import { backupIdFor, backupIdTime, buildTags, parseSnapshot } from "./tags.ts";

Deno.test("tags round-trip through restic's snapshot list, commas included", () => {
  const tags = buildTags({
    unit: "web",
    type: "bind",
    backupId: "2025-01-31T23-59-59Z",
    timestamp: "2025-01-31T23:59:59Z",
    scope: "standard",
    path: "/srv/a,b%c",
  });
  assert.ok(tags.every((t) => !t.includes(",")));
  const info = parseSnapshot({
    id: "abcdef1234",
    short_id: "abcdef12",
    time: "t",
    hostname: "h",
    paths: ["/srv/a,b%c"],
    tags,
  });
  assert.equal(info.unit, "web");
  assert.equal(info.type, "bind");
  assert.equal(info.path, "/srv/a,b%c");
  assert.equal(info.backupId, "2025-01-31T23-59-59Z");
  assert.equal(info.scope, "standard");
});

Deno.test("backup ids are UTC second-precision and parse back", () => {
  const d = new Date("2025-01-31T23:59:59.789Z");
  assert.equal(backupIdFor(d), "2025-01-31T23-59-59Z");
  assert.equal(backupIdTime("2025-01-31T23-59-59Z")?.toISOString(), "2025-01-31T23:59:59.000Z");
  assert.equal(backupIdTime("yesterday"), undefined);
});
