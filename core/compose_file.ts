/**
 * The little of a compose file that discovery needs: which services depend on which, and which
 * secrets are read from files. The running containers are the truth about what exists; the
 * compose file only adds what labels do not carry (depends_on under docker-compose 1.29).
 * Parsing never throws: garbage yields an empty result and a note saying why.
 */
import { parse } from "yaml";
import { posix } from "node:path";
export { COMPOSE_LABELS, type ProjectFilePaths, projectFilePaths } from "./compose_labels.ts";

export interface ComposeService {
  /** depends_on, both the list and the map form. */
  dependsOn: string[];
  /** `links: [db, "cache:redis"]` -> the services linked to. */
  links: string[];
  /** `network_mode` as written (`service:db`, `host`, ...). */
  networkMode?: string;
  /** Services named by `volumes_from` (`service` or `service:ro`; `container:X` is skipped). */
  volumesFrom: string[];
  /** Secret names the service uses. */
  secrets: string[];
}

export interface ComposeSecret {
  name: string;
  /** `file:` as written (may be relative to the project directory). */
  file?: string;
  external: boolean;
  /** Compose v2's `environment:` source. */
  environment?: string;
}

/**
 * A host file or folder a compose file names, which `up` needs on the host besides the compose
 * files: `env_file:`, `extends: { file: }`, file-based `configs:`, a `build:` context. Paths are as
 * written (relative to the project directory, or absolute).
 */
export interface ComposeReference {
  kind: "env_file" | "extends" | "config" | "build";
  /** The service that names it; undefined for top-level `configs:`. */
  service?: string;
  path: string;
  /** `build.dockerfile` as written (relative to the context), when set. */
  dockerfile?: string;
  /** `env_file: { path, required: false }` (Compose v2): a missing file is fine. */
  optional?: boolean;
}

export interface ComposeFileInfo {
  services: Record<string, ComposeService>;
  secrets: Record<string, ComposeSecret>;
  /** Host files the compose file references (never the bind mounts: those are data). */
  references?: ComposeReference[];
  /** Why something could not be read; empty when the file parsed cleanly. */
  notes: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

function keysOrList(v: unknown): string[] {
  if (Array.isArray(v)) return strings(v);
  if (isRecord(v)) return Object.keys(v);
  return [];
}

function secretNames(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const s of v) {
    if (typeof s === "string") out.push(s);
    else if (isRecord(s) && typeof s.source === "string") out.push(s.source);
  }
  return out;
}

function parseService(raw: Record<string, unknown>): ComposeService {
  const links = strings(raw.links).map((l) => l.split(":")[0]).filter(Boolean);
  const volumesFrom = strings(raw.volumes_from)
    .filter((v) => !v.startsWith("container:"))
    .map((v) => v.replace(/^service:/, "").split(":")[0])
    .filter(Boolean);
  return {
    dependsOn: keysOrList(raw.depends_on),
    links,
    networkMode: typeof raw.network_mode === "string" ? raw.network_mode : undefined,
    volumesFrom,
    secrets: secretNames(raw.secrets),
  };
}

function envFileRefs(service: string, v: unknown): ComposeReference[] {
  const list = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  const out: ComposeReference[] = [];
  for (const e of list) {
    if (typeof e === "string" && e) out.push({ kind: "env_file", service, path: e });
    else if (isRecord(e) && typeof e.path === "string" && e.path) {
      out.push({
        kind: "env_file",
        service,
        path: e.path,
        ...(e.required === false ? { optional: true } : {}),
      });
    }
  }
  return out;
}

function serviceRefs(service: string, raw: Record<string, unknown>): ComposeReference[] {
  const out = envFileRefs(service, raw.env_file);
  if (isRecord(raw.extends) && typeof raw.extends.file === "string" && raw.extends.file) {
    out.push({ kind: "extends", service, path: raw.extends.file });
  }
  if (typeof raw.build === "string" && raw.build) {
    out.push({ kind: "build", service, path: raw.build });
  } else if (isRecord(raw.build)) {
    const context = typeof raw.build.context === "string" && raw.build.context
      ? raw.build.context
      : ".";
    out.push({
      kind: "build",
      service,
      path: context,
      ...(typeof raw.build.dockerfile === "string" && raw.build.dockerfile
        ? { dockerfile: raw.build.dockerfile }
        : {}),
    });
  }
  return out;
}

