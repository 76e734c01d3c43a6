/**
 * Restore points: a unit's snapshots grouped by the run that made them (host + `backup_id`), each
 * judged complete or not (docs/format.md, "Completeness"), and the choice of one of them by
 * `--latest`, `--backup-id` or `--before`. Pure: restic's snapshot list in, data out.
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
  /**
   * Where its folder is inside `snapshot` (`dir` only): the one path of a format 1-2 per-item
   * snapshot, or its `item=` tag's path in a format-3 `type=data` snapshot that holds several.
   */
  path: string;
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
  /** The `type=complete` marker the run wrote last (format 2 and later). */
  marker?: SnapshotInfo;
  /** Every snapshot of the group. */
  snapshots: SnapshotInfo[];
  /**
   * `complete`: the marker is there and every item it counts too. `incomplete`: the run failed or
   * was interrupted before saving everything (or a snapshot was removed since). `unverified`: a
   * point written before markers existed (format 1) that looks complete by its contents; a restore
   * checks it against its recipe.
   */
  status: PointStatus;
  /** Why the point is not complete (empty when it is). */
  problems: string[];
  /** Highest `format=` tag among its snapshots (1 when absent). */
  format: number;
  /** Bytes the point restores, from the marker's `size` tag; undefined when unknown. */
  sizeBytes?: number;
}

export type PointStatus = "complete" | "incomplete" | "unverified";

/** The file the completion marker snapshot stores (a JSON list of the run's items). */
export const MARKER_FILE = "complete.json";

/** Usable by `--latest`, `--before`, the wizard's default and retention's rules. */
export function isUsable(p: RestorePoint): boolean {
  return p.status !== "incomplete";
}

/**
 * Whether the point can bring back the unit's networks: a networks snapshot (format 1-3), or from
 * format 4 the recipe, whose `unit.networks` is that list (core/restore/load.ts networksOfRecipe).
 * A unit without custom networks has an empty list.
 */
export function holdsNetworks(p: RestorePoint): boolean {
  return !!p.networks || (p.format >= 4 && !!p.recipe);
}

export type PointSelector = { latest: true } | { backupId: string } | { before: Date };

export interface SelectOptions {
  /** `--allow-incomplete`: a point named by `--backup-id` may be incomplete. */
  allowIncomplete?: boolean;
}

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
      status: "complete",
      problems: [],
      format: Math.max(...group.map((s) => Number(tagValue(s, "format") ?? 1) || 1)),
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
        case "complete":
          point.marker ??= s;
          break;
        case "data":
          // Format 3: one snapshot, several items (validated by core/tags.ts).
          addItems(point, seen, s);
          break;
        case "pre-restore":
          // Format 4: one pass over every folder the restore replaced, named like a data snapshot.
          if (s.items) {
            addItems(point, seen, s);
            break;
          }
          // falls through: before format 4, one snapshot per folder
        case "volume":
        case "bind": {
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
            path: s.paths[0] ?? "",
          });
          break;
        }
      }
    }
    point.volumes.sort((a, b) => a.name.localeCompare(b.name));
    point.binds.sort((a, b) => a.name.localeCompare(b.name));
    points.push(point);
  }
  for (const p of points) judge(p, points);
  return points.sort((a, b) =>
    b.time.localeCompare(a.time) || b.backupId.localeCompare(a.backupId)
  );
}

/** The folders of a snapshot with `item=` tags; an item seen in a newer snapshot is kept. */
function addItems(point: RestorePoint, seen: Set<string>, s: SnapshotInfo) {
  for (const d of s.items ?? []) {
    if (seen.has(`${d.kind}:${d.name}`)) continue;
    seen.add(`${d.kind}:${d.name}`);
    (d.kind === "volume" ? point.volumes : point.binds).push({
      kind: d.kind,
      name: d.name,
      snapshot: s,
      source: "dir",
      path: d.path,
    });
  }
}

/** Items of a point the way the marker counts them: recipe, networks, each volume and bind. */
function itemCount(p: RestorePoint): number {
  return (p.recipe ? 1 : 0) + (p.networks ? 1 : 0) + p.volumes.length + p.binds.length +
    p.snapshots.filter((s) => s.type === "dump").length;
}

/**
 * Sets status, problems and size. Pre-restore points and the host's docker-config (one snapshot
 * each, atomic in restic) are complete. A format-2 point needs its marker and every item the
 * marker counts. A format-1 point (no markers then) is judged by what it holds: a recipe (scope
 * minimal: a volume), and some volume or bind when other points of the unit on that host have any.
 */
