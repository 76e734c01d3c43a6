/** Networks as saved (NetworkInfo) against networks as they are (Engine JSON): spec and differences. */
import type { EngineNetwork } from "../engine_types.ts";
import type { NetworkInfo } from "../model.ts";
import type { NetworkSpec } from "../ports.ts";

export function networkSpec(n: NetworkInfo): NetworkSpec {
  return {
    Name: n.name,
    Driver: n.driver,
    Internal: n.internal,
    Attachable: n.attachable,
    EnableIPv6: n.enableIPv6,
    IPAM: {
      Driver: n.ipam.driver || "default",
      Config: n.ipam.config.map((c) => {
        const out: NonNullable<EngineNetwork["IPAM"]["Config"]>[number] = {};
        if (c.subnet) out.Subnet = c.subnet;
        if (c.gateway) out.Gateway = c.gateway;
        if (c.ipRange) out.IPRange = c.ipRange;
        if (c.auxAddresses && Object.keys(c.auxAddresses).length) {
          out.AuxiliaryAddresses = c.auxAddresses;
        }
        return out;
      }),
      Options: n.ipam.options ?? {},
    },
    Options: n.options ?? {},
    Labels: n.labels ?? {},
  };
}

/** Human-readable differences between what the backup recorded and the network that exists. */
export function networkDifferences(saved: NetworkInfo, current: EngineNetwork): string[] {
  const diffs: string[] = [];
  const cmp = (what: string, want: unknown, have: unknown) => {
    if (stable(want) !== stable(have)) {
      diffs.push(`${what}: saved ${stable(want)}, now ${stable(have)}`);
    }
  };
  cmp("driver", saved.driver, current.Driver);
  cmp("internal", !!saved.internal, !!current.Internal);
  cmp("attachable", !!saved.attachable, !!current.Attachable);
  cmp("IPv6", !!saved.enableIPv6, !!current.EnableIPv6);
  cmp("IPAM driver", saved.ipam.driver || "default", current.IPAM?.Driver || "default");
  const savedIpam = saved.ipam.config.map((c) => ({
    subnet: c.subnet ?? "",
    gateway: c.gateway ?? "",
    ipRange: c.ipRange ?? "",
    aux: c.auxAddresses ?? {},
  }));
  const currentIpam = (current.IPAM?.Config ?? []).map((c) => ({
    subnet: c.Subnet ?? "",
    gateway: c.Gateway ?? "",
    ipRange: c.IPRange ?? "",
    aux: c.AuxiliaryAddresses ?? {},
  }));
  // A network saved without explicit IPAM config got whatever the engine chose: any pool is fine.
  if (savedIpam.length > 0) cmp("IPAM config", sortByJson(savedIpam), sortByJson(currentIpam));
  cmp("options", saved.options ?? {}, current.Options ?? {});
  cmp("labels", saved.labels ?? {}, current.Labels ?? {});
  return diffs;
}

function sortByJson<T>(xs: T[]): T[] {
  return [...xs].sort((a, b) => stable(a).localeCompare(stable(b)));
}

/** JSON with object keys sorted, so equal data compares equal. */
export function stable(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, val) =>
      val && typeof val === "object" && !Array.isArray(val)
        ? Object.fromEntries(
          Object.entries(val as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
        : val,
  );
}
