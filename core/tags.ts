/**
 * Snapshot tags as data (docs/format.md): building them for a new snapshot and reading them back
 * from restic's list. The one place that knows the tag spelling.
 */
import { z } from "zod";
import type { ResticSnapshot } from "./ports.ts";
import { type Scope, SCOPES, type SnapshotInfo, type SnapshotType } from "./model.ts";
import { FORMAT_VERSION } from "./version.ts";
import { isSafeBindPath, normalizePath } from "./safe_paths.ts";
import { ITEM_KEY, itemTagValue, parseDataItems } from "./data_tags.ts";
import type { DataItem } from "./model.ts";

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
  /** Completion marker only: how many items the run saved, and their bytes (docs/format.md). */
  items?: number;
  size?: number;
  /** For `type=image`: the image id. */
  image?: string;
  /** For `type=dump`: which database of which service (docs/dumps.md). */
  dump?: { engine: "postgres" | "mariadb"; service: string; database: string };
  /** For `type=data`: the volume folders and bind mounts the snapshot holds (core/data_tags.ts). */
  data?: DataItem[];
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
  if (f.items !== undefined) tags.push(`items=${f.items}`);
  if (f.size !== undefined) tags.push(`size=${f.size}`);
  if (f.image !== undefined) tags.push(`image=${escape(f.image)}`);
  for (const d of f.data ?? []) tags.push(`${ITEM_KEY}=${escape(itemTagValue(d))}`);
  if (f.dump !== undefined) {
    tags.push(
      `engine=${f.dump.engine}`,
      `service=${escape(f.dump.service)}`,
      `database=${escape(f.dump.database)}`,
    );
  }
  return tags;
}

/** The tag of a warm pre-pass snapshot (docs/format.md): never `stowage`, so never a restore point. */
export const WARM_TAG = "stowage-warm";

/**
 * Tags of a warm pre-pass snapshot. Deliberately without `stowage`, `unit=`, `type=` and
 * `backup_id=`: every listing of restore points, units and the recovery manifest reads those, so
 * a warm snapshot (saved while the unit ran, never consistent) cannot be picked by any of them.
 * The next cold pass uses it as its parent, and the run forgets it once the containers run again.
 */
export function buildWarmTags(unit: string, backupId: string): string[] {
  return [WARM_TAG, warmUnitTag(unit), `warm_backup_id=${backupId}`];
}

/** The tag that finds one unit's warm snapshots (to forget them). */
export function warmUnitTag(unit: string): string {
  return `warm_unit=${escape(unit)}`;
}

/**
 * Reads a snapshot's tags. Tags come from the repository and anyone who can write to it can set
 * them, so every field that later names a path or a Docker object is validated (TAG_SCHEMA). A
 * snapshot whose tags fail gets `invalid` (the reason) and keeps only its unit and backup id (when
 * those are valid themselves): it joins no restore point, and restore refuses the point whose
 * backup id it carries (core/restore/trust.ts, docs/restore.md).
 */
