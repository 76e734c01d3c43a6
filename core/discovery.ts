/**
 * Discovery: Engine data in, units out. A unit is a compose project (containers sharing the
 * `com.docker.compose.project` label) or a standalone container. Pure: everything it reads is in
 * EngineState, which the adapter gathers in one pass (docs/discovery.md explains the rules).
 */
import type { EngineContainer, EngineNetwork, EngineState, EngineVolume } from "./engine_types.ts";
import type {
  BindInfo,
  ContainerInfo,
  CoverageGap,
  ImageRef,
  MountRef,
  NetworkInfo,
  ProjectFile,
  ProjectReference,
  Unit,
  VolumeInfo,
} from "./model.ts";
import {
  type ComposeFileInfo,
  mergeComposeFiles,
  parseComposeFile,
  resolveReferences,
  serviceDependencies,
} from "./compose_file.ts";
import { COMPOSE_LABELS, projectFilePaths } from "./compose_labels.ts";
import { isSafeBindPath, isWithin, normalizePath } from "./safe_paths.ts";
import { posix } from "node:path";
import { classifyVolume } from "./volume_kind.ts";

export interface DiscoveryOptions {
  /** Config `backup.unsafe_paths`: more host paths never backed up as bind mounts. */
  unsafePaths?: string[];
}

/** Networks every container can be on that are not the unit's to save. */
export const BUILTIN_NETWORKS = new Set(["bridge", "host", "none"]);

/** Where compose file secrets are mounted in containers. */
const SECRETS_DIR = "/run/secrets";

