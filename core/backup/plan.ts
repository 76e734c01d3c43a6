/**
 * The backup plan: a pure function from a discovered unit and the config to what a backup of it
 * will do — which containers stop and start in which order, and which snapshots it makes with
 * which excludes. `dry-run` renders exactly this; the executor follows it.
 */
import type { Config } from "../config/schema.ts";
import type { CoverageGap, Scope, SnapshotType, Unit } from "../model.ts";
import type { RetentionPolicy } from "../ports.ts";
import { startOrder, stopOrder } from "../order.ts";
import { classifyVolume, type VolumeKind } from "../volume_kind.ts";
import type { DumpDecision } from "./dumps.ts";

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
  /**
   * How the data is read: `dir` from `paths` on the host (the default), `archive` always through
   * the Engine's archive API on `archive.container` (volumes mounted only while used, other
   * drivers: the Engine mounts them for the read, the host folder would be empty).
   */
  read?: "dir" | "archive";
  /** For volumes: where the data lives (core/volume_kind.ts). */
  volumeKind?: VolumeKind;
  /** One line for dry-run and the summary: where the data is and how it is read. */
  how?: string;
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
  /** Database dumps (core/backup/dumps.ts planWithDumps); absent when none were decided. */
  dumps?: DumpDecision;
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
    // Format 4: the recipe's `unit.networks` is the networks document (no snapshot of its own:
    // one restic process fewer to save it, one fewer to read it back).
    items.push({
      type: "recipe",
      item: "recipe.json",
      paths: [],
      excludes: [],
      retention: unitRetention,
    });
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
    const archive = user && mount
      ? { container: user.name, destination: mount.destination }
      : undefined;
    const read = volumeRead(v, archive);
    if ("skip" in read) {
      if (read.gap) base.gaps.push(read.gap);
      continue;
    }
    items.push({
      type: "volume",
      item: v.name,
      paths: read.paths,
      excludes: [...commonExcludes, ...(vc?.exclude ?? [])],
      retention: vc?.retention ?? unitRetention,
      archive,
      read: read.read,
      volumeKind: read.kind,
      how: read.how,
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

/**
 * Where a volume is read from, by its kind: `_data` or the bind-type volume's device folder
 * directly, a volume mounted only while used (or of another driver) through a container that
 * mounts it, nothing for tmpfs and unsafe device folders (discovery lists those gaps).
 */
function volumeRead(
  v: Unit["volumes"][number],
  archive: PlanItem["archive"],
):
  | { paths: string[]; read: "dir" | "archive"; kind: VolumeKind; how: string }
  | { skip: true; gap?: CoverageGap } {
  // Units from older recipes or hand-built data may lack the kind: classify again.
  const loc = v.location ?? classifyVolume(v);
  switch (loc.kind) {
    case "tmpfs":
      return { skip: true };
    case "bind":
      if (loc.unsafe || !loc.path) return { skip: true };
      return { paths: [loc.path], read: "dir", kind: loc.kind, how: loc.describe };
    case "mounted":
    case "driver":
      if (!archive) {
        return {
          skip: true,
          gap: {
            kind: "volume-unreadable",
            item: v.name,
            reason: `${loc.describe}; but no container of this unit mounts it to read it through`,
          },
        };
      }
      return {
        paths: [],
        read: "archive",
        kind: loc.kind,
        how: `${loc.describe}: container ${archive.container}, ${archive.destination}`,
      };
    default:
      return { paths: [loc.path ?? v.mountpoint], read: "dir", kind: "local", how: loc.describe };
  }
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
