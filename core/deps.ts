/**
 * The programs stowage needs on the host, their minimum versions and package names per distro
 * family. The data and the version logic are pure; `inspectDependencies` asks a ProcessRunner
 * (and optionally the Engine) and turns the answers into one status per dependency.
 */
import { errorMessage, isStowageError } from "./errors.ts";
import type { ProcessRunner } from "./ports.ts";

export type DistroFamily = "debian" | "fedora" | "alpine" | "arch" | "suse" | "unknown";

export type DependencyId = "docker-engine" | "restic" | "compose" | "tar" | "openssl" | "ssh";

export interface VersionProbe {
  program: string;
  args: string[];
  /** What a person would type, for messages: `docker compose`. */
  label: string;
  minVersion?: string;
  /** Extracts the version from stdout+stderr; undefined when it cannot be found. */
  parse: (output: string) => string | undefined;
}

export interface Dependency {
  id: DependencyId;
  name: string;
  purpose: string;
  /** `sftp`: needed only when the repository is reached over SSH (sftp:, tailscale:). */
  need: "required" | "sftp";
  minVersion?: string;
  /** The requirement in words, for tables: `>= 0.14.0`, `v2, or docker-compose >= 1.29`. */
  needs: string;
  /** Tried in order; the first one that runs decides. */
  probes: VersionProbe[];
  packages: Partial<Record<DistroFamily, string>>;
}

export type DependencyState = "ok" | "missing" | "too-old" | "not-running";

export interface DependencyStatus {
  id: DependencyId;
  name: string;
  purpose: string;
  required: boolean;
  needs: string;
  state: DependencyState;
  /** The version found, when one could be read. */
  version?: string;
  minVersion?: string;
  /** What answered, e.g. `docker-compose` or `docker compose`. */
  found?: string;
  detail?: string;
  /** Package that provides it on this host's distro family, when known. */
  package?: string;
}

/** First dotted number in a text: `restic 0.14.0 compiled ...` -> `0.14.0`. */
export function parseVersion(text: string): string | undefined {
  return text.match(/(\d+(?:\.\d+)+)/)?.[1];
}

/** Numeric comparison of dotted versions; missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map((p) => parseInt(p, 10) || 0);
  const pb = b.split(".").map((p) => parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function atLeast(version: string, min: string): boolean {
  return compareVersions(version, min) >= 0;
}

const after = (re: RegExp) => (out: string) => out.match(re)?.[1];

export const DOCKER_API_MIN = "1.41";

export function dependencies(
  opts: { resticBinary?: string; composeCommand?: string } = {},
): Dependency[] {
  const restic = opts.resticBinary ?? "restic";
  const composeProbes: VersionProbe[] = [
    {
      program: "docker",
      args: ["compose", "version", "--short"],
      label: "docker compose",
      minVersion: "2.0.0",
      parse: parseVersion,
    },
    {
      program: "docker-compose",
      args: ["version", "--short"],
      label: "docker-compose",
      minVersion: "1.29.0",
      parse: parseVersion,
    },
  ];
  const configured = opts.composeCommand?.trim().replace(/\s+/g, " ");
  const compose = configured ? composeProbes.filter((p) => p.label === configured) : composeProbes;
  return [
    {
      id: "docker-engine",
      name: "Docker Engine",
      purpose: "runs the containers stowage backs up (Engine API over the unix socket)",
      need: "required",
      minVersion: DOCKER_API_MIN,
      needs: `API >= ${DOCKER_API_MIN}`,
      probes: [],
      packages: {
        debian: "docker.io",
        fedora: "moby-engine",
        alpine: "docker",
        arch: "docker",
        suse: "docker",
      },
    },
    {
      id: "restic",
      name: "restic",
      purpose: "stores snapshots in the repository",
      need: "required",
      minVersion: "0.14.0",
      needs: ">= 0.14.0",
      probes: [{
        program: restic,
        args: ["version"],
        label: restic,
        minVersion: "0.14.0",
        parse: after(/restic\s+v?(\d+\.\d+(?:\.\d+)?)/),
      }],
      packages: {
        debian: "restic",
        fedora: "restic",
        alpine: "restic",
        arch: "restic",
        suse: "restic",
      },
    },
    {
      id: "compose",
      name: "Compose",
      purpose: "brings restored stacks up (docker compose v2 or docker-compose 1.29+)",
      need: "required",
      needs: "docker compose >= 2, or docker-compose >= 1.29",
      // A configured compose_command that names neither tool is reported as missing.
      probes: compose.length > 0 ? compose : [{
        program: configured!.split(" ")[0],
        args: [...configured!.split(" ").slice(1), "version", "--short"],
        label: configured!,
        parse: parseVersion,
      }],
      packages: {
        debian: "docker-compose",
        fedora: "docker-compose",
        alpine: "docker-cli-compose",
        arch: "docker-compose",
        suse: "docker-compose",
      },
    },
    {
      id: "tar",
      name: "tar",
      purpose: "reads volume folders and builds bundles",
      need: "required",
      needs: "any",
      probes: [{ program: "tar", args: ["--version"], label: "tar", parse: parseVersion }],
      packages: { debian: "tar", fedora: "tar", alpine: "tar", arch: "tar", suse: "tar" },
    },
    {
      id: "openssl",
      name: "OpenSSL",
      purpose: "opens disaster-recovery bundles on any machine",
      need: "required",
      minVersion: "1.1.1",
      needs: ">= 1.1.1 (pbkdf2)",
      probes: [{
        program: "openssl",
        args: ["version"],
        label: "openssl",
        minVersion: "1.1.1",
        parse: after(/(?:OpenSSL|LibreSSL)\s+(\d+\.\d+\.\d+)/),
      }],
      packages: {
        debian: "openssl",
        fedora: "openssl",
        alpine: "openssl",
        arch: "openssl",
        suse: "openssl",
      },
    },
    {
      id: "ssh",
      name: "OpenSSH client",
      purpose: "reaches sftp: and tailscale: repositories",
      need: "sftp",
      needs: "any",
      probes: [{
        program: "ssh",
        args: ["-V"],
        label: "ssh",
        parse: after(/OpenSSH_(\d+\.\d+)/),
      }],
      packages: {
        debian: "openssh-client",
        fedora: "openssh-clients",
        alpine: "openssh-client",
        arch: "openssh",
        suse: "openssh-clients",
      },
    },
  ];
}

/** True for repository locations restic reaches through ssh. */
export function needsSsh(location: string | undefined): boolean {
  return !!location && /^(sftp|tailscale):/.test(location);
}

