/**
 * A standalone container back from its saved `docker inspect`: the Engine create body (name,
 * image, command, entrypoint, environment, mounts, ports, restart policy, labels, init) plus the
 * extra networks to connect after creation (API 1.41 accepts one network at create time).
 * Redacted values are filled from the secrets given; the names still missing are returned.
 */
import type { EngineContainer, EngineEndpointSettings } from "../engine_types.ts";
import { REDACTED } from "../recipe.ts";

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
}

/** Engine-managed Config fields that must not be sent back as if the user had chosen them. */
const DROP_CONFIG = ["Hostname", "Domainname", "MacAddress"];

export function containerName(c: EngineContainer): string {
  return c.Name.replace(/^\//, "");
}

export function recreateContainer(
  c: EngineContainer,
  secrets: Record<string, string>,
  image?: string,
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

  const hostConfig: Record<string, unknown> = { ...c.HostConfig };
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
  return { name: containerName(c), body, connect, missing: [...missing].sort() };
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
