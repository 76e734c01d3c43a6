/**
 * A standalone container back from its saved `docker inspect`: the Engine create body (name,
 * image, command, entrypoint, environment, mounts, ports, restart policy, labels, init) plus the
 * extra networks to connect after creation (API 1.41 accepts one network at create time).
 * Redacted values are filled from the secrets given; the names still missing are returned.
 *
 * The saved inspect data comes from the repository, so HostConfig is rebuilt from an allow-list
 * (HOST_CONFIG_FIELDS): fields stowage does not understand are dropped and reported, and the ones
 * that give a container power over the host (PRIVILEGED_FIELDS, host binds outside the safe roots)
 * are kept only with `allowPrivileged` and are always reported (docs/restore.md).
 */
import type { EngineContainer, EngineEndpointSettings } from "../engine_types.ts";
import type { ContainerInfo } from "../model.ts";
import { COMPOSE_LABELS } from "../compose_labels.ts";
import { REDACTED } from "../recipe.ts";
import { isSafeBindPath } from "../safe_paths.ts";

export interface EndpointConfig {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string };
  Aliases?: string[];
}

export interface ContainerRecreation {
  name: string;
  body: Record<string, unknown>;
  /** Networks to connect after creation, with fixed addresses and aliases. */
  connect: { network: string; endpoint: EndpointConfig }[];
  /** Names of redacted environment variables / labels that have no value. */
  missing: string[];
  /** Settings that give the container power over the host, e.g. `Privileged`, `device /dev/sda`. */
  privileged: string[];
  /** Saved HostConfig fields stowage does not restore (set, but not on the allow-list). */
  dropped: string[];
}

/** HostConfig fields restored as saved: resources, ports, restart, logging, namespaces of its own. */
const HOST_CONFIG_FIELDS = new Set([
  "NetworkMode",
  "PortBindings",
  "PublishAllPorts",
  "RestartPolicy",
  "AutoRemove",
  "Links",
  "Init",
  "LogConfig",
  "ExtraHosts",
  "Dns",
  "DnsOptions",
  "DnsSearch",
  "Tmpfs",
  "ShmSize",
  "ReadonlyRootfs",
  "CapDrop",
  "GroupAdd",
  "OomScoreAdj",
  "OomKillDisable",
  "Ulimits",
  "Memory",
  "MemoryReservation",
  "MemorySwap",
  "MemorySwappiness",
  "NanoCpus",
  "CpuShares",
  "CpuPeriod",
  "CpuQuota",
  "CpusetCpus",
  "CpusetMems",
  "BlkioWeight",
  "PidsLimit",
  "StorageOpt",
  "ConsoleSize",
  "Isolation",
  "VolumeDriver",
  "VolumesFrom",
  "Sysctls",
  "IpcMode",
  "PidMode",
  "UTSMode",
  "UsernsMode",
  "CgroupnsMode",
  "Cgroup",
  "SecurityOpt",
  "Privileged",
  "CapAdd",
  "Capabilities",
  "Devices",
  "DeviceCgroupRules",
  "DeviceRequests",
  "CgroupParent",
  "Runtime",
  "Binds",
  "Mounts",
]);

/** Fields the Engine fills in by itself: left out without a word (its defaults come back). */
const ENGINE_DEFAULTS = new Set(["MaskedPaths", "ReadonlyPaths", "ContainerIDFile"]);

