/**
 * Which data items of a unit can be read from a filesystem snapshot (issue 18), pure. The adapter
 * gathers facts about each path (its mount, the btrfs subvolume holding it, the LVM logical
 * volume under it); this decides per item which method applies or why none does, and which
 * snapshots to take: one per subvolume or logical volume, shared by the items it holds.
 */

/** One line of findmnt: a mount of `source` (device, `[subpath]` stripped) at `target`. */
export interface MountInfo {
  target: string;
  source: string;
  /** The folder of the filesystem mounted there (btrfs: the subvolume path, `/` = top level). */
  fsroot: string;
  fstype: string;
}

/** What the adapter found about one path; no decision in it. */
export interface PathProbe {
  path: string;
  /** The mount the path lives on; undefined when it could not be determined (`error` says why). */
  mount?: MountInfo;
  /** Every mount on the host (to find mounts below the path and another view of the subvolume). */
  mounts: MountInfo[];
  btrfs?: {
    /** The id of the subvolume holding the path (5 is the top level). */
    subvolumeId: number;
    /** Every subvolume of the filesystem, paths relative to its top level without a leading `/`. */
    subvolumes: { id: number; path: string }[];
  };
  lvm?: {
    vg: string;
    lv: string;
    /** lv_attr; a snapshot (`s`) or thin pool cannot itself be snapshotted this way. */
    attr: string;
    /** Free bytes in the volume group, the room a classic snapshot needs. */
    vgFreeBytes: number;
  };
  /** Why facts are missing (a program missing, a command that failed). */
  error?: string;
}

export type FsSnapshotMode = "auto" | "off" | "require";

/** A snapshot to take; the restart journal's sibling records it before it exists. */
export type SnapshotSpec =
  | {
    method: "btrfs";
    /** The subvolume's root as this host sees it. */
    source: string;
    /** Where the read-only snapshot is created (always below a `.stowage-snapshots` folder). */
    dest: string;
  }
  | {
    method: "lvm";
    vg: string;
    /** The logical volume snapshotted. */
    lv: string;
    /** The snapshot volume's name in the same group. */
    name: string;
    sizeBytes: number;
    /** Where the snapshot is mounted read-only for the backup (below the state directory). */
    mountAt: string;
  };

export interface DataItemRef {
  type: string;
  item: string;
  paths: string[];
  /** `archive`: read through the Engine, never from a host folder. */
  read?: "dir" | "archive";
}

export type ItemDecision =
  | {
    type: string;
    item: string;
    method: "btrfs" | "lvm";
    /** Read-only bind mounts over the original paths for the restic run. */
    mounts: { source: string; target: string }[];
    /** Index into `FsSnapshotPlan.snapshots`. */
    snapshots: number[];
  }
  | { type: string; item: string; method: "none"; reason: string };

export interface FsSnapshotPlan {
  mode: FsSnapshotMode;
  items: ItemDecision[];
  snapshots: SnapshotSpec[];
}

export const SNAPSHOT_DIR = ".stowage-snapshots";

/** `a/b/` → `/a/b`; always absolute, no trailing slash, no `.`/`..` resolution (refused). */
export function normPath(p: string): string {
  const parts = p.split("/").filter((s) => s !== "" && s !== ".");
  return "/" + parts.join("/");
}

/** True when `child` is `parent` or below it. */
export function isWithin(child: string, parent: string): boolean {
  const c = normPath(child);
  const p = normPath(parent);
  return p === "/" || c === p || c.startsWith(p + "/");
}

/** `child` relative to `parent` (`""` when equal); call only when isWithin. */
function relativeTo(child: string, parent: string): string {
  const c = normPath(child);
  const p = normPath(parent);
  if (p === "/") return c.slice(1);
  return c === p ? "" : c.slice(p.length + 1);
}

const join = (a: string, b: string) => (b ? normPath(`${a}/${b}`) : normPath(a));

/** Snapshot names carry the unit and backup id, reduced to characters safe in any name. */
export function snapshotName(unit: string, backupId: string, n: number): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^[.-]+/, "");
  return `stowage-${safe(unit).slice(0, 60)}-${safe(backupId)}-${n}`;
}