export interface InspectPorts {
  runner: ProcessRunner;
  /** The Engine's version; rejects when no engine answers. */
  engineVersion?: () => Promise<{ Version: string; ApiVersion: string }>;
  /** Whether a program exists on PATH (to tell "engine installed but stopped" from "missing"). */
  onPath?: (program: string) => Promise<boolean>;
  family?: DistroFamily;
}

export async function inspectDependencies(
  ports: InspectPorts,
  opts: { resticBinary?: string; composeCommand?: string; repositoryLocation?: string } = {},
): Promise<DependencyStatus[]> {
  const sshNeeded = needsSsh(opts.repositoryLocation);
  return await Promise.all(
    dependencies(opts).map(async (dep): Promise<DependencyStatus> => {
      const base = {
        id: dep.id,
        name: dep.name,
        purpose: dep.purpose,
        required: dep.need === "required" || sshNeeded,
        needs: dep.needs,
        minVersion: dep.minVersion,
        package: ports.family ? dep.packages[ports.family] : undefined,
      };
      if (dep.id === "docker-engine") return { ...base, ...(await inspectEngine(ports)) };
      const failures: string[] = [];
      for (const probe of dep.probes) {
        let out: { code: number; stdout: string; stderr: string };
        try {
          out = await ports.runner.run(probe.program, probe.args, { timeoutMs: 30_000 });
        } catch (e) {
          failures.push(errorMessage(e));
          continue;
        }
        const version = probe.parse(`${out.stdout}\n${out.stderr}`);
        // `docker compose` on a client without the plugin runs docker but fails: not found.
        if (out.code !== 0 && version === undefined && probe.program === "docker") {
          failures.push(`'${probe.label}' is not available`);
          continue;
        }
        return { ...base, ...judge(probe, version) };
      }
      return { ...base, state: "missing", detail: failures.join("; ") || undefined };
    }),
  );
}

function judge(
  probe: VersionProbe,
  version: string | undefined,
): Pick<DependencyStatus, "state" | "version" | "found" | "detail" | "minVersion"> {
  const found = probe.label;
  const minVersion = probe.minVersion;
  if (version === undefined) {
    return { state: "ok", found, minVersion, detail: "version could not be read" };
  }
  if (minVersion && !atLeast(version, minVersion)) {
    return {
      state: "too-old",
      found,
      version,
      minVersion,
      detail: `${found} ${version} is older than ${minVersion}`,
    };
  }
  return { state: "ok", found, version, minVersion };
}