/** What in a saved HostConfig reaches past the container: each entry says why, for the plan. */
function privilegedSettings(h: Record<string, unknown>, unsafePaths: readonly string[]): string[] {
  const out: string[] = [];
  const list = (k: string) => (Array.isArray(h[k]) ? (h[k] as unknown[]) : []);
  if (h.Privileged === true) out.push("Privileged");
  for (const c of list("CapAdd")) out.push(`capability ${String(c)}`);
  if (list("Capabilities").length) out.push("Capabilities");
  for (const d of list("Devices")) {
    out.push(`device ${String((d as { PathOnHost?: unknown })?.PathOnHost ?? "?")}`);
  }
  if (list("DeviceCgroupRules").length) out.push("DeviceCgroupRules");
  if (list("DeviceRequests").length) out.push("DeviceRequests (GPUs)");
  // CgroupnsMode is `host` by default on cgroup v1 and not a privilege of its own.
  for (const k of ["PidMode", "IpcMode", "UTSMode", "UsernsMode"]) {
    if (h[k] === "host") out.push(`${k} host`);
  }
  for (const o of list("SecurityOpt")) {
    if (!String(o).startsWith("no-new-privileges")) out.push(`security option ${String(o)}`);
  }
  if (typeof h.CgroupParent === "string" && h.CgroupParent) out.push("CgroupParent");
  if (typeof h.Runtime === "string" && h.Runtime && h.Runtime !== "runc") {
    out.push(`runtime ${h.Runtime}`);
  }
  const hostPath = (src: string) => {
    if (!src.startsWith("/")) return; // a named volume
    const v = isSafeBindPath(src, unsafePaths);
    if (!v.safe) out.push(`host bind ${src} (${v.reason})`);
  };
  for (const b of list("Binds")) hostPath(String(b).split(":")[0]);
  for (const m of list("Mounts")) {
    const mount = m as {
      Type?: unknown;
      Source?: unknown;
      VolumeOptions?: { DriverConfig?: { Options?: Record<string, unknown> } };
    };
    if (mount?.Type === "bind" && typeof mount.Source === "string") hostPath(mount.Source);
    // A volume mount may create a local volume bound onto any host folder.
    const device = mount?.VolumeOptions?.DriverConfig?.Options?.device;
    if (typeof device === "string") hostPath(device.startsWith("/") ? device : `/${device}`);
  }
  // Another container's mounts come along, whatever they bind.
  for (const v of list("VolumesFrom")) out.push(`volumes from ${String(v)}`);
  return out;
}

/** The fields removed from the body when privileged settings are not allowed. */
const PRIVILEGED_FIELDS = [
  "Privileged",
  "CapAdd",
  "Capabilities",
  "Devices",
  "DeviceCgroupRules",
  "DeviceRequests",
  "PidMode",
  "IpcMode",
  "UTSMode",
  "UsernsMode",
  "SecurityOpt",
  "CgroupParent",
  "Runtime",
  "VolumesFrom",
  "Binds",
  "Mounts",
];

/** Engine-managed Config fields that must not be sent back as if the user had chosen them. */
const DROP_CONFIG = ["Hostname", "Domainname", "MacAddress"];

