/**
 * Restore points: a unit's snapshots grouped by the run that made them (`backup_id`), and the
 * choice of one of them by `--latest`, `--backup-id` or `--before`. Pure: restic's snapshot list
 * in, data out.
 */
import { StowageError } from "../errors.ts";
import type { Scope, SnapshotInfo } from "../model.ts";
import { backupIdTime } from "../tags.ts";
import { closestN } from "../text.ts";

/** A volume or bind mount saved in a restore point. */
export interface DataSnapshot {
  kind: "volume" | "bind";
  /** Volume name, or the bind mount's host path. */
  name: string;
  snapshot: SnapshotInfo;
  /** `dir`: a directory backup of the host folder; `archive`: a tar stream stored as one file. */
  source: "dir" | "archive";
}

export interface RestorePoint {
  unit: string;
  backupId: string;
  /** Host that made the snapshots. */
  host: string;
  /** Run start, ISO 8601 UTC (the `timestamp` tag, else the earliest snapshot time). */
  time: string;
  scope?: Scope;
  /** `pre-restore`: the content volumes had just before a restore overwrote them. */
  kind: "backup" | "pre-restore";
  recipe?: SnapshotInfo;
  networks?: SnapshotInfo;
  volumes: DataSnapshot[];
  binds: DataSnapshot[];
  dockerConfig?: SnapshotInfo;
  /** Every snapshot of the group. */
  snapshots: SnapshotInfo[];
}

export type PointSelector = { latest: true } | { backupId: string } | { before: Date };

/** The value of tag `key=...` (restic tags), unescaped like core/tags.ts does. */
export function tagValue(s: SnapshotInfo, key: string): string | undefined {
  const t = s.tags.find((t) => t.startsWith(`${key}=`));
  return t === undefined
    ? undefined
    : t.slice(key.length + 1).replaceAll("%2C", ",").replaceAll("%25", "%");
}

/** Unit names that have stowage snapshots, sorted. */
export function unitsIn(snapshots: SnapshotInfo[]): string[] {
  return [...new Set(snapshots.map((s) => s.unit).filter((u): u is string => !!u))].sort();
}

/** The unit's restore points, newest first. Snapshots without a backup_id are ignored. */
export function restorePoints(snapshots: SnapshotInfo[], unit: string): RestorePoint[] {
  const groups = new Map<string, SnapshotInfo[]>();
  for (const s of snapshots) {
    if (s.unit !== unit || !s.backupId || !s.type) continue;
    const key = `${s.hostname}\u0000${s.backupId}`;
    const g = groups.get(key) ?? [];
    g.push(s);
    groups.set(key, g);
  }
  const points: RestorePoint[] = [];
  for (const group of groups.values()) {
    // Newest first inside a group, so a repeated snapshot of the same item resolves to the last one.
    group.sort((a, b) => b.time.localeCompare(a.time));
    const first = group[0];
    const stamp = group.map((s) => tagValue(s, "timestamp")).find((t) => t !== undefined);
    const earliest = group.reduce((m, s) => (s.time < m ? s.time : m), first.time);
    const point: RestorePoint = {
      unit,
      backupId: first.backupId!,
      host: first.hostname,
      time: normaliseIso(stamp ?? earliest),
      scope: group.find((s) => s.scope)?.scope,
      kind: group.every((s) => s.type === "pre-restore") ? "pre-restore" : "backup",
      volumes: [],
      binds: [],
      snapshots: group,
    };
    const seen = new Set<string>();
    for (const s of group) {
      switch (s.type) {
        case "recipe":
          point.recipe ??= s;
          break;
        case "network":
          point.networks ??= s;
          break;
        case "docker-config":
          point.dockerConfig ??= s;
          break;
        case "volume":
        case "bind":
        case "pre-restore": {
          const kind = s.type === "bind" || (s.type === "pre-restore" && !s.volume && s.path)
            ? "bind"
            : "volume";
          const name = kind === "volume" ? s.volume : s.path;
          if (!name || seen.has(`${kind}:${name}`)) break;
          seen.add(`${kind}:${name}`);
          const source = tagValue(s, "source") === "archive" ? "archive" : "dir";
          (kind === "volume" ? point.volumes : point.binds).push({
            kind,
            name,
            snapshot: s,
            source,
          });
          break;
        }
      }
    }
    point.volumes.sort((a, b) => a.name.localeCompare(b.name));
    point.binds.sort((a, b) => a.name.localeCompare(b.name));
    points.push(point);
  }
  return points.sort((a, b) =>
    b.time.localeCompare(a.time) || b.backupId.localeCompare(a.backupId)
  );
}

