import assert from "node:assert/strict";
import { healthVerdict } from "./health.ts";
import { applyRun, emptyResults } from "./results.ts";
import { runReport } from "./test_helpers.ts";

const at = (iso: string) => new Date(iso);

Deno.test("healthy when every unit's last backup is good and fresh", () => {
  const results = applyRun(
    emptyResults(),
    runReport("2025-01-01T02:00:00Z", [["wp", "ok"], ["db", "ok"]]),
  );
  const v = healthVerdict({ results, now: at("2025-01-01T12:00:00Z"), freshnessHours: 26 });
  assert.equal(v.healthy, true);
  assert.match(v.reason, /2 units backed up within 26 h/);
  assert.equal(v.units.length, 2);
});

Deno.test("unhealthy with no recorded backup at all", () => {
  const v = healthVerdict({
    results: emptyResults(),
    now: at("2025-01-01T12:00:00Z"),
    freshnessHours: 26,
  });
  assert.equal(v.healthy, false);
  assert.equal(v.reason, "no backup has been recorded yet");
});

Deno.test("a failed last backup makes it unhealthy, even when an older one succeeded", () => {
  let results = applyRun(
    emptyResults(),
    runReport("2025-01-01T02:00:00Z", [["wp", "ok"], ["db", "ok"]]),
  );
  results = applyRun(results, runReport("2025-01-01T08:00:00Z", [["wp", "failed"], ["db", "ok"]]));
  const v = healthVerdict({ results, now: at("2025-01-01T09:00:00Z"), freshnessHours: 26 });
  assert.equal(v.healthy, false);
  assert.match(v.reason, /last backup of 'wp' failed at .*: wp exploded/);
  assert.deepEqual(v.units.map((u) => [u.unit, u.healthy]), [["db", true], ["wp", false]]);
});

Deno.test("a stale last success makes it unhealthy", () => {
  const results = applyRun(emptyResults(), runReport("2025-01-01T02:00:00Z", [["wp", "ok"]]));
  const fresh = healthVerdict({ results, now: at("2025-01-02T03:00:00Z"), freshnessHours: 26 });
  assert.equal(fresh.healthy, true);
  const stale = healthVerdict({ results, now: at("2025-01-02T05:00:00Z"), freshnessHours: 26 });
  assert.equal(stale.healthy, false);
  assert.match(stale.reason, /last good backup of 'wp' is 27\.0 h old .* older than 26 h/);
});

Deno.test("skipped keeps health while the last success is fresh; never-succeeded is unhealthy", () => {
  let results = applyRun(emptyResults(), runReport("2025-01-01T02:00:00Z", [["wp", "ok"]]));
  results = applyRun(
    results,
    runReport("2025-01-01T04:00:00Z", [["wp", "skipped"], ["new", "skipped"]]),
  );
  const v = healthVerdict({ results, now: at("2025-01-01T05:00:00Z"), freshnessHours: 26 });
  assert.equal(v.units.find((u) => u.unit === "wp")?.healthy, true);
  assert.equal(v.healthy, false);
  assert.match(
    v.reason,
    /'new' has never been backed up successfully \(skipped: hook asked to skip\)/,
  );
});

Deno.test("units config marks skip are ignored", () => {
  let results = applyRun(
    emptyResults(),
    runReport("2025-01-01T02:00:00Z", [["wp", "ok"], ["old", "failed"]]),
  );
  results = applyRun(results, runReport("2025-01-01T03:00:00Z", [["wp", "ok"]]));
  const v = healthVerdict({
    results,
    now: at("2025-01-01T05:00:00Z"),
    freshnessHours: 26,
    ignoredUnits: ["old"],
  });
  assert.equal(v.healthy, true);
  assert.deepEqual(v.units.map((u) => u.unit), ["wp"]);
});