export function containerName(c: EngineContainer): string {
  return c.Name.replace(/^\//, "");
}

/**
 * A container as the model knows it, from the Engine's inspect answer alone: enough for ordering
 * and hooks (name, service, image, state, labels), without discovery's mounts and networks.
 */
export function briefContainer(c: EngineContainer): ContainerInfo {
  const service = c.Config.Labels?.[COMPOSE_LABELS.service];
  return {
    id: c.Id,
    name: containerName(c),
    ...(service ? { service } : {}),
    image: c.Config.Image,
    imageId: c.Image,
    state: c.State.Status,
    running: c.State.Running,
    hasHealthcheck: false,
    labels: c.Config.Labels ?? {},
    mounts: [],
    networks: {},
    networkMode: c.HostConfig.NetworkMode ?? "",
  };
}

export function recreateContainer(
  c: EngineContainer,
  secrets: Record<string, string>,
  image?: string,
  opts: { allowPrivileged?: boolean; unsafePaths?: readonly string[] } = {},
): ContainerRecreation {
  const missing = new Set<string>();
  const config: Record<string, unknown> = { ...c.Config };
  for (const k of DROP_CONFIG) delete config[k];
  // A hostname the user chose is kept; the engine's default (the short id) is not.
  if (c.Config.Hostname && !c.Id.startsWith(c.Config.Hostname)) config.Hostname = c.Config.Hostname;
  if (c.Config.Domainname) config.Domainname = c.Config.Domainname;
  if (image) config.Image = image;
  config.Env = (c.Config.Env ?? []).map((kv) => {
    const eq = kv.indexOf("=");
    const name = eq < 0 ? kv : kv.slice(0, eq);
    if (eq < 0 || kv.slice(eq + 1) !== REDACTED) return kv;
    if (secrets[name] === undefined) {
      missing.add(name);
      return kv;
    }
    return `${name}=${secrets[name]}`;
  });
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.Config.Labels ?? {})) {
    if (v !== REDACTED) labels[k] = v;
    else if (secrets[k] !== undefined) labels[k] = secrets[k];
    else {
      missing.add(k);
      labels[k] = v;
    }
  }
  config.Labels = labels;

  const saved = c.HostConfig as Record<string, unknown>;
  const privileged = privilegedSettings(saved, opts.unsafePaths ?? []);
  const hostConfig: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(saved)) {
    if (!HOST_CONFIG_FIELDS.has(k)) {
      if (!isEmpty(v) && !ENGINE_DEFAULTS.has(k)) dropped.push(k);
      continue;
    }
    hostConfig[k] = v;
  }
  if (privileged.length > 0 && !opts.allowPrivileged) {
    // Never sent without the flag; the plan refuses before this body is used.
    for (const k of PRIVILEGED_FIELDS) delete hostConfig[k];
  }
  const networks = Object.entries(c.NetworkSettings.Networks ?? {});
  const mode = c.HostConfig.NetworkMode ?? "default";
  const primaryName = mode === "default" ? "bridge" : mode;
  const isShared = mode.startsWith("container:") || mode === "host" || mode === "none";
  const primary = networks.find(([n]) => n === primaryName) ?? (isShared ? undefined : networks[0]);
  const body: Record<string, unknown> = { ...config, HostConfig: hostConfig };
  if (primary && !isShared) {
    body.NetworkingConfig = { EndpointsConfig: { [primary[0]]: endpoint(primary[1], c) } };
    if (mode === "default" && primary[0] !== "bridge") hostConfig.NetworkMode = primary[0];
  }
  const connect = isShared
    ? []
    : networks.filter(([n]) => n !== primary?.[0]).map(([network, e]) => ({
      network,
      endpoint: endpoint(e, c),
    }));
  return {
    name: containerName(c),
    body,
    connect,
    missing: [...missing].sort(),
    // Both are printed in the plan, and both are the repository's text.
    privileged: privileged.map(printable),
    dropped: dropped.sort().map(printable),
  };
}

function printable(s: string): string {
  // deno-lint-ignore no-control-regex
  const t = s.replaceAll(/[\u0000-\u001f\u007f]/g, "?");
  return t.length > 120 ? `${t.slice(0, 120)}...` : t;
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === "" || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === "object" && Object.keys(v as object).length === 0;
}

/** Fixed addresses and user aliases; the engine adds the short-id alias by itself. */
function endpoint(e: EngineEndpointSettings, c: EngineContainer): EndpointConfig {
  const out: EndpointConfig = {};
  const ipam = e.IPAMConfig ?? undefined;
  if (ipam && (ipam.IPv4Address || ipam.IPv6Address)) {
    out.IPAMConfig = {};
    if (ipam.IPv4Address) out.IPAMConfig.IPv4Address = ipam.IPv4Address;
    if (ipam.IPv6Address) out.IPAMConfig.IPv6Address = ipam.IPv6Address;
  }
  const aliases = (e.Aliases ?? []).filter((a) => !c.Id.startsWith(a) && a !== containerName(c));
  if (aliases.length > 0) out.Aliases = aliases;
  return out;
}
