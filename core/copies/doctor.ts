/**
 * doctor's view of a copy (docs/copies.md): caught up, behind (with the lag), or unreadable.
 * Pure over a plan from core/copies/plan.ts.
 */
import type { Check } from "../doctor.ts";
import { behindSince, type CopyPlan, lagSeconds } from "./plan.ts";

function duration(s: number): string {
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min`;
  if (s < 2 * 86400) return `${Math.round(s / 360) / 10} h`;
  return `${Math.round(s / 8640) / 10} days`;
}

export function copyCheck(
  name: string,
  state:
    | { plan: CopyPlan; newest?: { backupId: string }; now: Date }
    | { missing: true }
    | { error: string; hint?: string },
): Check {
  const check = `copy ${name}`;
  if ("missing" in state) {
    return {
      name: check,
      status: "warn",
      detail: "the copy repository does not exist yet",
      hint:
        "The next backup creates it (with the primary's chunker parameters) and copies every point.",
    };
  }
  if ("error" in state) {
    return {
      name: check,
      status: "warn",
      detail: `cannot read the copy: ${state.error}`,
      hint: state.hint ?? "Backups go on; the next one that reaches the copy catches it up.",
    };
  }
  const since = behindSince(state.plan);
  if (since === undefined) {
    return {
      name: check,
      status: "ok",
      detail: state.newest
        ? `has every restore point (newest ${state.newest.backupId})`
        : "has every restore point (none yet)",
    };
  }
  const n = state.plan.points.length;
  return {
    name: check,
    status: "warn",
    detail: `behind by ${
      duration(lagSeconds(since, state.now))
    }: lacks ${n} restore point(s), the oldest ${state.plan.points[0].unit} ${
      state.plan.points[0].backupId
    }${state.newest ? `; newest there ${state.newest.backupId}` : ""}`,
    hint:
      "The next backup copies what is missing; if this persists, check that the copy is reachable.",
  };
}
