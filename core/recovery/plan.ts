/**
 * What goes into a bundle, as data: first the payload (config, repository password, credentials,
 * keys) with the paths they are installed at, then, once the adapter has measured the files, the
 * manifest, README.txt and recover.sh around them. Pure: no file is read here.
 */
import { createHash } from "node:crypto";
import type {
  BundleManifest,
  CopyFileKey,
  FileRole,
  ManifestFile,
  ManifestUnit,
} from "./manifest.ts";
import { MANIFEST_NAME } from "./manifest.ts";
import { BUNDLE_FORMAT } from "./format.ts";
import { bundleRoot } from "./names.ts";
import { renderReadme, renderRecoverScript } from "./templates.ts";

export interface BundleInput {
  bundleId: string;
  host: string;
  created: Date;
  stowageVersion: string;
  repositoryFormat: number;
  config: {
    /** Where the config lives (and is installed on the new server). */
    path: string;
    /** The file itself, or the embedded default rendered as YAML when no file exists. */
    source: { file: string } | { text: string };
    embeddedDefault: boolean;
  };
  stateDir: string;
  repository: {
    location: string;
    /** For messages outside the bundle: credentials in the location masked. */
    displayLocation: string;
    passwordFile: string;
    resticBinary: string;
    resticArgs: string[];
    /** Backend environment restic needs (env_file values merged with repository.env). */
    env: Record<string, string>;
    envFile?: string;
    sshKey?: string;
    knownHosts?: string;
  };
  /** Each copy repository (config `copies:`) with the files it needs. */
  copies?: {
    name: string;
    displayLocation: string;
    passwordFile: string;
    envFile?: string;
    sshKey?: string;
    knownHosts?: string;
  }[];
  /** How to call stowage on the new server, e.g. `stowage --config /srv/stowage.yaml`. */
  stowageCommand: string;
  units: ManifestUnit[];
  unitsError?: string;
  problems: string[];
}

export type Source = { file: string } | { text: string };

export interface PayloadSpec {
  name: string;
  role: FileRole;
  mode: number;
  installPath?: string;
  source: Source;
}

export interface Measured {
  name: string;
  size: number;
  sha256: string;
}

/** An entry of the archive, in order, with what the writer needs to stream and check it. */
export interface BundleEntry {
  name: string;
  mode: number;
  size: number;
  sha256: string;
  source: Source;
}

export interface AssembledBundle {
  root: string;
  manifest: BundleManifest;
  entries: BundleEntry[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** restic.env for recover.sh: one KEY=VALUE per line, read with `export "$line"`. */
export function resticEnvText(env: Record<string, string>, problems: string[]): string | undefined {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!ENV_NAME.test(k)) {
      problems.push(
        `backend variable '${k}' is not a valid environment name; recover.sh will not set it`,
      );
    } else if (/[\n\r\0]/.test(v)) {
      problems.push(
        `backend variable '${k}' holds a line break; recover.sh will not set it (stowage itself still reads it from the config)`,
      );
    } else lines.push(`${k}=${v}`);
  }
  return lines.length ? lines.join("\n") + "\n" : undefined;
}

