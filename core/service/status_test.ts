import assert from "node:assert/strict";
import { healthVerdict } from "./health.ts";
import { applyNotifications, applyRun, emptyResults } from "./results.ts";
import {
  applyEvent,
  type DaemonState,
  type Progress,
  statusDocument,
  statusLine,
} from "./status.ts";
import { runReport } from "./test_helpers.ts";

Deno.test("progress follows the run's events", () => {
  let p: Progress = { operation: "backup", startedAt: "2025-01-01T00:00:00Z", unitsDone: 0 };
  p = applyEvent(p, { type: "run.start", operation: "backup", backupId: "B", units: ["a", "b"] });
  p = applyEvent(p, { type: "unit.start", unit: "a", index: 1, total: 2, operation: "backup" });
  p = applyEvent(p, {
    type: "snapshot.progress",
    unit: "a",
    kind: "volume",
    item: "a_data",
    progress: { percentDone: 0.5 },
  });
  assert.deepEqual({ ...p }, {
    operation: "backup",
    startedAt: "2025-01-01T00:00:00Z",
    unitsDone: 0,
    backupId: "B",
    unit: "a",
    index: 1,
    total: 2,
    kind: "volume",
    item: "a_data",
    percentDone: 0.5,
  });
  p = applyEvent(p, { type: "unit.done", unit: "a", ok: true });
  assert.equal(p.unitsDone, 1);
});

Deno.test("STATUS line: running, last run, nothing yet", () => {
  const state: DaemonState = {
    startedAt: "2025-01-01T00:00:00Z",
    mode: "interval",
    nextRunAt: "2025-01-02T00:00:00.000Z",
  };
  assert.equal(
    statusLine(state, emptyResults()),
    "No backup recorded yet; next at 2025-01-02T00:00:00.000Z",
  );
  const results = applyRun(
    emptyResults(),
    runReport("2025-01-01T02:00:00Z", [["wp", "failed"], ["db", "ok"]]),
  );
  assert.equal(
    statusLine({ ...state, nextRunAt: undefined }, results),
    "Last backup: 2025-01-01T02:00:06.000Z, failed (wp)",
  );
  const running = {
    ...state,
    current: {
      operation: "backup" as const,
      startedAt: "x",
      unitsDone: 1,
      unit: "wordpress",
      index: 2,
      total: 5,
    },
  };
  assert.equal(statusLine(running, results), "Running backup: wordpress (2/5)");
});

Deno.test("status document carries per-unit last results and the health", () => {
  const results = applyRun(emptyResults(), runReport("2025-01-01T02:00:00Z", [["wp", "ok"]]));
  const now = new Date("2025-01-01T03:00:00Z");
  const doc = statusDocument({
    version: "1.0.0",
    host: "h",
    now,
    state: { startedAt: "2025-01-01T02:30:00Z", mode: "timer" },
    results,
    health: healthVerdict({ results, now, freshnessHours: 26 }),
  });
  assert.equal(doc.uptimeSeconds, 1800);
  assert.equal(doc.health.healthy, true);
  assert.equal(doc.inProgress, null);
  assert.equal(doc.lastRun?.outcome, "ok");
  assert.deepEqual(doc.units[0].last.snapshotIds, ["wp-snap-1", "wp-snap-2"]);
  assert.equal(doc.units[0].last.downtimeMs, 3000);
  assert.equal(doc.units[0].last.bytesAdded, 42);
});

Deno.test("status document shows each notification target's last delivery and counters", () => {
  const at = "2025-01-01T02:00:10.000Z";
  let results = applyRun(emptyResults(), runReport("2025-01-01T02:00:00Z", [["wp", "ok"]]));
  results = applyNotifications(results, [
    {
      target: "ops",
      kind: "webhook",
      event: "failure",
      ok: false,
      attempts: 3,
      at,
      error: "HTTP 500",
    },
  ]);
  const now = new Date("2025-01-01T03:00:00Z");
  const doc = statusDocument({
    version: "1",
    host: "h",
    now,
    state: { startedAt: "2025-01-01T02:30:00Z", mode: "timer" },
    results,
    health: healthVerdict({ results, now, freshnessHours: 26 }),
  });
  assert.deepEqual(doc.notify, [{
    target: "ops",
    kind: "webhook",
    last: { event: "failure", time: at, ok: false, error: "HTTP 500" },
    lastFailureAt: at,
    sentTotal: 0,
    failuresTotal: 1,
  }]);
});
