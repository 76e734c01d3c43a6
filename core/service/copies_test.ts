import assert from "node:assert/strict";
import { parsePrometheusText, promValue } from "../../tests/support/prometheus.ts";
import { healthVerdict } from "./health.ts";
import { renderMetrics } from "./metrics.ts";
import { applyRun, emptyResults, parseResults, type ResultsDoc } from "./results.ts";
import { statusDocument } from "./status.ts";
import { runReport } from "./test_helpers.ts";
import type { CopyReport, RunReport } from "../report.ts";

const withCopy = (r: RunReport, c: Partial<CopyReport>): RunReport => ({
  ...r,
  copies: [{ name: "offsite", ok: true, copied: [], warnings: [], ...c }],
});

/** Run 1 copied; run 2's copy failed (target down); run 3 caught up. */
function history(): ResultsDoc[] {
  const r1 = withCopy(runReport("2025-01-01T02:00:00Z", [["wp", "ok"]]), {
    copied: ["wp 2025-01-01T02-00-00Z"],
    newest: { backupId: "2025-01-01T02-00-00Z", time: "2025-01-01T02:00:00Z" },
  });
  const r2 = withCopy(runReport("2025-01-02T02:00:00Z", [["wp", "ok"]]), {
    ok: false,
    error: "Cannot open the repository 'rest:http://nas/': connection refused",
  });
  const r3 = withCopy(runReport("2025-01-03T02:00:00Z", [["wp", "ok"]]), {
    copied: ["wp 2025-01-02T02-00-00Z", "wp 2025-01-03T02-00-00Z"],
    newest: { backupId: "2025-01-03T02-00-00Z", time: "2025-01-03T02:00:00Z" },
  });
  const d1 = applyRun(emptyResults(), r1);
  const d2 = applyRun(d1, r2);
  return [d1, d2, applyRun(d2, r3)];
}

Deno.test("results: a failed copy keeps the newest copied point and is behind since that run", () => {
  const [d1, d2, d3] = history();
  assert.deepEqual(d1.copies?.offsite, {
    name: "offsite",
    lastAttemptAt: "2025-01-01T02:00:06.000Z",
    ok: true,
    newestBackupId: "2025-01-01T02-00-00Z",
    newestTime: "2025-01-01T02:00:00Z",
    failuresTotal: 0,
  });
  assert.equal(d2.copies?.offsite.ok, false);
  assert.equal(d2.copies?.offsite.newestBackupId, "2025-01-01T02-00-00Z");
  assert.equal(d2.copies?.offsite.behindSince, "2025-01-02T02:00:00.000Z");
  assert.equal(d2.copies?.offsite.failuresTotal, 1);
  assert.equal(d3.copies?.offsite.behindSince, undefined, "caught up");
  assert.equal(d3.copies?.offsite.newestBackupId, "2025-01-03T02-00-00Z");
  // survives the round trip through the stored text
  assert.deepEqual(parseResults(JSON.stringify(d2))?.copies, d2.copies);
});

Deno.test("/status shows each copy's newest copied backup_id and its lag", () => {
  const [, d2] = history();
  const now = new Date("2025-01-02T05:00:00Z");
  const doc = statusDocument({
    version: "1",
    host: "h",
    now,
    state: { startedAt: "2025-01-01T00:00:00Z", mode: "timer" },
    results: d2,
    health: healthVerdict({ results: d2, now, freshnessHours: 26 }),
  });
  assert.deepEqual(doc.copies.map((c) => [c.name, c.ok, c.newestBackupId, c.lagSeconds]), [
    ["offsite", false, "2025-01-01T02-00-00Z", 3 * 3600],
  ]);
});

Deno.test("/metrics: stowage_copy_lag_seconds{target} grows while the copy is behind, 0 once caught up", () => {
  const [, d2, d3] = history();
  const render = (results: ResultsDoc, now: Date) =>
    parsePrometheusText(renderMetrics({
      results,
      version: "1",
      health: healthVerdict({ results, now, freshnessHours: 26 }),
      running: false,
      now,
    }));
  const behind = render(d2, new Date("2025-01-02T04:00:00Z"));
  assert.equal(promValue(behind, "stowage_copy_lag_seconds", { target: "offsite" }), 7200);
  assert.equal(promValue(behind, "stowage_copy_last_success", { target: "offsite" }), 0);
  assert.equal(promValue(behind, "stowage_copy_failures_total", { target: "offsite" }), 1);
  const later = render(d2, new Date("2025-01-02T06:00:00Z"));
  assert.equal(promValue(later, "stowage_copy_lag_seconds", { target: "offsite" }), 4 * 3600);
  const caughtUp = render(d3, new Date("2025-01-03T06:00:00Z"));
  assert.equal(promValue(caughtUp, "stowage_copy_lag_seconds", { target: "offsite" }), 0);
});
