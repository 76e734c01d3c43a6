/**
 * pre_restore / post_restore hooks (core/hooks) as the restore executor's `hooks` dependency.
 * The unit handed to the hooks is the one the recipe saved (with the containers and labels the
 * label hooks look for), or a bare unit when the restore point has no recipe.
 */
import type { Config } from "../config/schema.ts";
import type { Scope, Unit } from "../model.ts";
import type { DockerEngine, EventSink } from "../ports.ts";
import { runPhaseHooks } from "../hooks/mod.ts";
import type { RestoreHooks } from "./run.ts";
import type { RestorePlan } from "./plan.ts";

export function bareUnit(name: string, kind: Unit["kind"]): Unit {
  return {
    name,
    kind,
    files: [],
    containers: [],
    dependsOn: {},
    images: [],
    volumes: [],
    binds: [],
    networks: [],
    gaps: [],
  };
}

export function restoreHooks(w: {
  config: Config;
  engine: DockerEngine;
  sink: EventSink;
  signal: AbortSignal;
  unit: Unit;
}): RestoreHooks {
  const common = (plan: RestorePlan) => ({
    config: w.config,
    engine: w.engine,
    sink: w.sink,
    signal: w.signal,
    unit: w.unit,
    backupId: plan.backupId,
    scope: (plan.scope as Scope | undefined) ?? "standard",
    dryRun: false,
  });
  return {
    pre: (plan) => runPhaseHooks({ ...common(plan), phase: "pre_restore" }),
    post: (plan, outcome) =>
      runPhaseHooks({
        ...common(plan),
        phase: "post_restore",
        outcome: {
          status: outcome.status,
          backupId: plan.backupId,
          snapshots: outcome.snapshots,
          error: outcome.error,
        },
      }),
  };
}