/** The payload: what the new server needs, and where each file goes. */
export function payloadFiles(input: BundleInput, problems: string[]): PayloadSpec[] {
  const r = input.repository;
  const out: PayloadSpec[] = [
    {
      name: "files/config.yaml",
      role: "config",
      mode: 0o600,
      installPath: input.config.path,
      source: input.config.source,
    },
    {
      name: "files/repository.password",
      role: "repository-password",
      mode: 0o600,
      installPath: r.passwordFile,
      source: { file: r.passwordFile },
    },
  ];
  if (r.envFile) {
    out.push({
      name: "files/backend.env",
      role: "env-file",
      mode: 0o600,
      installPath: r.envFile,
      source: { file: r.envFile },
    });
  }
  const envText = resticEnvText(r.env, problems);
  if (envText) {
    out.push({
      name: "files/restic.env",
      role: "restic-env",
      mode: 0o600,
      source: { text: envText },
    });
  }
  if (r.sshKey) {
    out.push({
      name: "files/ssh_key",
      role: "ssh-key",
      mode: 0o600,
      installPath: r.sshKey,
      source: { file: r.sshKey },
    });
  }
  if (r.knownHosts) {
    out.push({
      name: "files/known_hosts",
      role: "known-hosts",
      mode: 0o600,
      installPath: r.knownHosts,
      source: { file: r.knownHosts },
    });
  }
  // Each copy's own files; one the primary (or an earlier copy) already carries is that file.
  const carried = new Set(out.map((f) => f.installPath).filter((p) => p !== undefined));
  for (const c of input.copies ?? []) {
    const files: [CopyFileKey, string | undefined][] = [
      ["password_file", c.passwordFile],
      ["env_file", c.envFile],
      ["ssh_key", c.sshKey],
      ["known_hosts", c.knownHosts],
    ];
    for (const [key, path] of files) {
      if (path === undefined || carried.has(path)) continue;
      carried.add(path);
      out.push({
        name: `files/copy-${c.name}.${key}`,
        role: "copy-file",
        mode: 0o600,
        installPath: path,
        source: { file: path },
      });
    }
  }
  // Two roles installed at one path would fight; keep the first.
  const seen = new Set<string>();
  return out.filter((f) => {
    if (!f.installPath) return true;
    if (seen.has(f.installPath)) {
      problems.push(
        `${f.name} would be installed at '${f.installPath}', which another bundle file already uses; left out`,
      );
      return false;
    }
    seen.add(f.installPath);
    return true;
  });
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function measureText(name: string, text: string): Measured {
  const bytes = new TextEncoder().encode(text);
  return { name, size: bytes.length, sha256: sha256Hex(bytes) };
}

export function nextCommands(stowageCommand: string, units: ManifestUnit[]): string[] {
  const names = units.length ? units.map((u) => u.name) : ["NAME"];
  return names.map((n) => `${stowageCommand} restore --unit ${n} --latest --start --yes`);
}

const octal = (mode: number) => "0" + (mode & 0o777).toString(8).padStart(3, "0");

/**
 * Manifest, README.txt and recover.sh around the measured payload. Payload files the adapter
 * could not read are absent from `measured` and have a line in `input.problems`.
 */
export function assembleBundle(
  input: BundleInput,
  payload: PayloadSpec[],
  measured: Measured[],
): AssembledBundle {
  const root = bundleRoot(input.bundleId);
  const byName = new Map(measured.map((m) => [m.name, m]));
  const present = payload.filter((p) => byName.has(p.name));
  const payloadFilesOut: ManifestFile[] = present.map((p) => ({
    name: p.name,
    role: p.role,
    size: byName.get(p.name)!.size,
    sha256: byName.get(p.name)!.sha256,
    mode: octal(p.mode),
    ...(p.installPath ? { install_path: p.installPath } : {}),
  }));
  const base = manifestBase(input);
  // The README and the script are written from the manifest (without its own file list).
  const texts = [
    {
      name: "README.txt",
      role: "readme" as const,
      mode: 0o600,
      text: renderReadme({ manifest: base, payload: payloadFilesOut, root }),
    },
    {
      name: "recover.sh",
      role: "script" as const,
      mode: 0o700,
      text: renderRecoverScript({ manifest: base, payload: payloadFilesOut }),
    },
  ].map((t) => ({ ...t, ...measureText(t.name, t.text) }));
  const manifest: BundleManifest = {
    ...base,
    files: [
      ...texts.map((t) => ({
        name: t.name,
        role: t.role,
        size: t.size,
        sha256: t.sha256,
        mode: octal(t.mode),
      })),
      ...payloadFilesOut,
    ],
  };
  const manifestText = JSON.stringify(manifest, null, 2) + "\n";
  const textEntry = (
    t: { name: string; mode: number; text: string; size: number; sha256: string },
  ) => ({ name: t.name, mode: t.mode, size: t.size, sha256: t.sha256, source: { text: t.text } });
  const entries: BundleEntry[] = [
    textEntry({ ...measureText(MANIFEST_NAME, manifestText), mode: 0o600, text: manifestText }),
    ...texts.map(textEntry),
    ...present.map((p) => ({
      name: p.name,
      mode: p.mode,
      size: byName.get(p.name)!.size,
      sha256: byName.get(p.name)!.sha256,
      source: p.source,
    })),
  ];
  return { root, manifest, entries };
}

/** The manifest without its file list: what the bundle is, where the repository is, what next. */
function manifestBase(input: BundleInput): Omit<BundleManifest, "files"> {
  const r = input.repository;
  return {
    kind: "stowage-recovery-bundle",
    format: BUNDLE_FORMAT,
    stowage_version: input.stowageVersion,
    repository_format: input.repositoryFormat,
    bundle_id: input.bundleId,
    host: input.host,
    created: input.created.toISOString(),
    config: { path: input.config.path, embedded_default: input.config.embeddedDefault },
    state_dir: input.stateDir,
    repository: {
      location: r.location,
      password_file: r.passwordFile,
      restic_binary: r.resticBinary,
      restic_args: r.resticArgs,
      env_names: Object.keys(r.env).sort(),
      ...(r.envFile ? { env_file: r.envFile } : {}),
      ...(r.sshKey ? { ssh_key: r.sshKey } : {}),
      ...(r.knownHosts ? { known_hosts: r.knownHosts } : {}),
    },
    ...(input.copies?.length
      ? {
        copies: input.copies.map((c) => ({
          name: c.name,
          location: c.displayLocation,
          password_file: c.passwordFile,
          ...(c.envFile ? { env_file: c.envFile } : {}),
          ...(c.sshKey ? { ssh_key: c.sshKey } : {}),
          ...(c.knownHosts ? { known_hosts: c.knownHosts } : {}),
        })),
      }
      : {}),
    units: input.units,
    ...(input.unitsError ? { units_error: input.unitsError } : {}),
    problems: input.problems,
    stowage_command: input.stowageCommand,
    next_commands: nextCommands(input.stowageCommand, input.units),
  };
}
