import assert from "node:assert/strict";
import { parsePrometheusText, promValue } from "../../tests/support/prometheus.ts";
import { healthVerdict } from "./health.ts";
import { escapeLabelValue, renderMetrics } from "./metrics.ts";
import { applyNotifications, applyRun, emptyResults } from "./results.ts";
import { runReport } from "./test_helpers.ts";

Deno.test("metrics render per-unit series that parse as Prometheus text", () => {
  let results = applyRun(
    emptyResults(),
    runReport("2025-01-01T02:00:00Z", [["wp", "ok"], ["db", "ok"]]),
  );
  results = applyRun(results, runReport("2025-01-02T02:00:00Z", [["wp", "failed"], ["db", "ok"]]));
  const now = new Date("2025-01-02T03:00:00Z");
  const text = renderMetrics({
    results,
    version: "1.2.3",
    health: healthVerdict({ results, now, freshnessHours: 26 }),
    running: false,
    uptimeSeconds: 12.7,
    repository: {
      sizeBytes: 123456,
      snapshotsByUnit: { wp: 4, db: 6 },
      checkedAt: now.toISOString(),
    },
  });
  const f = parsePrometheusText(text);
  assert.equal(promValue(f, "stowage_info", { version: "1.2.3" }), 1);
  assert.equal(promValue(f, "stowage_healthy"), 0);
  assert.equal(promValue(f, "stowage_uptime_seconds"), 12);
  // wp's last success is the first run: finished 5 s after 2025-01-01T02:00:00Z
  assert.equal(
    promValue(f, "stowage_unit_last_success_timestamp_seconds", { unit: "wp" }),
    Date.UTC(2025, 0, 1, 2, 0, 5) / 1000,
  );
  assert.equal(promValue(f, "stowage_unit_last_run_success", { unit: "wp" }), 0);
  assert.equal(promValue(f, "stowage_unit_last_run_success", { unit: "db" }), 1);
  assert.equal(promValue(f, "stowage_unit_failures_total", { unit: "wp" }), 1);
  assert.equal(promValue(f, "stowage_unit_successes_total", { unit: "db" }), 2);
  assert.equal(promValue(f, "stowage_unit_last_duration_seconds", { unit: "db" }), 5);
  assert.equal(promValue(f, "stowage_unit_last_downtime_seconds", { unit: "db" }), 3);
  assert.equal(promValue(f, "stowage_unit_last_added_bytes", { unit: "db" }), 42);
  assert.equal(promValue(f, "stowage_unit_last_snapshots", { unit: "db" }), 2);
  assert.equal(promValue(f, "stowage_unit_snapshots", { unit: "wp" }), 4);
  assert.equal(promValue(f, "stowage_repository_size_bytes"), 123456);
  assert.equal(f.get("stowage_unit_failures_total")?.type, "counter");
});

Deno.test("series without data are left out, not rendered empty", () => {
  const results = emptyResults();
  const text = renderMetrics({
    results,
    version: "1",
    health: healthVerdict({ results, now: new Date(), freshnessHours: 1 }),
    running: true,
  });
  const f = parsePrometheusText(text);
  assert.equal(promValue(f, "stowage_backup_running"), 1);
  assert.equal(f.has("stowage_repository_size_bytes"), false);
  assert.equal(f.has("stowage_unit_last_success_timestamp_seconds"), false);
  assert.doesNotMatch(text, /# TYPE stowage_repository_size_bytes/);
});

Deno.test("label values are escaped", () => {
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  const results = applyRun(
    emptyResults(),
    runReport("2025-01-01T02:00:00Z", [['we"ird\\name', "ok"]]),
  );
  const f = parsePrometheusText(
    renderMetrics({
      results,
      version: "1",
      health: healthVerdict({ results, now: new Date(), freshnessHours: 1 }),
      running: false,
    }),
  );
  assert.equal(promValue(f, "stowage_unit_last_run_success", { unit: 'we"ird\\name' }), 1);
});

Deno.test("the test parser rejects what Prometheus rejects", () => {
  assert.throws(() => parsePrometheusText("x 1"), /newline/);
  assert.throws(() => parsePrometheusText("1x 1\n"), /bad sample/);
  assert.throws(() => parsePrometheusText('x{a="b} 1\n'), /unterminated/);
  assert.throws(() => parsePrometheusText("x one\n"), /bad sample value/);
  assert.throws(() => parsePrometheusText("x 1\n# TYPE x gauge\n"), /after its samples/);
  assert.throws(() => parsePrometheusText('x 1\ny 1\nx{a="1"} 2\n'), /two places/);
  assert.throws(() => parsePrometheusText("x 1\nx 2\n"), /duplicate series/);
});

Deno.test("metrics count each notification target's failures and deliveries, recorded once per run", () => {
  const at = "2025-01-01T02:00:10.000Z";
  const report = {
    ...runReport("2025-01-01T02:00:00Z", [["wp", "ok"]]),
    notifications: [
      { target: "ops", kind: "webhook", event: "success", ok: true, attempts: 1, at },
      { target: "pager", kind: "ntfy", event: "success", ok: false, attempts: 3, at, error: "x" },
    ],
  };
  let results = applyRun(emptyResults(), report);
  results = applyRun(results, report); // the daemon and the command may both record a run
  results = applyNotifications(results, [
    { target: "pager", kind: "ntfy", event: "failure", ok: false, attempts: 3, at, error: "y" },
  ]);
  const f = parsePrometheusText(renderMetrics({
    results,
    version: "1",
    health: healthVerdict({ results, now: new Date(at), freshnessHours: 26 }),
    running: false,
  }));
  assert.equal(promValue(f, "stowage_notify_failures_total", { target: "pager" }), 2);
  assert.equal(promValue(f, "stowage_notify_failures_total", { target: "ops" }), 0);
  assert.equal(promValue(f, "stowage_notify_sent_total", { target: "ops" }), 1);
  assert.equal(results.notify?.pager.lastFailure?.error, "y");
});