/** Parses compose YAML. `source` names the file in notes. */
export function parseComposeFile(text: string, source = "compose file"): ComposeFileInfo {
  const empty = (note: string): ComposeFileInfo => ({
    services: {},
    secrets: {},
    references: [],
    notes: [note],
  });
  let doc: unknown;
  try {
    doc = parse(text, { merge: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return empty(`${source} is not valid YAML: ${msg}`);
  }
  if (doc === null || doc === undefined) return empty(`${source} is empty`);
  if (!isRecord(doc)) return empty(`${source} is not a mapping of compose keys`);

  // Without `services` and `version`, docker-compose 1.x reads the legacy v1 format, where every
  // top-level key is a service.
  let rawServices: unknown = doc.services;
  if (rawServices === undefined && doc.version === undefined) {
    rawServices = Object.fromEntries(
      Object.entries(doc).filter(([k, v]) => !k.startsWith("x-") && isRecord(v)),
    );
  }
  const notes: string[] = [];
  const services: Record<string, ComposeService> = {};
  const references: ComposeReference[] = [];
  if (rawServices !== undefined && rawServices !== null && !isRecord(rawServices)) {
    notes.push(`${source}: 'services' is not a mapping`);
  } else if (isRecord(rawServices)) {
    for (const [name, raw] of Object.entries(rawServices)) {
      if (isRecord(raw)) {
        services[name] = parseService(raw);
        references.push(...serviceRefs(name, raw));
      } else if (raw === null) services[name] = parseService({});
      else notes.push(`${source}: service '${name}' is not a mapping`);
    }
  }
  const secrets: Record<string, ComposeSecret> = {};
  if (isRecord(doc.secrets)) {
    for (const [name, raw] of Object.entries(doc.secrets)) {
      if (!isRecord(raw)) continue;
      secrets[name] = {
        name,
        file: typeof raw.file === "string" ? raw.file : undefined,
        external: raw.external === true || isRecord(raw.external),
        environment: typeof raw.environment === "string" ? raw.environment : undefined,
      };
    }
  }
  if (isRecord(doc.configs)) {
    for (const raw of Object.values(doc.configs)) {
      if (isRecord(raw) && typeof raw.file === "string" && raw.file) {
        references.push({ kind: "config", path: raw.file });
      }
    }
  }
  return { services, secrets, references, notes };
}

/** Combines several compose files the way `-f a.yml -f b.yml` does, for what we read. */
export function mergeComposeFiles(files: ComposeFileInfo[]): ComposeFileInfo {
  const out: ComposeFileInfo = { services: {}, secrets: {}, references: [], notes: [] };
  for (const f of files) {
    out.notes.push(...f.notes);
    out.references!.push(...(f.references ?? []));
    for (const [name, s] of Object.entries(f.services)) {
      const prev = out.services[name];
      out.services[name] = prev
        ? {
          dependsOn: union(prev.dependsOn, s.dependsOn),
          links: union(prev.links, s.links),
          networkMode: s.networkMode ?? prev.networkMode,
          volumesFrom: union(prev.volumesFrom, s.volumesFrom),
          secrets: union(prev.secrets, s.secrets),
        }
        : s;
    }
    Object.assign(out.secrets, f.secrets);
  }
  return out;
}

/** Services a service needs started before it: depends_on, links, network_mode, volumes_from. */
export function serviceDependencies(s: ComposeService): string[] {
  const deps = [...s.dependsOn, ...s.links, ...s.volumesFrom];
  if (s.networkMode?.startsWith("service:")) deps.push(s.networkMode.slice("service:".length));
  return union([], deps);
}

/** A reference with its path resolved on the host, or why it cannot be saved from there. */
export interface ResolvedReference extends ComposeReference {
  /** Absolute, normalised host path; undefined for a remote build context. */
  hostPath?: string;
  /** The Dockerfile's absolute path for a build context (default `<context>/Dockerfile`). */
  dockerfilePath?: string;
  /** Set when it is remote (a git URL, an http(s) tarball): nothing on this host to save. */
  remote?: boolean;
}

const REMOTE_CONTEXT = /^(https?:\/\/|git@|git:\/\/|ssh:\/\/|github\.com\/)/;

/**
 * Resolves references the way compose does: relative paths against the project directory (the
 * folder of the first compose file; docker-compose 1.29 and Compose v2 both resolve paths of
 * override files against it too), `~` left alone (compose expands it for the user running `up`;
 * we cannot know that user, so it is kept as written and reported as not absolute). Deduplicated
 * by kind and path.
 */
export function resolveReferences(
  refs: readonly ComposeReference[],
  projectDir: string | undefined,
): ResolvedReference[] {
  const out: ResolvedReference[] = [];
  const seen = new Set<string>();
  for (const r of refs) {
    let resolved: ResolvedReference;
    if (r.kind === "build" && REMOTE_CONTEXT.test(r.path)) {
      resolved = { ...r, remote: true };
    } else {
      const abs = posix.isAbsolute(r.path)
        ? posix.normalize(r.path)
        : projectDir && posix.isAbsolute(projectDir) && !r.path.startsWith("~")
        ? posix.join(projectDir, r.path)
        : undefined;
      const host = abs && abs.length > 1 ? abs.replace(/\/+$/, "") : abs;
      resolved = { ...r, ...(host ? { hostPath: host } : {}) };
      if (r.kind === "build" && host) {
        resolved.dockerfilePath = posix.isAbsolute(r.dockerfile ?? "")
          ? posix.normalize(r.dockerfile!)
          : posix.join(host, r.dockerfile ?? "Dockerfile");
      }
    }
    const key = `${r.kind}\0${resolved.hostPath ?? r.path}\0${resolved.dockerfilePath ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(resolved);
  }
  return out;
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}
