import assert from "node:assert/strict";
import { applyRun, emptyResults, forgetUnit, lastRun, parseResults } from "./results.ts";
import { runReport } from "./test_helpers.ts";

Deno.test("applyRun keeps the last attempt, the last success and counters per unit", () => {
  let doc = emptyResults();
  doc = applyRun(doc, runReport("2025-01-01T02:00:00Z", [["wp", "ok"], ["db", "ok"]]));
  doc = applyRun(doc, runReport("2025-01-02T02:00:00Z", [["wp", "failed"], ["db", "ok"]]));
  assert.equal(doc.runs.length, 2);
  assert.equal(doc.units.wp.last.outcome, "failed");
  assert.equal(doc.units.wp.last.error, "wp exploded");
  assert.equal(doc.units.wp.lastSuccess?.startedAt, "2025-01-01T02:00:00.000Z");
  assert.deepEqual(doc.units.wp.lastSuccess?.snapshotIds, ["wp-snap-1", "wp-snap-2"]);
  assert.equal(doc.units.wp.failuresTotal, 1);
  assert.equal(doc.units.wp.successesTotal, 1);
  assert.equal(doc.units.db.successesTotal, 2);
  assert.equal(lastRun(doc)?.backupId, "2025-01-02T02-00-00Z");
});

Deno.test("recording the same run twice changes nothing", () => {
  const r = runReport("2025-01-01T02:00:00Z", [["wp", "failed"]]);
  const once = applyRun(emptyResults(), r);
  const twice = applyRun(once, r);
  assert.equal(twice, once);
  assert.equal(twice.units.wp.failuresTotal, 1);
});

Deno.test("a run recorded late does not replace newer results", () => {
  let doc = applyRun(emptyResults(), runReport("2025-01-02T02:00:00Z", [["wp", "failed"]]));
  doc = applyRun(doc, runReport("2025-01-01T02:00:00Z", [["wp", "ok"]]));
  assert.equal(doc.units.wp.last.outcome, "failed");
  assert.equal(doc.units.wp.lastSuccess?.startedAt, "2025-01-01T02:00:00.000Z");
  assert.deepEqual(doc.runs.map((r) => r.startedAt), [
    "2025-01-01T02:00:00.000Z",
    "2025-01-02T02:00:00.000Z",
  ]);
});

Deno.test("the run history is bounded, unit counters are not", () => {
  let doc = emptyResults();
  for (let i = 0; i < 8; i++) {
    doc = applyRun(
      doc,
      runReport(new Date(Date.UTC(2025, 0, 1 + i, 2)).toISOString(), [["wp", "ok"]]),
      5,
    );
  }
  assert.equal(doc.runs.length, 5);
  assert.equal(doc.runs[0].startedAt, "2025-01-04T02:00:00.000Z");
  assert.equal(doc.units.wp.successesTotal, 8);
});

Deno.test("skipped units count as skips and keep the previous success", () => {
  let doc = applyRun(emptyResults(), runReport("2025-01-01T02:00:00Z", [["wp", "ok"]]));
  doc = applyRun(doc, runReport("2025-01-02T02:00:00Z", [["wp", "skipped"]]));
  assert.equal(doc.units.wp.last.outcome, "skipped");
  assert.equal(doc.units.wp.last.skipReason, "hook asked to skip");
  assert.equal(doc.units.wp.skipsTotal, 1);
  assert.equal(doc.units.wp.lastSuccess?.startedAt, "2025-01-01T02:00:00.000Z");
});

Deno.test("parseResults round-trips and rejects what is not a results document", () => {
  const doc = applyRun(emptyResults(), runReport("2025-01-01T02:00:00Z", [["wp", "ok"]]));
  assert.deepEqual(parseResults(JSON.stringify(doc)), doc);
  assert.equal(parseResults("{not json"), undefined);
  assert.equal(parseResults('{"version": 99, "runs": [], "units": {}}'), undefined);
  assert.equal(parseResults("[]"), undefined);
});

Deno.test("forgetUnit drops one unit", () => {
  const doc = applyRun(
    emptyResults(),
    runReport("2025-01-01T02:00:00Z", [["wp", "ok"], ["db", "ok"]]),
  );
  assert.deepEqual(Object.keys(forgetUnit(doc, "wp").units), ["db"]);
  assert.deepEqual(Object.keys(doc.units).sort(), ["db", "wp"]);
});
