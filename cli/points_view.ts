/**
 * How restore points are shown by `restore --list`, the restore wizard and `admin snapshot list`:
 * one time column (relative age and the backup id), completeness, contents and size, all from
 * one `restic snapshots` listing (sizes come from the completion marker's tags).
 */
import { holdsNetworks, type RestorePoint } from "../core/restore/points.ts";
import { formatBytes } from "./output.ts";

/** `5 min ago`, `3 h ago`, `2 days ago`; `in the future` for a clock behind the backup's. */
export function formatAge(ms: number): string {
  if (ms < 0) return "in the future";
  const min = Math.floor(ms / 60_000);
  if (min < 1) return "just now";
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} days ago`;
}

/** `3 h ago (2025-01-31T23-59-59Z)`: the one time column. */
export function whenOf(p: RestorePoint, now: Date): string {
  return `${formatAge(now.getTime() - Date.parse(p.time))} (${p.backupId})`;
}

export function statusOf(p: RestorePoint): string {
  if (p.kind === "pre-restore") return "pre-restore";
  return p.status === "incomplete" ? "INCOMPLETE" : p.status;
}

export function contentsOf(p: RestorePoint): string {
  return [
    p.recipe ? "recipe" : "",
    holdsNetworks(p) ? "networks" : "",
    p.volumes.length ? `${p.volumes.length} volume(s)` : "",
    p.binds.length ? `${p.binds.length} bind(s)` : "",
  ].filter(Boolean).join(", ") || "-";
}

export function sizeOf(p: RestorePoint): string {
  return p.sizeBytes === undefined ? "-" : formatBytes(p.sizeBytes);
}

/** The JSON form of a point, shared by `restore --list --json` and `admin snapshot list --json`. */
export function pointJson(p: RestorePoint, now: Date) {
  return {
    backupId: p.backupId,
    time: p.time,
    ageSeconds: Math.round((now.getTime() - Date.parse(p.time)) / 1000),
    host: p.host,
    kind: p.kind,
    status: p.status,
    problems: p.problems,
    format: p.format,
    scope: p.scope ?? null,
    recipe: !!p.recipe,
    networks: holdsNetworks(p),
    volumes: p.volumes.map((v) => v.name),
    binds: p.binds.map((b) => b.name),
    sizeBytes: p.sizeBytes ?? null,
    types: [...new Set(p.snapshots.map((s) => s.type))].sort(),
    snapshots: p.snapshots.map((s) => s.id),
  };
}

/** One line for the wizard's menu. */
export function pointLine(p: RestorePoint, now: Date): string {
  return [
    whenOf(p, now),
    statusOf(p),
    p.kind === "pre-restore" ? "" : `scope ${p.scope ?? "?"}`,
    contentsOf(p),
    sizeOf(p),
    `host ${p.host}`,
  ].filter(Boolean).join("  ");
}

/** Footnote for listings that show incomplete points. */
export const INCOMPLETE_NOTE =
  "INCOMPLETE: the run failed or was interrupted before saving every item; --latest skips it, " +
  "restoring it needs --backup-id ID --allow-incomplete (docs/restore.md).";
