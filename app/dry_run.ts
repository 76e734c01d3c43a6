/**
 * What a backup would do, per unit (`stowage dry-run`, `backup --dry-run`): reads the Engine and
 * the file system only, takes no lock, opens no repository, writes nothing.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import type { Scope } from "../core/model.ts";
import { discoverUnits } from "../core/discovery.ts";
import { estimateDowntimeMs } from "../core/backup/plan.ts";
import { planWithDumps } from "../core/backup/dumps.ts";
import { describePlans, type DryRunDocument } from "../core/backup/dry_run.ts";
import { selectUnits } from "../core/backup/run.ts";
import { plannedHooks } from "../core/hooks/mod.ts";
import { orderPlan } from "../core/order.ts";
import { findLayerWrites } from "../core/layer_writes.ts";
import type { Services } from "./services.ts";
import { decideUnits, describeDecision } from "../core/fs_snapshot/run.ts";

export type DryRunServices = Pick<Services, "engine" | "hostFiles" | "hostname" | "fsSnapshots">;

/** Reads the Engine and the file system only: no repository, no lock, no files written. */
export async function buildDryRun(
  svc: DryRunServices,
  loaded: LoadedConfig,
  opts: { units?: string[]; scope?: Scope },
): Promise<DryRunDocument> {
  const engine = svc.engine(loaded);
  const state = await engine.gatherState();
  const units = selectUnits(
    discoverUnits(state, { unsafePaths: loaded.config.backup.unsafe_paths }),
    opts.units,
  );
  const plans = units.map((u) => planWithDumps(u, loaded.config, opts.scope));
  const files = svc.hostFiles;
  const sizes: Record<string, number | undefined> = {};
  const mountPoints = new Set<string>();
  const items = plans.flatMap((p) => p.items);
  // Every folder's size from as few `du` processes as possible, the mount checks all at once:
  // one process per folder made dry-run of a host with 50 stacks take seconds (bench/DRY_RUN.md).
  const firstPaths = items.filter((i) => i.paths.length > 0).map((i) => i.paths[0]);
  const measured = files.sizes
    ? await files.sizes(firstPaths)
    : new Map(await Promise.all(firstPaths.map(async (p) => [p, await files.size(p)] as const)));
  const allPaths = items.flatMap((i) => i.paths);
  const isMount = await Promise.all(allPaths.map((p) => files.isMountPoint(p)));
  for (const item of items) {
    if (item.paths.length > 0) sizes[item.item] = measured.get(item.paths[0]);
    else if (item.type === "image") sizes[item.item] = item.image?.size;
  }
  allPaths.forEach((p, i) => isMount[i] && mountPoints.add(p));
  const doc = describePlans(
    svc.hostname,
    plans,
    sizes,
    (p) =>
      (["pre_backup", "post_backup"] as const).flatMap((phase) =>
        plannedHooks(p.unit, loaded.config, phase).map((h) => ({
          phase,
          name: `${h.name} [${h.source}]`,
          mode: h.mode,
        }))
      ),
    mountPoints,
  );
  // Per folder: the filesystem snapshot a backup would take, or why none (issue 18).
  const decisions = await decideUnits(
    svc.fsSnapshots?.(loaded.paths.journalFile),
    plans.filter((p) => !p.skip).map((p) => ({
      unit: p.unit.name,
      stops: p.stop.length > 0,
      items: p.items.filter((i) => i.type === "volume" || i.type === "bind"),
    })),
    loaded.config.backup.fs_snapshots,
  );
  for (const u of doc.units) {
    const snapshotted = new Set<string>();
    for (const d of decisions.get(u.unit) ?? []) {
      const item = u.items.find((i) => i.type === d.type && i.item === d.item);
      if (item) item.fsSnapshot = { method: d.method, detail: describeDecision(d) };
      if (d.method !== "none") snapshotted.add(d.item);
    }
    // A snapshotted folder is read after the start: its size is no part of the downtime.
    const plan = plans.find((p) => p.unit.name === u.unit);
    if (plan && !plan.skip && snapshotted.size > 0) {
      u.estimatedDowntimeMs = estimateDowntimeMs(
        plan,
        Object.fromEntries(Object.entries(sizes).filter(([k]) => !snapshotted.has(k))),
      );
    }
  }
  // Dependency cycles are broken deterministically; say so where the order is shown.
  const layers = await findLayerWrites(engine, units);
  for (const u of doc.units) {
    const plan = plans.find((p) => p.unit.name === u.unit)!;
    u.notes = [...(plan.unit.notes ?? []), ...orderPlan(plan.unit).notes];
    const l = layers.get(u.unit);
    u.layerWrites = l?.writes ?? [];
    u.layerUnknown = l?.unreadable ?? [];
  }
  return doc;
}