/** Fails with `unit.notfound` and the closest names when the repository has no such unit. */
export function requireUnit(snapshots: SnapshotInfo[], unit: string): void {
  const units = unitsIn(snapshots);
  if (units.includes(unit)) return;
  const near = closestN(unit, units, 5);
  throw new StowageError(
    "unit.notfound",
    `Cannot restore unit '${unit}': the repository has no backup of it`,
    units.length === 0
      ? "The repository holds no stowage backups yet: run `stowage backup` first, or check --config."
      : near.length > 0
      ? `Did you mean ${near.map((n) => `'${n}'`).join(", ")}?`
      : `Units with backups: ${units.slice(0, 10).join(", ")}${units.length > 10 ? ", ..." : ""}.`,
    { details: near.length > 0 ? near.map((n) => `did you mean: ${n}`) : [] },
  );
}

/**
 * Picks one restore point. `latest` and `before` consider backups only (not pre-restore points);
 * a backup id names any point. When the same id exists for several hosts, `localHost` wins.
 */
export function selectPoint(
  points: RestorePoint[],
  unit: string,
  sel: PointSelector,
  localHost: string,
): RestorePoint {
  const backups = points.filter((p) => p.kind === "backup");
  if ("latest" in sel) {
    if (backups.length === 0) throw noPoint(unit, points);
    return preferHost(backups.filter((p) => p.time === backups[0].time), localHost);
  }
  if ("before" in sel) {
    const limit = sel.before.toISOString();
    const older = backups.filter((p) => normaliseIso(p.time) <= limit);
    if (older.length === 0) {
      const oldest = backups.at(-1);
      throw new StowageError(
        "snapshot.notfound",
        `Cannot restore unit '${unit}': no backup was made before ${limit}`,
        oldest
          ? `The oldest backup is ${oldest.backupId} (${oldest.time}).`
          : "The unit has no backups.",
      );
    }
    return preferHost(older.filter((p) => p.time === older[0].time), localHost);
  }
  const wanted = sel.backupId.trim();
  const matches = points.filter((p) => p.backupId === wanted);
  if (matches.length > 0) return preferHost(matches, localHost);
  const near = closestN(wanted, [...new Set(points.map((p) => p.backupId))], 5);
  throw new StowageError(
    "snapshot.notfound",
    `Cannot restore unit '${unit}': no restore point with backup id '${wanted}'`,
    near.length > 0
      ? `Closest backup ids: ${near.join(", ")}.`
      : `List them with \`stowage restore --unit ${unit} --list\` or \`stowage admin snapshot list --unit ${unit}\`.`,
    { details: near.map((n) => `did you mean: ${n}`) },
  );
}

function preferHost(points: RestorePoint[], localHost: string): RestorePoint {
  return points.find((p) => p.host === localHost) ?? points[0];
}

function noPoint(unit: string, points: RestorePoint[]): StowageError {
  return new StowageError(
    "snapshot.notfound",
    `Cannot restore unit '${unit}': it has no restore point${
      points.length > 0 ? " besides pre-restore snapshots" : ""
    }`,
    points.length > 0
      ? `Pick one by id with --backup-id (e.g. ${points[0].backupId}).`
      : "Run `stowage backup` first.",
  );
}

/**
 * Reads a `--before` value: a backup id (`2025-01-31T23-59-59Z`), an ISO 8601 time, or a date
 * (`2025-01-31`, meaning its start). Times without a zone are UTC.
 */
export function parseWhen(text: string): Date {
  const t = text.trim();
  const fromId = backupIdTime(t);
  if (fromId) return fromId;
  let iso = t.replace(" ", "T");
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += "T00:00:00Z";
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(iso)) iso += "Z";
  const d = /^\d{4}-\d{2}-\d{2}T/.test(iso) ? new Date(iso) : new Date(Number.NaN);
  if (Number.isNaN(d.getTime())) {
    throw new StowageError(
      "usage",
      `Cannot read --before '${text}': not a time`,
      "Give a backup id (2025-01-31T23-59-59Z), an ISO time (2025-01-31T23:59:59Z) or a date (2025-01-31).",
    );
  }
  return d;
}

function normaliseIso(t: string): string {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toISOString();
}
