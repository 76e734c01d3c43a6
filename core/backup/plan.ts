/**
 * The backup plan: a pure function from a discovered unit and the config to what a backup of it
 * will do — which containers stop and start in which order, and which snapshots it makes with
 * which excludes. `dry-run` renders exactly this; the executor follows it.
 */
import type { Config } from "../config/schema.ts";
import type { CoverageGap, Scope, SnapshotType, Unit } from "../model.ts";
import type { RetentionPolicy } from "../ports.ts";
import { startOrder, stopOrder } from "../order.ts";

export interface PlanItem {
  type: SnapshotType;
  /** Volume name, bind path, or the stored file name (recipe.json / networks.json). */
  item: string;
  /** Host paths for directory backups. */
  paths: string[];
  excludes: string[];
  retention: RetentionPolicy;
  /** For volumes: a container that mounts it and where, for the archive-API fallback. */
  archive?: { container: string; destination: string };
  /** For `image`: the image with no repo digest that is exported (saved before the stop). */
  image?: { id: string; reference: string; size?: number };
}

export interface UnitPlan {
  unit: Unit;
  scope: Scope;
  /** Set when the unit is left out (config `skip`); nothing else happens then. */
  skip?: string;
  /** Running containers, in the order they stop (dependents first). */
  stop: string[];
  /** The same containers, in the order they start again (dependencies first). */
  start: string[];
  items: PlanItem[];
  gaps: CoverageGap[];
}

/** Paths of the Docker daemon's own configuration, saved once per run with scope `full`. */
export const DOCKER_CONFIG_PATHS = [
  "/etc/docker/daemon.json",
  "/etc/systemd/system/docker.service.d",
];
export { HOST_UNIT, IMAGES_UNIT, isInternalUnit } from "../internal_units.ts";

export function effectiveScope(config: Config, unitName: string, flag?: Scope): Scope {
  return flag ?? config.units[unitName]?.scope ?? config.backup.scope;
}

export function planUnit(unit: Unit, config: Config, scopeFlag?: Scope): UnitPlan {
  const unitCfg = config.units[unit.name];
  const scope = effectiveScope(config, unit.name, scopeFlag);
  const running = new Set(unit.containers.filter((c) => c.running).map((c) => c.name));
  const stop = stopOrder(unit).filter((n) => running.has(n));
  const start = startOrder(unit).filter((n) => running.has(n));
  const base: UnitPlan = { unit, scope, stop, start, items: [], gaps: [...unit.gaps] };
  if (unitCfg?.skip) {
    return { ...base, skip: `units.${unit.name}.skip is set`, stop: [], start: [] };
  }

  const unitRetention = unitCfg?.retention ?? config.retention;
  const commonExcludes = [...config.backup.exclude, ...(unitCfg?.exclude ?? [])];
  const items: PlanItem[] = [];
  if (scope !== "minimal") {
    items.push({
      type: "recipe",
      item: "recipe.json",
      paths: [],
      excludes: [],
      retention: unitRetention,
    });
    if (unit.networks.length > 0) {
      items.push({
        type: "network",
        item: "networks.json",
        paths: [],
        excludes: [],
        retention: unitRetention,
      });
    }
  }
  if (scope !== "minimal") items.push(...localImageItems(unit, unitRetention));
  for (const v of unit.volumes) {
    if (v.external) continue; // belongs to another unit; listed as a gap by discovery
    const vc = unitCfg?.volumes[v.name];
    if (vc?.skip) {
      base.gaps.push({
        kind: "skipped-by-config",
        item: v.name,
        reason: `units.${unit.name}.volumes.${v.name}.skip is set`,
      });
      continue;
    }
    const user = unit.containers.find((c) =>
      c.mounts.some((m) => m.type === "volume" && m.source === v.name)
    );
    const mount = user?.mounts.find((m) => m.type === "volume" && m.source === v.name);
    items.push({
      type: "volume",
      item: v.name,
      paths: [v.mountpoint],
      excludes: [...commonExcludes, ...(vc?.exclude ?? [])],
      retention: vc?.retention ?? unitRetention,
      archive: user && mount ? { container: user.name, destination: mount.destination } : undefined,
    });
  }
  if (scope !== "minimal") {
    for (const b of unit.binds) {
      if (!b.safe) continue;
      items.push({
        type: "bind",
        item: b.source,
        paths: [b.source],
        excludes: commonExcludes,
        retention: unitRetention,
      });
    }
  }
  return { ...base, items };
}

function localImageItems(unit: Unit, retention: RetentionPolicy): PlanItem[] {
  const byId = new Map<string, PlanItem>();
  for (const img of unit.images) {
    if (img.repoDigests.length > 0 || byId.has(img.id) || !img.id) continue;
    byId.set(img.id, {
      type: "image",
      item: img.reference,
      paths: [],
      excludes: [],
      retention,
      image: {
        id: img.id,
        reference: img.reference,
        ...(img.size !== undefined ? { size: img.size } : {}),
      },
    });
  }
  return [...byId.values()];
}

/** A rough downtime estimate for dry-run: stop/start overhead plus reading at an assumed rate. */
export function estimateDowntimeMs(
  plan: UnitPlan,
  sizes: Record<string, number | undefined>,
  bytesPerSecond = 150 * 1024 * 1024,
): number {
  if (plan.stop.length === 0) return 0;
  // Images are exported before the stop: they cost no downtime.
  const bytes = plan.items.filter((i) => i.type !== "image")
    .reduce((sum, i) => sum + (sizes[i.item] ?? 0), 0);
  return plan.stop.length * 1000 + plan.start.length * 1000 +
    Math.round((bytes / bytesPerSecond) * 1000) + 2000;
}
