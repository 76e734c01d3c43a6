/** Run reports for the service's unit tests (plain data, as the orchestrator returns them). */
import type { RunReport, UnitReport } from "../report.ts";

export function unitReport(
  unit: string,
  outcome: UnitReport["outcome"],
  at: string,
  extra: Partial<UnitReport> = {},
): UnitReport {
  const start = new Date(at);
  const end = new Date(start.getTime() + 5_000);
  return {
    unit,
    kind: "stack",
    outcome,
    startedAt: start.toISOString(),
    finishedAt: end.toISOString(),
    durationMs: 5_000,
    downtimeMs: outcome === "skipped" ? undefined : 3_000,
    containersStopped: [],
    containersStarted: [],
    snapshots: outcome === "ok"
      ? [
        {
          type: "volume",
          item: `${unit}_data`,
          snapshotId: `${unit}-snap-1`,
          bytesProcessed: 100,
          dataAdded: 40,
        },
        {
          type: "recipe",
          item: "recipe.json",
          snapshotId: `${unit}-snap-2`,
          bytesProcessed: 10,
          dataAdded: 2,
        },
      ]
      : [],
    bytesRead: 110,
    bytesAdded: outcome === "ok" ? 42 : 0,
    gaps: [],
    warnings: [],
    ...(outcome === "failed" ? { error: `${unit} exploded` } : {}),
    ...(outcome === "skipped" ? { skipReason: "hook asked to skip" } : {}),
    ...extra,
  };
}

/** A run starting at `at` (ISO) with the given unit outcomes. */
export function runReport(at: string, units: [string, UnitReport["outcome"]][]): RunReport {
  const start = new Date(at);
  const backupId = start.toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
  const reports = units.map(([u, o]) => unitReport(u, o, at));
  return {
    operation: "backup",
    backupId,
    scope: "standard",
    host: "test-host",
    startedAt: start.toISOString(),
    finishedAt: new Date(start.getTime() + 6_000).toISOString(),
    durationMs: 6_000,
    ok: reports.every((r) => r.outcome !== "failed"),
    interrupted: false,
    units: reports,
  };
}
