/**
 * manifest.json: what a bundle holds, where each file goes on a new server and the SHA-256 of
 * every other file in it. It is the first file of the archive, so a reader learns the format
 * version and the expected hashes before any content arrives.
 */
import { z } from "zod";
import { StowageError } from "../errors.ts";
import { BUNDLE_FORMAT } from "./format.ts";

export type FileRole =
  | "readme"
  | "script"
  | "config"
  | "repository-password"
  | "env-file"
  | "restic-env"
  | "ssh-key"
  | "known-hosts"
  /** A file a copy repository needs (config `copies:`): `files/copy-NAME.KEY`. */
  | "copy-file";

export interface ManifestFile {
  /** Path inside the bundle directory, e.g. `files/config.yaml`. */
  name: string;
  role: FileRole;
  size: number;
  sha256: string;
  /** Octal, e.g. "0600". */
  mode: string;
  /** Where recover.sh and `open --install` put it: the path it had on the old host. */
  install_path?: string;
}

export interface ManifestUnit {
  name: string;
  latest_backup_id?: string;
  latest_time: string;
  snapshots: number;
}

export interface ManifestCopy {
  name: string;
  /** Credentials in the location masked: the bundled config holds the location itself. */
  location: string;
  password_file: string;
  env_file?: string;
  ssh_key?: string;
  known_hosts?: string;
}

export interface BundleManifest {
  kind: "stowage-recovery-bundle";
  format: number;
  stowage_version: string;
  /** Repository layout version (core/version.ts FORMAT_VERSION) of the stowage that wrote it. */
  repository_format: number;
  bundle_id: string;
  host: string;
  created: string;
  config: { path: string; embedded_default: boolean };
  state_dir: string;
  repository: {
    /** As restic gets it (tailscale: already sftp:). */
    location: string;
    password_file: string;
    restic_binary: string;
    /** Global restic arguments, e.g. `-o sftp.command=ssh -i KEY ...`. No secrets. */
    restic_args: string[];
    /** Names only: values live in files/restic.env. */
    env_names: string[];
    env_file?: string;
    ssh_key?: string;
    known_hosts?: string;
  };
  /** Each copy repository (config `copies:`): where it is and its files' paths (docs/copies.md). */
  copies?: ManifestCopy[];
  units: ManifestUnit[];
  /** Set when the repository could not be listed while the bundle was made. */
  units_error?: string;
  /** Things missing or odd when the bundle was made (a configured key file that did not exist...). */
  problems: string[];
  /** How to call stowage on the new server (with --config / STOWAGE_STATE_DIR when needed). */
  stowage_command: string;
  /** Commands to run after recover.sh, one per unit (or a template when no unit was known). */
  next_commands: string[];
  files: ManifestFile[];
}

export const MANIFEST_NAME = "manifest.json";

/** Roles a reader knows; anything else in a manifest is refused. */
export const FILE_ROLES = [
  "readme",
  "script",
  "config",
  "repository-password",
  "env-file",
  "restic-env",
  "ssh-key",
  "known-hosts",
  "copy-file",
] as const satisfies readonly FileRole[];

/** The keys of a copy's repository a bundle carries as files, and each one's file suffix. */
export const COPY_FILE_KEYS = ["password_file", "env_file", "ssh_key", "known_hosts"] as const;
export type CopyFileKey = (typeof COPY_FILE_KEYS)[number];