async function inspectEngine(
  ports: InspectPorts,
): Promise<Pick<DependencyStatus, "state" | "version" | "found" | "detail">> {
  let reason = "no engine was asked";
  let answered = false;
  if (ports.engineVersion) {
    try {
      const v = await ports.engineVersion();
      const version = v.ApiVersion;
      if (!atLeast(version, DOCKER_API_MIN)) {
        return {
          state: "too-old",
          version,
          found: `Docker ${v.Version}`,
          detail: `Engine API ${version} is older than ${DOCKER_API_MIN}`,
        };
      }
      return { state: "ok", version, found: `Docker ${v.Version}` };
    } catch (e) {
      reason = errorMessage(e);
      // Permission denied on the socket: an engine is there, this user just cannot reach it.
      answered = isStowageError(e, "engine.permission");
    }
  }
  const installed = answered || (ports.onPath ? await ports.onPath("dockerd") : false);
  if (installed) {
    return {
      state: "not-running",
      found: "dockerd",
      detail: `installed but not answering: ${reason}`,
    };
  }
  return { state: "missing", detail: reason };
}

// ---------------------------------------------------------------------------------------------
// Distros and install plans

export interface OsRelease {
  id: string;
  idLike: string[];
  prettyName: string;
}

/** Parses /etc/os-release (KEY=value lines, values optionally quoted). */
export function parseOsRelease(text: string): OsRelease {
  const kv: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^\s*([A-Z_]+)=(.*)$/);
    if (!m) continue;
    let v = m[2].trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) {
      v = v.slice(1, -1);
    }
    kv[m[1]] = v;
  }
  return {
    id: (kv.ID ?? "").toLowerCase(),
    idLike: (kv.ID_LIKE ?? "").toLowerCase().split(/\s+/).filter(Boolean),
    prettyName: kv.PRETTY_NAME ?? kv.NAME ?? "unknown system",
  };
}

export function distroFamily(os: OsRelease | undefined): DistroFamily {
  if (!os) return "unknown";
  const ids = [os.id, ...os.idLike];
  if (ids.some((i) => i === "debian" || i === "ubuntu")) return "debian";
  if (ids.some((i) => ["fedora", "rhel", "centos"].includes(i))) return "fedora";
  if (ids.includes("alpine")) return "alpine";
  if (ids.includes("arch")) return "arch";
  if (ids.some((i) => i === "suse" || i.startsWith("opensuse") || i === "sles")) return "suse";
  return "unknown";
}

export interface InstallPlan {
  family: DistroFamily;
  /** Packages to install for what is missing or too old. */
  packages: string[];
  /** The install command (argv), or undefined when the family is unknown / nothing to do. */
  command?: string[];
  /** Things stowage will not do by itself, each a sentence. */
  notes: string[];
}

const INSTALL_COMMANDS: Record<Exclude<DistroFamily, "unknown">, string[]> = {
  // Without recommends: Debian's docker-compose recommends docker.io, which would replace a
  // Docker Engine installed from docker.com.
  debian: ["apt-get", "install", "-y", "--no-install-recommends"],
  fedora: ["dnf", "install", "-y"],
  alpine: ["apk", "add"],
  arch: ["pacman", "-S", "--needed", "--noconfirm"],
  suse: ["zypper", "install", "-y"],
};

/** What to install for the required dependencies that are missing or too old. */
export function installPlan(statuses: DependencyStatus[], family: DistroFamily): InstallPlan {
  const packages: string[] = [];
  const notes: string[] = [];
  const deps = new Map(dependencies().map((d) => [d.id, d]));
  for (const s of statuses) {
    if (s.state === "ok") continue;
    if (!s.required) {
      notes.push(`${s.name} is not installed; it is only needed for ${deps.get(s.id)?.purpose}.`);
      continue;
    }
    if (s.id === "docker-engine" && s.state !== "missing") {
      // Never replace or upgrade an engine someone installed: only say what is wrong.
      notes.push(
        s.state === "not-running"
          ? "Docker Engine is installed but not answering: start it (systemctl start docker, or dockerd &)."
          : `Docker Engine is too old (${s.detail}); upgrade it yourself, stowage will not replace it.`,
      );
      continue;
    }
    const pkg = deps.get(s.id)?.packages[family];
    if (pkg) {
      if (!packages.includes(pkg)) packages.push(pkg);
    } else {
      notes.push(
        `Install ${s.name} (${deps.get(s.id)?.purpose}) with your system's package manager.`,
      );
    }
  }
  const command = family !== "unknown" && packages.length > 0
    ? [...INSTALL_COMMANDS[family], ...packages]
    : undefined;
  return { family, packages, command, notes };
}
