/**
 * The /health decision, pure: healthy when every tracked unit's last backup succeeded and its last
 * good backup is younger than the freshness window. A unit is tracked once it appears in a
 * recorded run; units that config marks `skip` are not, and `admin service forget-unit` drops a
 * unit that left the host.
 */
import type { ResultsDoc, UnitResult } from "./results.ts";

export interface UnitHealth {
  unit: string;
  healthy: boolean;
  /** Why it is unhealthy, or a short "ok" line. */
  reason: string;
  lastSuccessAt?: string;
  lastOutcome: UnitResult["outcome"];
}

export interface HealthVerdict {
  healthy: boolean;
  /** One line: the first problem, or a summary when healthy. */
  reason: string;
  checkedAt: string;
  freshnessHours: number;
  units: UnitHealth[];
}

export interface HealthInput {
  results: ResultsDoc;
  now: Date;
  freshnessHours: number;
  /** Units left out on purpose (config `units.NAME.skip`). */
  ignoredUnits?: Iterable<string>;
  /**
   * Config `status.verify_max_age_hours`: each unit must also have passed a restore drill
   * (`stowage verify`) within this many hours. Undefined: drills do not count.
   */
  verifyMaxAgeHours?: number;
}

export function healthVerdict(
  { results, now, freshnessHours, ignoredUnits = [], verifyMaxAgeHours }: HealthInput,
): HealthVerdict {
  const ignored = new Set(ignoredUnits);
  const windowMs = freshnessHours * 3600_000;
  const units: UnitHealth[] = [];
  for (const rec of Object.values(results.units).sort((a, b) => a.unit.localeCompare(b.unit))) {
    if (ignored.has(rec.unit)) continue;
    const base = {
      unit: rec.unit,
      lastOutcome: rec.last.outcome,
      lastSuccessAt: rec.lastSuccess?.finishedAt,
    };
    if (rec.last.outcome === "failed") {
      units.push({
        ...base,
        healthy: false,
        reason: `last backup of '${rec.unit}' failed at ${rec.last.finishedAt}: ${
          rec.last.error ?? "unknown error"
        }`,
      });
    } else if (!rec.lastSuccess) {
      const why = rec.last.skipReason ? ` (skipped: ${rec.last.skipReason})` : "";
      units.push({
        ...base,
        healthy: false,
        reason: `'${rec.unit}' has never been backed up successfully${why}`,
      });
    } else {
      const age = now.getTime() - new Date(rec.lastSuccess.finishedAt).getTime();
      if (age > windowMs) {
        units.push({
          ...base,
          healthy: false,
          reason: `last good backup of '${rec.unit}' is ${
            formatHours(age)
          } old (${rec.lastSuccess.finishedAt}), older than ${freshnessHours} h`,
        });
      } else {
        units.push({
          ...base,
          healthy: true,
          reason: `ok, last good backup ${formatHours(Math.max(0, age))} ago`,
        });
      }
    }
  }
  if (verifyMaxAgeHours !== undefined) {
    for (const u of units) {
      if (!u.healthy) continue;
      const why = drillProblem(results, u.unit, now, verifyMaxAgeHours);
      if (why) Object.assign(u, { healthy: false, reason: why });
    }
  }
  const common = { checkedAt: now.toISOString(), freshnessHours, units };
  if (units.length === 0) {
    return { ...common, healthy: false, reason: "no backup has been recorded yet" };
  }
  const bad = units.filter((u) => !u.healthy);
  if (bad.length > 0) {
    const more = bad.length > 1
      ? ` (and ${bad.length - 1} more unit${bad.length > 2 ? "s" : ""})`
      : "";
    return { ...common, healthy: false, reason: bad[0].reason + more };
  }
  return {
    ...common,
    healthy: true,
    reason: `${units.length} unit${
      units.length === 1 ? "" : "s"
    } backed up within ${freshnessHours} h`,
  };
}

function formatHours(ms: number): string {
  const h = ms / 3600_000;
  return h < 1 ? `${Math.round(ms / 60_000)} min` : `${h.toFixed(1)} h`;
}

/** Why a unit's restore drills do not satisfy `verify_max_age_hours`; undefined when they do. */
function drillProblem(
  results: ResultsDoc,
  unit: string,
  now: Date,
  maxAgeHours: number,
): string | undefined {
  const rec = results.verify?.[unit];
  if (!rec?.lastSuccess) {
    return `'${unit}' has never passed a restore drill (stowage verify); status.verify_max_age_hours asks for one within ${maxAgeHours} h`;
  }
  const age = now.getTime() - new Date(rec.lastSuccess.finishedAt).getTime();
  if (age > maxAgeHours * 3600_000) {
    return `last passed restore drill of '${unit}' is ${
      formatHours(age)
    } old (${rec.lastSuccess.finishedAt}), older than ${maxAgeHours} h`;
  }
  return undefined;
}