/** One path on btrfs: the snapshot to take and where the path is inside it, or why not. */
export function decideBtrfs(
  probe: PathProbe,
  name: string,
  avoid: string[] = [],
  avoidInFs: string[] = [],
): { spec: SnapshotSpec & { method: "btrfs" }; inside: string } | { reason: string } {
  const m = probe.mount!;
  const b = probe.btrfs!;
  const path = normPath(probe.path);
  if (path.split("/").includes("..")) return { reason: `the path ${path} contains '..'` };
  const topRel = join(m.fsroot, relativeTo(path, m.target));
  const sub = b.subvolumes.find((s) => s.id === b.subvolumeId);
  const subPath = b.subvolumeId === 5 ? "/" : sub ? normPath(sub.path) : undefined;
  if (!subPath || !isWithin(topRel, subPath)) {
    return { reason: `the btrfs subvolume holding ${path} was not found in the subvolume list` };
  }
  const nested = b.subvolumes.filter((s) =>
    s.id !== b.subvolumeId && normPath(s.path) !== topRel && isWithin(s.path, topRel) &&
    !normPath(s.path).split("/").includes(SNAPSHOT_DIR)
  );
  if (nested.length > 0) {
    return {
      reason: `it holds the nested subvolume /${
        nested[0].path
      }, which a snapshot of its parent would not contain`,
    };
  }
  const below = probe.mounts.find((x) => normPath(x.target) !== path && isWithin(x.target, path));
  if (below) {
    return {
      reason: `${below.target} is mounted inside it, which a snapshot would not contain`,
    };
  }
  const inside = relativeTo(topRel, subPath);
  // A host view of the subvolume's root with room for the snapshot outside what is read.
  const views = probe.mounts
    .filter((x) => x.fstype === "btrfs" && x.source === m.source && isWithin(subPath, x.fsroot))
    .map((x) => ({ x, root: join(x.target, relativeTo(subPath, x.fsroot)) }))
    // Never inside a folder the unit reads: a cold read there would save the snapshot too.
    .filter(({ x }) => ![path, ...avoid].some((p) => isWithin(join(x.target, SNAPSHOT_DIR), p)))
    // ... also where it lies in the filesystem: another mount of the same subvolume (the Engine
    // mounts a bind-type volume's device on its `_data`) is the same place under another name.
    .filter(({ x }) =>
      ![topRel, ...avoidInFs].some((t) => isWithin(join(x.fsroot, SNAPSHOT_DIR), t))
    )
    .sort((a, b) => a.x.fsroot.length - b.x.fsroot.length || a.x.target.localeCompare(b.x.target));
  const view = views[0];
  if (!view) {
    return {
      reason:
        `no mount of its filesystem leaves room for a snapshot outside ${path} (mount the btrfs top level, subvolid=5, or a parent subvolume somewhere)`,
    };
  }
  return {
    spec: {
      method: "btrfs",
      source: view.root,
      dest: join(view.x.target, `${SNAPSHOT_DIR}/${name}`),
    },
    inside,
  };
}

/**
 * The decisions for a unit's data items. `probes` holds one probe per path (keyed by the path as
 * given). Items whose paths share a subvolume share its snapshot.
 */
