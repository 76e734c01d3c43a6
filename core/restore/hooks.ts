/**
 * pre_restore / post_restore hooks (core/hooks) as the restore executor's `hooks` dependency.
 * The unit handed to the hooks is the one the recipe saved (with the containers and labels the
 * label hooks look for), or a bare unit when the restore point has no recipe.
 *
 * The recipe is the repository's word, so its label hooks run only in containers that belong to
 * the unit on this host at that moment (compose project label, or the standalone name): a recipe
 * naming another unit's container must not get a command executed in it.
 */
import type { Config } from "../config/schema.ts";
import type { Scope, Unit } from "../model.ts";
import type { EngineExec, EngineInventory, EventSink } from "../ports.ts";
import { type HookHost, runPhaseHooks } from "../hooks/mod.ts";
import type { RestoreHooks } from "./run.ts";
import { belongsTo, type RestorePlan } from "./plan.ts";
import { containerName } from "./container.ts";

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
  engine: EngineExec & Pick<EngineInventory, "listContainers">;
  sink: EventSink;
  signal: AbortSignal;
  unit: Unit;
  host: HookHost;
}): RestoreHooks {
  const common = async (plan: RestorePlan) => ({
    config: w.config,
    engine: w.engine,
    sink: w.sink,
    signal: w.signal,
    host: w.host,
    unit: await ownContainersOnly(w.engine, w.unit),
    backupId: plan.backupId,
    scope: (plan.scope as Scope | undefined) ?? "standard",
    dryRun: false,
  });
  return {
    pre: async (plan) => runPhaseHooks({ ...(await common(plan)), phase: "pre_restore" }),
    post: async (plan, outcome) =>
      runPhaseHooks({
        ...(await common(plan)),
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

/** The unit with only the containers that are the unit's own on the host now. */
async function ownContainersOnly(
  engine: Pick<EngineInventory, "listContainers">,
  unit: Unit,
): Promise<Unit> {
  if (unit.containers.length === 0) return unit;
  const own = new Set(
    (await engine.listContainers()).filter((c) => belongsTo(c, unit.name)).map(containerName),
  );
  return { ...unit, containers: unit.containers.filter((c) => own.has(c.name)) };
}