export function parseSnapshot(s: ResticSnapshot): SnapshotInfo {
  const fields: Record<string, string> = {};
  const problems: string[] = [];
  const itemValues: string[] = [];
  for (const t of s.tags ?? []) {
    const eq = t.indexOf("=");
    if (eq <= 0) continue;
    const key = t.slice(0, eq);
    // A data snapshot names each of its items in one `item=` tag (format 3).
    if (key === ITEM_KEY) {
      itemValues.push(unescape(t.slice(eq + 1)));
      continue;
    }
    if (key in fields) problems.push(`tag ${key} appears more than once`);
    fields[key] = unescape(t.slice(eq + 1));
  }
  const info: SnapshotInfo = {
    id: s.id,
    shortId: s.short_id ?? s.id.slice(0, 8),
    time: s.time,
    hostname: s.hostname,
    paths: s.paths ?? [],
    tags: s.tags ?? [],
  };
  // Read from the repository like the tags: only a well-formed snapshot id is believed.
  if (s.original !== undefined && /^[0-9a-f]{64}$/.test(s.original)) info.original = s.original;
  const stowage = (s.tags ?? []).includes(STOWAGE_TAG);
  const parsed = (stowage ? STOWAGE_TAG_SCHEMA : TAG_SCHEMA).safeParse(fields);
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.map((i) => `${i.path.join(".") || "tags"}: ${i.message}`),
    );
  }
  let data: DataItem[] | undefined;
  if (stowage && (fields.type === "data" || itemValues.length > 0)) {
    if (fields.type !== "data" && fields.type !== "pre-restore") {
      problems.push("item= tags on a snapshot that is not type=data or type=pre-restore");
    }
    const parsedItems = parseDataItems(itemValues, info.paths, bindPathProblem);
    problems.push(...parsedItems.problems);
    data = parsedItems.items;
  }
  if (stowage && fields.type === "pre-restore") {
    const why = preRestoreProblem(fields, itemValues.length > 0);
    if (why) problems.push(why);
  }
  if (problems.length > 0) {
    // Only the fields that are valid on their own, so the snapshot can be attributed and reported.
    if (UNIT.safeParse(fields.unit).success) info.unit = fields.unit;
    if (BACKUP_ID.safeParse(fields.backup_id).success) info.backupId = fields.backup_id;
    // The reason is printed; tags are the attacker's text, so no control characters and no novels.
    // deno-lint-ignore no-control-regex
    const reason = problems.join("; ").replaceAll(/[\u0000-\u001f\u007f]/g, "?");
    info.invalid = reason.length > 500 ? `${reason.slice(0, 500)}...` : reason;
    return info;
  }
  info.unit = fields.unit;
  info.type = fields.type as SnapshotType | undefined;
  info.backupId = fields.backup_id;
  info.scope = fields.scope as Scope | undefined;
  info.volume = fields.volume;
  info.path = fields.path;
  if (fields.image !== undefined) info.image = fields.image;
  if (data) info.items = data;
  // A dump, or the safety dump a restore takes first (`type=pre-restore` with the dump's fields).
  if (
    fields.engine !== undefined && fields.service !== undefined && fields.database !== undefined
  ) {
    info.dump = {
      engine: fields.engine as "postgres" | "mariadb",
      service: fields.service,
      database: fields.database,
    };
  }
  return info;
}

/** Every snapshot type; a Record so a type added to the model must be added here too. */
const SNAPSHOT_TYPES: Record<SnapshotType, true> = {
  data: true,
  recipe: true,
  volume: true,
  bind: true,
  network: true,
  "docker-config": true,
  "pre-restore": true,
  complete: true,
  image: true,
  dump: true,
};

/**
 * A compose project or container name (Docker's `[a-zA-Z0-9][a-zA-Z0-9_.-]`), or one of the
 * internal units `_host` (Docker's config) and `_images` (saved images; core/internal_units.ts).
 */
const UNIT = z.string().regex(
  /^(_host|_images|[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254})$/,
  "not a compose project or container name",
);
const BACKUP_ID = z.string().regex(
  /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z$/,
  "not a backup id (2025-01-31T23-59-59Z)",
);
/** Docker's volume name pattern (daemon/names.go RestrictedNamePattern). */
export const VOLUME_NAME = z.string().regex(
  /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/,
  "not a Docker volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)",
);
/** A compose service or container name: it picks the container a dump is loaded into. */
export const SERVICE_NAME = z.string().regex(
  /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/,
  "not a compose service or container name",
);
/**
 * A database name stowage dumps: it becomes a file name (`--to-dir`) and a client's argument, so
 * only plain names (docs/dumps.md); a database with another name fails the dump, never skipped.
 */
