import assert from "node:assert/strict";
import { parsePrometheusText, promValue } from "../../tests/support/prometheus.ts";
import { healthVerdict } from "./health.ts";
import { renderMetrics } from "./metrics.ts";
import { applyRun, emptyResults, parseResults } from "./results.ts";
import { statusDocument } from "./status.ts";
import { runReport } from "./test_helpers.ts";
import { applyVerify, type VerifyResult } from "./verify_results.ts";

const drill = (runId: string, at: string, ok: boolean, rto?: number): VerifyResult => ({
  unit: "shop",
  runId,
  backupId: "2025-01-01T02-00-00Z",
  startedAt: at,
  finishedAt: at.replace(":00Z", ":30Z"),
  status: ok ? "healthy" : "failed",
  ...(rto !== undefined ? { recoverySeconds: rto } : {}),
  ...(ok ? {} : { error: "service app unhealthy", failing: ["app unhealthy"] }),
});

Deno.test("drills: last, last success and counters per unit; the same run twice counts once", () => {
  let doc = applyVerify(emptyResults(), drill("aaaaaaaa", "2025-01-01T03:00:00Z", true, 12.5));
  doc = applyVerify(doc, drill("bbbbbbbb", "2025-01-02T03:00:00Z", false));
  doc = applyVerify(doc, drill("bbbbbbbb", "2025-01-02T03:00:00Z", false));
  const v = doc.verify!.shop;
  assert.equal(v.last.runId, "bbbbbbbb");
  assert.equal(v.lastSuccess?.runId, "aaaaaaaa");
  assert.equal(v.successesTotal, 1);
  assert.equal(v.failuresTotal, 1);
});

Deno.test("drills survive backup runs and a reload of the results file", () => {
  let doc = applyVerify(emptyResults(), drill("aaaaaaaa", "2025-01-01T03:00:00Z", true, 12.5));
  doc = applyRun(doc, runReport("2025-01-01T04:00:00Z", [["shop", "ok"]]));
  const again = parseResults(JSON.stringify(doc))!;
  assert.equal(again.verify?.shop.lastSuccess?.recoverySeconds, 12.5);
  assert.equal(Object.keys(again.units).length, 1);
});

Deno.test("/metrics: verify last success, recovery seconds and failures per unit", () => {
  let results = applyVerify(emptyResults(), drill("aaaaaaaa", "2025-01-01T03:00:00Z", true, 12.5));
  results = applyVerify(results, drill("bbbbbbbb", "2025-01-02T03:00:00Z", false));
  const text = renderMetrics({
    results,
    version: "1",
    health: healthVerdict({ results, now: new Date(), freshnessHours: 26 }),
    running: false,
  });
  const f = parsePrometheusText(text);
  assert.equal(
    promValue(f, "stowage_verify_last_success_timestamp_seconds", { unit: "shop" }),
    Date.parse("2025-01-01T03:00:30Z") / 1000,
  );
  assert.equal(promValue(f, "stowage_verify_recovery_seconds", { unit: "shop" }), 12.5);
  assert.equal(promValue(f, "stowage_verify_failures_total", { unit: "shop" }), 1);
  assert.equal(f.get("stowage_verify_failures_total")?.type, "counter");
});

Deno.test("/status: each unit's last drill with its time, outcome and recovery time", () => {
  const results = applyVerify(emptyResults(), drill("aaaaaaaa", "2025-01-01T03:00:00Z", true, 7));
  const now = new Date("2025-01-01T04:00:00Z");
  const doc = statusDocument({
    version: "1",
    host: "h",
    now,
    state: { startedAt: now.toISOString(), mode: "timer" } as never,
    results,
    health: healthVerdict({ results, now, freshnessHours: 26 }),
  });
  assert.deepEqual(doc.verify, [{
    unit: "shop",
    last: {
      time: "2025-01-01T03:00:30Z",
      backupId: "2025-01-01T02-00-00Z",
      outcome: "healthy",
      recoverySeconds: 7,
      error: null,
    },
    lastSuccessAt: "2025-01-01T03:00:30Z",
    lastRecoverySeconds: 7,
    successesTotal: 1,
    failuresTotal: 0,
  }]);
});

Deno.test("/health with status.verify_max_age_hours: a fresh backup also needs a recent passed drill", () => {
  const now = new Date("2025-01-03T03:00:00Z");
  let results = applyRun(emptyResults(), runReport("2025-01-03T02:00:00Z", [["shop", "ok"]]));
  assert.equal(healthVerdict({ results, now, freshnessHours: 26 }).healthy, true);
  const none = healthVerdict({ results, now, freshnessHours: 26, verifyMaxAgeHours: 24 });
  assert.equal(none.healthy, false);
  assert.match(none.reason, /'shop' has never passed a restore drill/);
  results = applyVerify(results, drill("aaaaaaaa", "2025-01-01T03:00:00Z", true, 9));
  const old = healthVerdict({ results, now, freshnessHours: 26, verifyMaxAgeHours: 24 });
  assert.equal(old.healthy, false);
  assert.match(old.reason, /last passed restore drill of 'shop' is 48\.0 h old/);
  results = applyVerify(results, drill("bbbbbbbb", "2025-01-03T01:00:00Z", true, 9));
  assert.equal(
    healthVerdict({ results, now, freshnessHours: 26, verifyMaxAgeHours: 24 }).healthy,
    true,
  );
});
