/**
 * Snapshot tags as data (docs/format.md): building them for a new snapshot and reading them back
 * from restic's list. The one place that knows the tag spelling.
 */
import type { ResticSnapshot } from "./ports.ts";
import type { Scope, SnapshotInfo, SnapshotType } from "./model.ts";
import { FORMAT_VERSION } from "./version.ts";

export const STOWAGE_TAG = "stowage";

export interface TagFields {
  unit: string;
  type: SnapshotType;
  backupId: string;
  timestamp: string;
  scope: Scope;
  volume?: string;
  path?: string;
  source?: "archive";
  /** For `type=image`: the image id. */
  image?: string;
}

/** restic splits --tag values on commas, so a comma inside a value is written %2C. */
const escape = (v: string) => v.replaceAll("%", "%25").replaceAll(",", "%2C");
const unescape = (v: string) => v.replaceAll("%2C", ",").replaceAll("%25", "%");

export function buildTags(f: TagFields): string[] {
  const tags = [
    STOWAGE_TAG,
    `format=${FORMAT_VERSION}`,
    `unit=${escape(f.unit)}`,
    `type=${f.type}`,
    `backup_id=${f.backupId}`,
    `timestamp=${f.timestamp}`,
    `scope=${f.scope}`,
  ];
  if (f.volume !== undefined) tags.push(`volume=${escape(f.volume)}`);
  if (f.path !== undefined) tags.push(`path=${escape(f.path)}`);
  if (f.source !== undefined) tags.push(`source=${f.source}`);
  if (f.image !== undefined) tags.push(`image=${escape(f.image)}`);
  return tags;
}

export function parseSnapshot(s: ResticSnapshot): SnapshotInfo {
  const fields: Record<string, string> = {};
  for (const t of s.tags ?? []) {
    const eq = t.indexOf("=");
    if (eq > 0) fields[t.slice(0, eq)] = unescape(t.slice(eq + 1));
  }
  return {
    id: s.id,
    shortId: s.short_id ?? s.id.slice(0, 8),
    time: s.time,
    hostname: s.hostname,
    paths: s.paths ?? [],
    tags: s.tags ?? [],
    unit: fields.unit,
    type: fields.type as SnapshotType | undefined,
    backupId: fields.backup_id,
    scope: fields.scope as Scope | undefined,
    volume: fields.volume,
    path: fields.path,
    ...(fields.image !== undefined ? { image: fields.image } : {}),
  };
}

/** `2025-01-31T23-59-59Z`: sortable, safe in file names and tags. */
export function backupIdFor(d: Date): string {
  return d.toISOString().slice(0, 19).replaceAll(":", "-") + "Z";
}

/** ISO 8601 UTC without milliseconds: `2025-01-31T23:59:59Z`. */
export function isoSeconds(d: Date): string {
  return d.toISOString().slice(0, 19) + "Z";
}

/** Parses a backup id back to its instant; undefined when it is not one. */
export function backupIdTime(id: string): Date | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})Z$/.exec(id);
  return m ? new Date(`${m[1]}T${m[2]}:${m[3]}:${m[4]}Z`) : undefined;
}