export function planFsSnapshots(
  items: DataItemRef[],
  probes: Map<string, PathProbe>,
  opts: { mode: FsSnapshotMode; unit: string; backupId: string },
): FsSnapshotPlan {
  const plan: FsSnapshotPlan = { mode: opts.mode, items: [], snapshots: [] };
  const allPaths = items.flatMap((i) => i.paths);
  // Every folder the unit reads, as a path inside its filesystem (per device).
  const avoidInFs = new Map<string, string[]>();
  for (const p of allPaths) {
    const m = probes.get(p)?.mount;
    if (!m || !isWithin(p, m.target)) continue;
    const list = avoidInFs.get(m.source) ?? [];
    list.push(join(m.fsroot, relativeTo(p, m.target)));
    avoidInFs.set(m.source, list);
  }
  const none = (i: DataItemRef, reason: string) =>
    plan.items.push({ type: i.type, item: i.item, method: "none", reason });
  for (const item of items) {
    if (opts.mode === "off") {
      none(item, "backup.fs_snapshots is off");
      continue;
    }
    if (item.read === "archive") {
      none(item, "it is read through the Docker Engine, not from a host folder");
      continue;
    }
    if (item.paths.length === 0) {
      none(item, "it has no host folder");
      continue;
    }
    const mounts: { source: string; target: string }[] = [];
    const used: number[] = [];
    let reason: string | undefined;
    let method: "btrfs" | "lvm" | undefined;
    for (const p of item.paths) {
      const probe = probes.get(p);
      const r = decidePath(probe, p, plan, { ...opts, avoid: allPaths, avoidInFs });
      if ("reason" in r) {
        reason = r.reason;
        break;
      }
      if (method && method !== r.method) {
        reason = "its folders are on different kinds of filesystem";
        break;
      }
      method = r.method;
      mounts.push({ source: r.source, target: normPath(p) });
      if (!used.includes(r.index)) used.push(r.index);
    }
    if (reason || !method) none(item, reason ?? "no folder");
    else plan.items.push({ type: item.type, item: item.item, method, mounts, snapshots: used });
  }
  // Snapshots no item ended up using (an item with one path refused after another was accepted).
  const needed = new Set(
    plan.items.flatMap((i) => (i.method === "none" ? [] : i.snapshots)),
  );
  if (needed.size !== plan.snapshots.length) {
    const keep = plan.snapshots.map((_, n) => n).filter((n) => needed.has(n));
    const renumber = new Map(keep.map((old, idx) => [old, idx]));
    plan.snapshots = keep.map((n) => plan.snapshots[n]);
    for (const i of plan.items) {
      if (i.method !== "none") i.snapshots = i.snapshots.map((n) => renumber.get(n)!);
    }
  }
  return plan;
}

function decidePath(
  probe: PathProbe | undefined,
  path: string,
  plan: FsSnapshotPlan,
  opts: { unit: string; backupId: string; avoid: string[]; avoidInFs: Map<string, string[]> },
): { method: "btrfs" | "lvm"; source: string; index: number } | { reason: string } {
  if (!probe) return { reason: `${path} was not examined` };
  if (probe.error) return { reason: probe.error };
  if (!probe.mount) return { reason: `the mount holding ${path} was not found` };
  if (probe.btrfs) {
    const name = snapshotName(opts.unit, opts.backupId, plan.snapshots.length);
    const r = decideBtrfs(probe, name, opts.avoid, opts.avoidInFs.get(probe.mount.source));
    if ("reason" in r) return r;
    let index = plan.snapshots.findIndex((s) =>
      s.method === "btrfs" && normPath(s.source) === normPath(r.spec.source)
    );
    if (index < 0) index = plan.snapshots.push(r.spec) - 1;
    const spec = plan.snapshots[index] as SnapshotSpec & { method: "btrfs" };
    return { method: "btrfs", source: join(spec.dest, r.inside), index };
  }
  if (probe.lvm) {
    return {
      reason:
        `${path} is on the LVM logical volume ${probe.lvm.vg}/${probe.lvm.lv}: LVM snapshots are not supported yet`,
    };
  }
  return {
    reason:
      `${path} is on ${probe.mount.fstype} (${probe.mount.source}), which is neither btrfs nor an LVM logical volume`,
  };
}

/** The items `require` refuses, as one message; undefined when the plan satisfies the mode. */
export function requireViolation(plan: FsSnapshotPlan): string | undefined {
  if (plan.mode !== "require") return undefined;
  const bad = plan.items.filter((i) => i.method === "none");
  if (bad.length === 0) return undefined;
  return bad.map((i) => `${i.type} ${i.item}: ${(i as { reason: string }).reason}`).join("; ");
}

/**
 * A journal entry's snapshot is deleted only when it is one stowage makes: a btrfs path below a
 * `.stowage-snapshots` folder, an LVM volume named `stowage-…`. The journal is a file on disk;
 * this keeps a changed one from naming anything else.
 */
export function isOwnSnapshot(spec: SnapshotSpec): boolean {
  if (spec.method === "btrfs") {
    const parts = spec.dest.split("/");
    return spec.dest.startsWith("/") && !parts.includes("..") &&
      parts.at(-2) === SNAPSHOT_DIR && /^stowage-[A-Za-z0-9_.-]+$/.test(parts.at(-1) ?? "");
  }
  return /^stowage-[A-Za-z0-9_.-]+$/.test(spec.name) && /^[A-Za-z0-9_.+-]+$/.test(spec.vg);
}