export const DATABASE_NAME = z.string().regex(
  /^[a-zA-Z0-9_][a-zA-Z0-9_$-]{0,63}$/,
  "not a plain database name ([a-zA-Z0-9_][a-zA-Z0-9_$-]{0,63})",
);
/** Why a bind folder read from a tag is refused; undefined when it is normalised and safe. */
function bindPathProblem(p: string): string | undefined {
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(p)) return "contains control characters";
  if (normalizePath(p) !== p || p.split("/").includes("..")) {
    return `'${p}' is not a normalised absolute path`;
  }
  const verdict = isSafeBindPath(p);
  return verdict.safe ? undefined : `'${p}' is outside the safe roots: ${verdict.reason}`;
}

/** A bind folder: normalised, absolute, no `..`, under the safe roots backup uses. */
export const BIND_PATH = z.string().check((ctx) => {
  const why = bindPathProblem(ctx.value);
  if (why) ctx.issues.push({ code: "custom", input: ctx.value, message: why });
});

const TAG_SCHEMA = z.object({
  format: z.string().regex(/^\d{1,4}$/, "not a format number").optional(),
  unit: UNIT.optional(),
  type: z.enum(Object.keys(SNAPSHOT_TYPES) as [SnapshotType, ...SnapshotType[]]).optional(),
  backup_id: BACKUP_ID.optional(),
  timestamp: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, "not an ISO time")
    .optional(),
  scope: z.enum(SCOPES as [Scope, ...Scope[]]).optional(),
  volume: VOLUME_NAME.optional(),
  path: BIND_PATH.optional(),
  source: z.literal("archive").optional(),
  items: z.string().regex(/^\d{1,9}$/, "not a count").optional(),
  size: z.string().regex(/^\d{1,18}$/, "not a byte count").optional(),
  image: z.string().regex(/^sha256:[0-9a-f]{64}$/, "not an image id (sha256:...)").optional(),
  engine: z.enum(["postgres", "mariadb"]).optional(),
  service: SERVICE_NAME.optional(),
  database: DATABASE_NAME.optional(),
}).loose();

/** A stowage snapshot needs its unit, type and backup id (images: none), and the name its type refers to. */
const STOWAGE_TAG_SCHEMA = TAG_SCHEMA.required({ unit: true, type: true })
  .check((ctx) => {
    const f = ctx.value;
    const need = (ok: boolean, message: string) => {
      if (!ok) ctx.issues.push({ code: "custom", input: f, message });
    };
    // Saved images belong to no run (one snapshot per image id, shared by runs and units).
    if (f.type !== "image") need(f.backup_id !== undefined, "a snapshot without backup_id=");
    if (f.type === "volume") need(f.volume !== undefined, "a volume snapshot without volume=");
    if (f.type === "bind") need(f.path !== undefined, "a bind snapshot without path=");
    if (f.type === "complete") need(f.items !== undefined, "a completion marker without items=");
    if (f.type === "image") need(f.image !== undefined, "an image snapshot without image=");
    if (f.type === "dump") {
      need(
        f.engine !== undefined && f.service !== undefined && f.database !== undefined,
        "a dump snapshot without engine=, service= and database=",
      );
    }
    // pre-restore: preRestoreProblem (its rule depends on the item= tags, which are not fields).
  });

/**
 * A pre-restore snapshot names what it saved in exactly one way: `item=` tags (one pass over
 * every folder a restore replaced, like a data snapshot), or one `volume=` or `path=` (before
 * format 4: a snapshot per folder), or a dump's fields (the safety dump of `--only dumps`).
 */
function preRestoreProblem(f: Record<string, string>, hasItems: boolean): string | undefined {
  const dump = f.engine !== undefined && f.service !== undefined && f.database !== undefined;
  const ways = [hasItems, dump, f.volume !== undefined, f.path !== undefined].filter(Boolean);
  return ways.length === 1
    ? undefined
    : "a pre-restore snapshot needs exactly one of item= tags, volume=, path= and a dump's database=";
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