function judge(p: RestorePoint, all: RestorePoint[]) {
  const size = p.marker ? Number(tagValue(p.marker, "size")) : Number.NaN;
  if (Number.isFinite(size) && size >= 0) p.sizeBytes = size;
  if (p.kind === "pre-restore" || p.snapshots.every((s) => s.type === "docker-config")) return;
  const data = p.volumes.length + p.binds.length;
  if (p.format >= 2) {
    if (!p.marker) {
      p.problems.push(
        "no completion marker: the run failed or was interrupted before every item was saved",
      );
    } else {
      const want = Number(tagValue(p.marker, "items"));
      const have = itemCount(p);
      if (!Number.isInteger(want) || have < want) {
        p.problems.push(
          `the run saved ${
            Number.isInteger(want) ? want : "?"
          } item(s); ${have} are in the repository`,
        );
      }
    }
    p.status = p.problems.length ? "incomplete" : "complete";
    return;
  }
  if (p.scope === "minimal") {
    if (data === 0) p.problems.push("format 1 point without any volume");
  } else {
    if (!p.recipe) p.problems.push("format 1 point without its recipe");
    const othersHaveData = all.some((o) =>
      o !== p && o.host === p.host && o.kind === "backup" && o.volumes.length + o.binds.length > 0
    );
    if (data === 0 && othersHaveData) {
      p.problems.push("format 1 point without volumes or binds, though other points have them");
    }
  }
  p.status = p.problems.length ? "incomplete" : "unverified";
}

/**
 * What a format-1 (`unverified`) point lacks compared with its own recipe: every volume the unit
 * owned and, above scope minimal, every safe bind folder. Empty when nothing is missing.
 */
export function missingFromRecipe(
  p: RestorePoint,
  recipe: {
    unit?: {
      volumes?: { name: string; external?: boolean }[];
      binds?: { source: string; safe?: boolean }[];
    };
  } | undefined,
): string[] {
  if (!recipe?.unit) return [];
  const have = new Set(p.volumes.map((v) => v.name));
  const missing = (recipe.unit.volumes ?? []).filter((v) => !v.external && !have.has(v.name))
    .map((v) => `volume ${v.name}`);
  if (p.scope !== "minimal") {
    const binds = new Set(p.binds.map((b) => b.name));
    missing.push(
      ...(recipe.unit.binds ?? []).filter((b) => b.safe && !binds.has(b.source)).map((b) =>
        `bind ${b.source}`
      ),
    );
  }
  return missing;
}

/** Refuses an incomplete point unless `--allow-incomplete` was given. */
export function requireComplete(p: RestorePoint, problems: string[], opts: SelectOptions) {
  if (problems.length === 0 || opts.allowIncomplete) return;
  throw new StowageError(
    "snapshot.incomplete",
    `Cannot restore unit '${p.unit}' from ${p.backupId}: the restore point is incomplete`,
    `Pick a complete one (\`stowage restore --unit ${p.unit} --list\`), or restore what it holds with --backup-id ${p.backupId} --allow-incomplete.`,
    { details: problems },
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
 * Picks one restore point. `latest` and `before` consider complete (or format-1 unverified)
 * backups only, never pre-restore points; a backup id names any point, and an incomplete one only
 * with `allowIncomplete`. When the same id exists for several hosts, `localHost` wins.
 */
export function selectPoint(
  points: RestorePoint[],
  unit: string,
  sel: PointSelector,
  localHost: string,
  opts: SelectOptions = {},
): RestorePoint {
  const backups = points.filter((p) => p.kind === "backup" && isUsable(p));
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
  if (matches.length > 0) {
    const p = preferHost(matches, localHost);
    requireComplete(p, p.status === "incomplete" ? p.problems : [], opts);
    return p;
  }
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
  const incomplete = points.filter((p) => p.kind === "backup" && !isUsable(p));
  if (incomplete.length > 0) {
    return new StowageError(
      "snapshot.notfound",
      `Cannot restore unit '${unit}': it has no complete restore point (${incomplete.length} incomplete)`,
      `Run \`stowage backup --unit ${unit}\`, or restore what an incomplete one holds with --backup-id ${
        incomplete[0].backupId
      } --allow-incomplete.`,
    );
  }
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