/** `files/copy-NAME.KEY` -> name and key; undefined for any other name. */
export function copyFileOf(name: string): { copy: string; key: CopyFileKey } | undefined {
  const m = /^files\/copy-([a-z0-9][a-z0-9_-]{0,62})\.([a-z_]+)$/.exec(name);
  if (!m || !(COPY_FILE_KEYS as readonly string[]).includes(m[2])) return undefined;
  return { copy: m[1], key: m[2] as CopyFileKey };
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Why `p` is not a path a bundle may name, or undefined: absolute, normalised (no `.`/`..`
 * segments, no `//`, no trailing `/`), not `/` itself, no control characters.
 */
export function badBundlePath(p: string): string | undefined {
  if (!p.startsWith("/")) return "is not absolute";
  if (p === "/") return "is the root directory";
  if (CONTROL.test(p)) return "holds a control character";
  if (p.endsWith("/")) return "ends with '/'";
  const parts = p.slice(1).split("/");
  if (parts.some((x) => x === "")) return "holds '//'";
  if (parts.some((x) => x === "." || x === "..")) return "holds a '.' or '..' segment";
  return undefined;
}

const safePath = z.string().check((ctx) => {
  const why = badBundlePath(ctx.value);
  if (why) ctx.issues.push({ code: "custom", message: `'${ctx.value}' ${why}`, input: ctx.value });
});
/** Free text a reader prints: one line, no terminal control sequences. */
const line = z.string().max(4096).refine((v) => !CONTROL.test(v), "holds a control character");

const fileSchema = z.looseObject({
  name: z.string().regex(/^(README\.txt|recover\.sh|files\/[A-Za-z0-9._-]+)$/),
  role: z.enum(FILE_ROLES),
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  mode: z.string().regex(/^0[0-7]{3}$/),
  install_path: safePath.optional(),
});

const unitSchema = z.looseObject({
  name: line,
  latest_backup_id: line.optional(),
  latest_time: line,
  snapshots: z.number().int().min(0),
});

/** The whole manifest: a reader decides paths from it, so every field it uses is checked. */
const manifestSchema = z.looseObject({
  kind: z.literal("stowage-recovery-bundle"),
  format: z.number().int().min(1),
  stowage_version: line,
  repository_format: z.number().int().min(1),
  bundle_id: z.string().regex(/^[0-9A-Za-z-]+$/),
  host: line,
  created: line,
  config: z.looseObject({ path: safePath, embedded_default: z.boolean() }),
  state_dir: safePath,
  repository: z.looseObject({
    location: z.string().min(1).refine((v) => !CONTROL.test(v), "holds a control character"),
    password_file: safePath,
    restic_binary: line,
    restic_args: z.array(z.string()),
    env_names: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)),
    env_file: safePath.optional(),
    ssh_key: safePath.optional(),
    known_hosts: safePath.optional(),
  }),
  copies: z.array(z.looseObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
    location: line,
    password_file: safePath,
    env_file: safePath.optional(),
    ssh_key: safePath.optional(),
    known_hosts: safePath.optional(),
  })).optional(),
  units: z.array(unitSchema),
  units_error: z.string().optional(),
  problems: z.array(z.string()),
  stowage_command: line,
  next_commands: z.array(line),
  files: z.array(fileSchema),
});

function invalid(
  bundle: string,
  why: string,
  hint = "Use another copy of the bundle, or make a new one on the old host if it still runs.",
): StowageError {
  return new StowageError(
    "bundle.invalid",
    `Cannot open recovery bundle '${bundle}': ${why}`,
    hint,
  );
}

/** Parses and checks manifest.json; a newer format is refused before anything else is read. */
export function parseManifest(text: string, bundle: string): BundleManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalid(bundle, "its manifest.json is not valid JSON");
  }
  const format = (raw as { format?: unknown })?.format;
  if (typeof format === "number" && format > BUNDLE_FORMAT) {
    const by = (raw as { stowage_version?: unknown }).stowage_version;
    throw invalid(
      bundle,
      `it was made by a newer stowage${
        typeof by === "string" ? ` (${by})` : ""
      } (bundle format ${format}; this stowage reads up to ${BUNDLE_FORMAT})`,
      "Open it with a stowage at least as new as the one that made it.",
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(
      bundle,
      `its manifest.json is malformed (at '${issue.path.join(".")}': ${issue.message})`,
    );
  }
  const names = new Set<string>();
  for (const f of parsed.data.files) {
    if (names.has(f.name)) throw invalid(bundle, `its manifest.json lists '${f.name}' twice`);
    names.add(f.name);
  }
  return parsed.data as unknown as BundleManifest;
}

/** What a reader saw of one file. */
export interface SeenFile {
  name: string;
  size: number;
  sha256: string;
}

/** Every difference between the manifest and what the archive held, one line each. */
export function manifestMismatches(manifest: BundleManifest, seen: SeenFile[]): string[] {
  const problems: string[] = [];
  const byName = new Map(seen.map((s) => [s.name, s]));
  for (const f of manifest.files) {
    const s = byName.get(f.name);
    if (!s) problems.push(`${f.name} is missing`);
    else if (s.size !== f.size) {
      problems.push(`${f.name} has ${s.size} bytes, the manifest says ${f.size}`);
    } else if (s.sha256 !== f.sha256) {
      problems.push(`${f.name} does not match its SHA-256 in the manifest`);
    }
  }
  const listed = new Set(manifest.files.map((f) => f.name));
  for (const s of seen) if (!listed.has(s.name)) problems.push(`${s.name} is not in the manifest`);
  return problems;
}

export function mismatchError(bundle: string, problems: string[]): StowageError {
  const e = invalid(
    bundle,
    `it does not match its manifest: ${problems[0]}${
      problems.length > 1 ? ` (and ${problems.length - 1} more)` : ""
    }`,
  );
  e.details.push(...problems.slice(1));
  return e;
}

export { invalid as invalidBundleError };