const nameOf = (c: EngineContainer) => c.Name.replace(/^\//, "");
const labelsOf = (c: EngineContainer): Record<string, string> => c.Config.Labels ?? {};
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The unit a container belongs to, or undefined for compose one-off containers (`run`). */
export function unitOfContainer(
  c: EngineContainer,
): { name: string; kind: "stack" | "standalone" } | undefined {
  const labels = labelsOf(c);
  const project = labels[COMPOSE_LABELS.project];
  if (project) {
    if ((labels[COMPOSE_LABELS.oneoff] ?? "").toLowerCase() === "true") return undefined;
    return { name: project, kind: "stack" };
  }
  return { name: nameOf(c), kind: "standalone" };
}

interface Group {
  name: string;
  kind: "stack" | "standalone";
  containers: EngineContainer[];
}

export function discoverUnits(state: EngineState, opts: DiscoveryOptions = {}): Unit[] {
  const groups = new Map<string, Group>();
  for (const c of state.containers) {
    const u = unitOfContainer(c);
    if (!u) continue;
    const key = `${u.kind}\0${u.name}`;
    let g = groups.get(key);
    if (!g) groups.set(key, g = { ...u, containers: [] });
    g.containers.push(c);
  }
  for (const g of groups.values()) g.containers.sort((a, b) => byName(nameOf(a), nameOf(b)));

  const ctx = new Context(state, [...groups.values()], opts);
  return [...groups.values()]
    .map((g) => ctx.unit(g))
    .sort((a, b) => byName(a.name, b.name) || byName(a.kind, b.kind));
}

/** Lookups shared by every unit of one discovery pass. */
class Context {
  readonly containerById = new Map<string, EngineContainer>();
  readonly containerByName = new Map<string, EngineContainer>();
  readonly volumeByName = new Map<string, EngineVolume>();
  readonly networkByName = new Map<string, EngineNetwork>();
  readonly networkById = new Map<string, EngineNetwork>();
  readonly imageById: Map<string, { repoDigests: string[]; size?: number }>;
  /** Volume name -> the unit that backs it up. */
  readonly volumeOwner = new Map<string, { owner: string; reason: string }>();
  readonly unitOf = new Map<string, string>();

  constructor(readonly state: EngineState, groups: Group[], readonly opts: DiscoveryOptions) {
    for (const c of state.containers) {
      this.containerById.set(c.Id, c);
      this.containerByName.set(nameOf(c), c);
    }
    for (const v of state.volumes) this.volumeByName.set(v.Name, v);
    for (const n of state.networks) {
      this.networkByName.set(n.Name, n);
      this.networkById.set(n.Id, n);
    }
    this.imageById = new Map(
      state.images.map((i) => [i.Id, {
        repoDigests: [...(i.RepoDigests ?? [])].sort(),
        ...(typeof i.Size === "number" ? { size: i.Size } : {}),
      }]),
    );
    for (const g of groups) for (const c of g.containers) this.unitOf.set(c.Id, g.name);
    this.#assignVolumeOwners(groups);
  }

  /**
   * Every named volume is backed up by exactly one unit. The compose project named by its label
   * owns it when that project is a unit here; otherwise the only unit using it; otherwise (shared,
   * unlabelled) the first user by name, so the data is saved once rather than never.
   */
  #assignVolumeOwners(groups: Group[]) {
    const users = new Map<string, Set<string>>();
    for (const g of groups) {
      for (const c of g.containers) {
        for (const m of c.Mounts ?? []) {
          if (m.Type !== "volume" || !m.Name) continue;
          if (!users.has(m.Name)) users.set(m.Name, new Set());
          users.get(m.Name)!.add(g.name);
        }
      }
    }
    const unitNames = new Set(groups.map((g) => g.name));
    for (const [vol, set] of users) {
      const sorted = [...set].sort(byName);
      const project = this.volumeByName.get(vol)?.Labels?.[COMPOSE_LABELS.project];
      if (project && unitNames.has(project)) {
        this.volumeOwner.set(vol, {
          owner: project,
          reason: `it belongs to compose project '${project}'`,
        });
      } else if (sorted.length === 1) {
        this.volumeOwner.set(vol, { owner: sorted[0], reason: "" });
      } else {
        const why = project
          ? `its project '${project}' has no containers here and it is shared by units ${
            sorted.join(", ")
          }`
          : `it is shared by units ${sorted.join(", ")}`;
        this.volumeOwner.set(vol, { owner: sorted[0], reason: why });
      }
    }
  }

  unit(g: Group): Unit {
    const notes: string[] = [];
    const gaps: CoverageGap[] = [];
    const names = g.containers.map(nameOf);

    // Files and the compose file's view of services.
    const { workingDir, files, parsed } = this.#projectFiles(g, gaps);
    const compose = mergeComposeFiles(parsed);
    notes.push(...compose.notes);
    const haveCompose = parsed.length > 0 && parsed.some((p) => p.notes.length === 0);

    const containers = g.containers.map((c) => this.containerInfo(c, g));
    const dependsOn = g.kind === "stack" ? this.dependencies(g, containers, compose) : {};
    if (g.kind === "stack" && !haveCompose) {
      notes.push(
        "no readable compose file: service dependencies come from container links and labels only",
      );
    }

    const secretPaths = this.#secretPaths(compose, workingDir, gaps);
    const images = this.images(g);
    const { volumes, binds } = this.#mounts(g, gaps);
    this.#checkBinds(binds.values(), secretPaths, gaps);
    this.#volumeGaps(volumes, gaps);
    const references = g.kind === "stack"
      ? this.references(compose, workingDir, [...binds.values()], gaps)
      : [];
    volumes.sort((a, b) => byName(a.name, b.name));
    const bindList = [...binds.values()].sort((a, b) => byName(a.source, b.source));
    for (const b of bindList) b.usedBy.sort(byName);

    return {
      name: g.name,
      kind: g.kind,
      ...(workingDir ? { workingDir } : {}),
      files,
      containers,
      dependsOn,
      images,
      volumes,
      binds: bindList,
      networks: this.networks(g, names),
      gaps: dedupeGaps(gaps),
      ...(references.length ? { references } : {}),
      ...(notes.length ? { notes } : {}),
    };
  }

  /**
   * A stack's project directory, compose and .env files (from the containers' labels) and the
   * compose files parsed; a compose file that is named but absent is a gap.
   */
  #projectFiles(
    g: Group,
    gaps: CoverageGap[],
  ): { workingDir?: string; files: ProjectFile[]; parsed: ComposeFileInfo[] } {
    let workingDir: string | undefined;
    const composePaths: string[] = [];
    const envPaths: string[] = [];
    if (g.kind === "stack") {
      for (const c of g.containers) {
        const p = projectFilePaths(labelsOf(c));
        workingDir ??= p.workingDir;
        for (const f of p.compose) if (!composePaths.includes(f)) composePaths.push(f);
        for (const f of p.env) if (!envPaths.includes(f)) envPaths.push(f);
      }
    }
    const files: ProjectFile[] = [];
    const parsed: ComposeFileInfo[] = [];
    for (const path of composePaths) {
      const content = this.state.files[path];
      const exists = typeof content === "string";
      files.push({ path, kind: "compose", exists });
      if (exists) parsed.push(parseComposeFile(content, path));
      else {
        gaps.push({
          kind: "compose-file-missing",
          item: path,
          reason:
            "named by the containers' labels but not found on this host; the recipe will not include it",
        });
      }
    }
    // A .env file is optional in compose, so an absent one is not a gap.
    for (const path of envPaths) {
      if (typeof this.state.files[path] === "string") {
        files.push({ path, kind: "env", exists: true });
      }
    }
    if (g.kind === "stack" && composePaths.length === 0) {
      gaps.push({
        kind: "compose-file-missing",
        item: g.name,
        reason:
          `the containers carry no ${COMPOSE_LABELS.configFiles} label, so no compose file is known`,
      });
    }
    return { workingDir, files, parsed };
  }

  /** Compose file secrets: each is a gap; the host files they are read from are returned. */
  #secretPaths(
    compose: ComposeFileInfo,
    workingDir: string | undefined,
    gaps: CoverageGap[],
  ): Set<string> {
    const secretPaths = new Set<string>();
    for (const s of Object.values(compose.secrets)) {
      if (s.file !== undefined) {
        const path = posix.isAbsolute(s.file)
          ? posix.normalize(s.file)
          : posix.join(workingDir ?? "/", s.file);
        secretPaths.add(path);
        gaps.push({
          kind: "secret",
          item: path,
          reason:
            `compose secret '${s.name}' is read from this file; secrets are never backed up, keep a copy elsewhere`,
        });
      } else if (s.external) {
        gaps.push({
          kind: "secret",
          item: s.name,
          reason: `compose secret '${s.name}' is external; it is not backed up`,
        });
      } else if (s.environment !== undefined) {
        gaps.push({
          kind: "secret",
          item: s.name,
          reason:
            `compose secret '${s.name}' comes from the environment variable ${s.environment}; it is not backed up`,
        });
      }
    }
    return secretPaths;
  }

  /** The unit's named volumes and bind mounts (by normalised source); tmpfs mounts are gaps. */
  #mounts(
    g: Group,
    gaps: CoverageGap[],
  ): { volumes: VolumeInfo[]; binds: Map<string, BindInfo> } {
    const volumes: VolumeInfo[] = [];
    const binds = new Map<string, BindInfo>();
    for (const c of g.containers) {
      const cname = nameOf(c);
      for (const m of c.Mounts ?? []) {
        if (m.Type === "volume" && m.Name) {
          let v = volumes.find((x) => x.name === m.Name);
          if (!v) volumes.push(v = this.volumeInfo(m.Name, m.Driver, m.Source, g.name));
          if (!v.usedBy.includes(cname)) v.usedBy.push(cname);
        } else if (m.Type === "bind") {
          const source = normalizePath(m.Source) ?? m.Source;
          let b = binds.get(source);
          if (!b) binds.set(source, b = { source, usedBy: [], destinations: [], safe: true });
          if (!b.usedBy.includes(cname)) b.usedBy.push(cname);
          if (!b.destinations.includes(m.Destination)) b.destinations.push(m.Destination);
        } else if (m.Type === "tmpfs") {
          gaps.push(tmpfsGap(cname, m.Destination));
        }
      }
      for (
        const dest of Object.keys(
          (c.HostConfig.Tmpfs as Record<string, string> | null | undefined) ?? {},
        )
      ) {
        if (!(c.Mounts ?? []).some((m) => m.Type === "tmpfs" && m.Destination === dest)) {
          gaps.push(tmpfsGap(cname, dest));
        }
      }
    }
    return { volumes, binds };
  }

  /**
   * Marks unsafe the binds that hold secrets (a compose secret's file, or mounted under
   * /run/secrets) or lie outside the safe roots, each with its gap.
   */
  #checkBinds(binds: Iterable<BindInfo>, secretPaths: Set<string>, gaps: CoverageGap[]) {
    for (const b of binds) {
      const secretMount = b.destinations.some((d) =>
        d === SECRETS_DIR || d.startsWith(`${SECRETS_DIR}/`)
      );
      if (secretPaths.has(b.source) || secretMount) {
        b.safe = false;
        if (!secretPaths.has(b.source)) {
          gaps.push({
            kind: "secret",
            item: b.source,
            reason: `mounted as a secret at ${
              b.destinations.join(", ")
            }; secrets are never backed up, keep a copy elsewhere`,
          });
        }
        continue;
      }
      const verdict = isSafeBindPath(b.source, this.opts.unsafePaths ?? []);
      if (!verdict.safe) {
        b.safe = false;
        gaps.push({
          kind: "bind-unsafe",
          item: b.source,
          reason: `outside the safe roots: ${verdict.reason}`,
        });
      }
    }
  }

  /** A volume's kind gaps, or for an external one the unit that backs it up. */
  #volumeGaps(volumes: VolumeInfo[], gaps: CoverageGap[]) {
    for (const v of volumes) {
      v.usedBy.sort(byName);
      if (!v.external) gaps.push(...volumeKindGaps(v));
      if (v.external) {
        const o = this.volumeOwner.get(v.name)!;
        gaps.push({
          kind: "external-volume",
          item: v.name,
          reason: `backed up with unit '${o.owner}': ${o.reason}`,
        });
      }
    }
  }

  /**
   * The files compose needs besides the compose files, resolved against the project directory.
   * What lies in a bind mount is data already; what cannot be saved is a gap named here, so
   * dry-run shows it before any backup runs.
   */
  references(
    compose: ComposeFileInfo,
    workingDir: string | undefined,
    binds: BindInfo[],
    gaps: CoverageGap[],
  ): ProjectReference[] {
    const out: ProjectReference[] = [];
    const what = (r: { kind: string; service?: string; path: string }) =>
      `${r.kind.replace("_", "-")} '${r.path}'${r.service ? ` of service '${r.service}'` : ""}`;
    for (const r of resolveReferences(compose.references ?? [], workingDir)) {
      if (r.remote) {
        gaps.push({
          kind: "reference-unsaved",
          item: r.path,
          reason: `${
            what(r)
          } is a remote build context; the image built from it is saved, the context is not`,
        });
        continue;
      }
      if (!r.hostPath) {
        gaps.push({
          kind: "reference-unsaved",
          item: r.path,
          reason: `${what(r)} is not an absolute path stowage can resolve; it is not saved`,
        });
        continue;
      }
      const host = r.hostPath;
      if (binds.some((b) => isWithin(host, b.source))) continue; // saved as bind data
      const verdict = isSafeBindPath(host, this.opts.unsafePaths ?? []);
      const dfVerdict = r.dockerfilePath
        ? isSafeBindPath(r.dockerfilePath, this.opts.unsafePaths ?? [])
        : { safe: true };
      if (!verdict.safe || !dfVerdict.safe) {
        gaps.push({
          kind: "reference-unsaved",
          item: verdict.safe ? r.dockerfilePath! : host,
          reason: `${what(r)} is outside the safe roots: ${
            verdict.reason ?? dfVerdict.reason
          }; it is not saved, keep a copy elsewhere`,
        });
        continue;
      }
      out.push({
        kind: r.kind,
        ...(r.service ? { service: r.service } : {}),
        written: r.path,
        path: host,
        ...(r.dockerfilePath ? { dockerfile: r.dockerfilePath } : {}),
        ...(r.optional ? { optional: true } : {}),
      });
    }
    return out;
  }

  containerInfo(c: EngineContainer, g: Group): ContainerInfo {
    const labels = { ...labelsOf(c) };
    const health = c.State.Health?.Status;
    const test = c.Config.Healthcheck?.Test ?? [];
    const networks: ContainerInfo["networks"] = {};
    for (const [net, ep] of Object.entries(c.NetworkSettings?.Networks ?? {})) {
      const ipv4 = ep.IPAMConfig?.IPv4Address || undefined;
      const ipv6 = ep.IPAMConfig?.IPv6Address || undefined;
      // Compose adds the container's short id as an alias; it changes on every re-create.
      const aliases = (ep.Aliases ?? []).filter((a) => !c.Id.startsWith(a)).sort(byName);
      networks[net] = { ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}), aliases };
    }
    const mounts: MountRef[] = (c.Mounts ?? []).map((m) => ({
      type: (["volume", "bind", "tmpfs", "npipe"].includes(m.Type) ? m.Type : "bind") as MountRef[
        "type"
      ],
      source: m.Type === "volume" ? (m.Name ?? m.Source) : m.Source,
      destination: m.Destination,
      readOnly: !m.RW,
    }));
    const service = g.kind === "stack" ? labels[COMPOSE_LABELS.service] || undefined : undefined;
    return {
      id: c.Id,
      name: nameOf(c),
      ...(service ? { service } : {}),
      image: c.Config.Image,
      imageId: c.Image,
      state: c.State.Status,
      running: c.State.Running,
      ...(health ? { health } : {}),
      hasHealthcheck: (test.length > 0 && test[0] !== "NONE") || health !== undefined,
      labels,
      mounts,
      networks,
      networkMode: this.networkMode(c, g),
    };
  }

  /** `container:<id>` becomes `service:<svc>` inside the unit, `container:<name>` outside it. */
  networkMode(c: EngineContainer, g: Group): string {
    const mode = c.HostConfig.NetworkMode ?? "default";
    if (!mode.startsWith("container:")) return mode;
    const target = this.findContainer(mode.slice("container:".length));
    if (!target) return mode;
    const svc = labelsOf(target)[COMPOSE_LABELS.service];
    if (g.kind === "stack" && svc && this.unitOf.get(target.Id) === g.name) return `service:${svc}`;
    return `container:${nameOf(target)}`;
  }

  findContainer(idOrName: string): EngineContainer | undefined {
    const key = idOrName.replace(/^\//, "");
    const exact = this.containerById.get(key) ?? this.containerByName.get(key);
    if (exact) return exact;
    if (/^[0-9a-f]{12,}$/.test(key)) {
      for (const [id, c] of this.containerById) if (id.startsWith(key)) return c;
    }
    return undefined;
  }

  /**
   * service -> services it needs first: the compose file's depends_on, links, volumes_from and
   * network_mode: service:X, united with what the containers themselves show (HostConfig.Links,
   * network_mode container:X, Compose v2's depends_on label), so a missing compose file still
   * yields the dependencies the engine knows about.
   */
  dependencies(
    g: Group,
    containers: ContainerInfo[],
    compose: ComposeFileInfo,
  ): Record<string, string[]> {
    const deps: Record<string, Set<string>> = {};
    const add = (svc: string, dep: string | undefined) => {
      if (dep && dep !== svc) deps[svc].add(dep);
    };
    const serviceOf = (c: EngineContainer | undefined) =>
      c && this.unitOf.get(c.Id) === g.name ? labelsOf(c)[COMPOSE_LABELS.service] : undefined;
    for (const info of containers) if (info.service) deps[info.service] ??= new Set();
    for (const c of g.containers) {
      const svc = labelsOf(c)[COMPOSE_LABELS.service];
      if (!svc) continue;
      const fromFile = compose.services[svc];
      if (fromFile) { for (const d of serviceDependencies(fromFile)) add(svc, d); }
      for (const link of c.HostConfig.Links ?? []) {
        add(svc, serviceOf(this.findContainer(link.split(":")[0])));
      }
      const mode = c.HostConfig.NetworkMode ?? "";
      if (mode.startsWith("container:")) {
        add(svc, serviceOf(this.findContainer(mode.slice("container:".length))));
      }
      const label = labelsOf(c)[COMPOSE_LABELS.dependsOn];
      if (label) { for (const part of label.split(",")) add(svc, part.split(":")[0].trim()); }
    }
    return Object.fromEntries(
      Object.keys(deps).sort(byName).map((svc) => [svc, [...deps[svc]].sort(byName)]),
    );
  }

  images(g: Group): ImageRef[] {
    const seen = new Map<string, ImageRef>();
    for (const c of g.containers) {
      const key = `${c.Config.Image}\0${c.Image}`;
      if (seen.has(key)) continue;
      seen.set(key, {
        reference: c.Config.Image,
        id: c.Image,
        repoDigests: this.imageById.get(c.Image)?.repoDigests ?? [],
        ...(this.imageById.get(c.Image)?.size !== undefined
          ? { size: this.imageById.get(c.Image)!.size }
          : {}),
      });
    }
    return [...seen.values()].sort((a, b) =>
      byName(a.reference, b.reference) || byName(a.id, b.id)
    );
  }

  volumeInfo(
    name: string,
    mountDriver: string | undefined,
    mountSource: string,
    unit: string,
  ): VolumeInfo {
    const v = this.volumeByName.get(name);
    const labels = { ...(v?.Labels ?? {}) };
    const composeName = labels[COMPOSE_LABELS.volume];
    const owner = this.volumeOwner.get(name)?.owner ?? unit;
    const driver = v?.Driver ?? mountDriver ?? "local";
    // The mount's Source is the folder holding the data (`.../_data`), like the volume's Mountpoint.
    const mountpoint = v?.Mountpoint ?? mountSource;
    const options = { ...(v?.Options ?? {}) };
    return {
      name,
      driver,
      mountpoint,
      labels,
      options,
      usedBy: [],
      ...(composeName ? { composeName } : {}),
      external: owner !== unit,
      location: classifyVolume({ driver, options, mountpoint }, this.opts.unsafePaths ?? []),
    };
  }

  networks(g: Group, names: string[]): NetworkInfo[] {
    const out = new Map<string, NetworkInfo>();
    for (const c of g.containers) {
      const mode = c.HostConfig.NetworkMode ?? "";
      if (mode === "host" || mode === "none" || mode.startsWith("container:")) continue;
      for (const [netName, ep] of Object.entries(c.NetworkSettings?.Networks ?? {})) {
        if (BUILTIN_NETWORKS.has(netName)) continue;
        const n = this.networkByName.get(netName) ??
          (ep.NetworkID ? this.networkById.get(ep.NetworkID) : undefined);
        let info = out.get(netName);
        if (!info) out.set(netName, info = networkInfo(netName, n, ep.NetworkID));
        const live = n?.Containers?.[c.Id];
        const ipv4 = stripPrefix(live?.IPv4Address) ?? (ep.IPAddress || undefined);
        const ipv6 = stripPrefix(live?.IPv6Address) ?? (ep.GlobalIPv6Address || undefined);
        info.containers.push({
          name: nameOf(c),
          ...(ipv4 ? { ipv4 } : {}),
          ...(ipv6 ? { ipv6 } : {}),
        });
      }
    }
    for (const info of out.values()) {
      info.containers = info.containers.filter((x) => names.includes(x.name)).sort((a, b) =>
        byName(a.name, b.name)
      );
    }
    return [...out.values()].sort((a, b) => byName(a.name, b.name));
  }
}

