/** The dry-run document: the plan per unit with sizes, gaps and a downtime estimate. Pure. */
import type { CoverageGap, Scope } from "../model.ts";
import { estimateDowntimeMs, type UnitPlan } from "./plan.ts";

export interface DryRunItem {
  type: string;
  item: string;
  paths: string[];
  sizeBytes?: number;
  excludes: string[];
  /** Volumes: where the data lives (core/volume_kind.ts). */
  volumeKind?: string;
  /** Where the data is read from and how (`read: archive`: through a container's mount). */
  how?: string;
  read?: "dir" | "archive";
  /** The folder read is itself a mount point: restic reads through it, its content is saved. */
  mountPoint?: boolean;
  /** How a filesystem snapshot applies (core/fs_snapshot/): the method, or why none does. */
  fsSnapshot?: { method: "btrfs" | "lvm" | "none"; detail: string };
}

export interface DryRunUnit {
  unit: string;
  kind: string;
  scope: Scope;
  skip?: string;
  stopOrder: string[];
  startOrder: string[];
  /** Containers that are not running and stay as they are. */
  untouched: string[];
  items: DryRunItem[];
  networks: { name: string; driver: string; subnets: string[] }[];
  files: { path: string; kind: string; exists: boolean }[];
  gaps: CoverageGap[];
  hooks: { phase: string; name: string; mode: string }[];
  estimatedDowntimeMs: number;
  totalBytes: number;
  /** Discovery and ordering remarks (unreadable compose file, a broken dependency cycle). */
  notes?: string[];
  /** Databases dumped hot (docs/dumps.md), and what detection proposes or cannot do. */
  dumps?: { service: string; container: string; engine: string; mode: string; source: string }[];
  dumpProblems?: string[];
  dumpProposals?: string[];
  /** Files containers wrote into their own layer, which no backup sees (core/layer_writes.ts). */
  layerWrites?: { container: string; paths: string[] }[];
  /** Containers whose layer changes could not be read. */
  layerUnknown?: string[];
}

export interface DryRunDocument {
  dryRun: true;
  host: string;
  units: DryRunUnit[];
}

export function describePlans(
  host: string,
  plans: UnitPlan[],
  sizes: Record<string, number | undefined>,
  hooks: (plan: UnitPlan) => { phase: string; name: string; mode: string }[] = () => [],
  mountPoints: ReadonlySet<string> = new Set(),
): DryRunDocument {
  return {
    dryRun: true,
    host,
    units: plans.map((p) => {
      const items = p.items.map((i) => ({
        type: i.type,
        item: i.item,
        paths: i.paths,
        sizeBytes: sizes[i.item],
        excludes: i.excludes,
        ...(i.volumeKind ? { volumeKind: i.volumeKind } : {}),
        ...(i.how ? { how: i.how } : {}),
        ...(i.read ? { read: i.read } : {}),
        ...(i.paths.some((p) => mountPoints.has(p)) ? { mountPoint: true } : {}),
      }));
      return {
        unit: p.unit.name,
        kind: p.unit.kind,
        scope: p.scope,
        skip: p.skip,
        stopOrder: p.stop,
        startOrder: p.start,
        // Databases dumped hot (mode dump) run on but are listed with their dump, not here.
        untouched: p.unit.containers.filter((c) =>
          !p.stop.includes(c.name) && !p.dumps?.targets.some((t) => t.container === c.name)
        ).map((c) => c.name),
        items,
        networks: p.unit.networks.map((n) => ({
          name: n.name,
          driver: n.driver,
          subnets: n.ipam.config.map((c) => c.subnet ?? "").filter(Boolean),
        })),
        files: p.unit.files.map((f) => ({ path: f.path, kind: f.kind, exists: f.exists })),
        gaps: p.gaps,
        hooks: hooks(p),
        estimatedDowntimeMs: p.skip ? 0 : estimateDowntimeMs(p, sizes),
        totalBytes: items.reduce((s, i) => s + (i.sizeBytes ?? 0), 0),
        ...(p.dumps
          ? {
            dumps: p.dumps.targets.map((t) => ({
              service: t.service,
              container: t.container,
              engine: t.engine,
              mode: t.mode,
              source: t.source,
            })),
            dumpProblems: p.dumps.problems,
            dumpProposals: [...p.dumps.proposals, ...p.dumps.notes],
          }
          : {}),
      };
    }),
  };
}