function networkInfo(
  name: string,
  n: EngineNetwork | undefined,
  id: string | undefined,
): NetworkInfo {
  return {
    id: n?.Id ?? id ?? "",
    name,
    driver: n?.Driver ?? "",
    scope: n?.Scope ?? "",
    internal: n?.Internal ?? false,
    attachable: n?.Attachable ?? false,
    enableIPv6: n?.EnableIPv6 ?? false,
    ipam: {
      driver: n?.IPAM?.Driver ?? "default",
      config: (n?.IPAM?.Config ?? []).map((c) => ({
        ...(c.Subnet ? { subnet: c.Subnet } : {}),
        ...(c.Gateway ? { gateway: c.Gateway } : {}),
        ...(c.IPRange ? { ipRange: c.IPRange } : {}),
        ...(c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length
          ? { auxAddresses: { ...c.AuxiliaryAddresses } }
          : {}),
      })),
      options: { ...(n?.IPAM?.Options ?? {}) },
    },
    options: { ...(n?.Options ?? {}) },
    labels: { ...(n?.Labels ?? {}) },
    containers: [],
  };
}

/** "10.0.0.5/24" -> "10.0.0.5"; empty -> undefined. */
function stripPrefix(addr: string | undefined): string | undefined {
  if (!addr) return undefined;
  return addr.split("/")[0] || undefined;
}

function tmpfsGap(container: string, destination: string): CoverageGap {
  return {
    kind: "tmpfs",
    item: `${container}:${destination}`,
    reason: "a tmpfs mount lives in memory; its contents are not backed up",
  };
}

/** A volume whose kind leaves nothing to save, or whose data folder may not be saved. */
function volumeKindGaps(v: VolumeInfo): CoverageGap[] {
  const l = v.location;
  if (!l) return [];
  if (l.kind === "tmpfs") {
    return [{
      kind: "tmpfs",
      item: v.name,
      reason: "a tmpfs-type volume (driver option type: tmpfs) lives in memory; nothing to save",
    }];
  }
  if (l.kind === "bind" && l.unsafe) {
    return [{
      kind: "bind-unsafe",
      item: l.path ?? v.options.device ?? v.name,
      reason:
        `the data folder of bind-type volume '${v.name}' is outside the safe roots: ${l.unsafe}`,
    }];
  }
  return [];
}

function dedupeGaps(gaps: CoverageGap[]): CoverageGap[] {
  const seen = new Set<string>();
  return gaps
    .filter((g) => {
      const k = `${g.kind}\0${g.item}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => byName(a.kind, b.kind) || byName(a.item, b.item));
}
