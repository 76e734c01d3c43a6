/**
 * The tailnet as `tailscale status --json` describes it, and the choices made from it: which
 * peers can hold the repository, in what order the wizard offers them, and the SFTP location on a
 * peer's Tailscale address. Pure; the `Tailnet` port is the effect (adapters/tailscale.ts).
 *
 * The document is untrusted input (another program's output, naming machines other people run):
 * every field used is checked, names are stripped of control characters before they reach a
 * terminal, and only a well-formed IP address is ever used to connect.
 */
import { StowageError } from "./errors.ts";

export interface TailscalePeer {
  /** The machine's own host name (display only). */
  hostName: string;
  /** MagicDNS name without the trailing dot, e.g. `nas.tail1234.ts.net`; "" when none. */
  dnsName: string;
  /** Tailscale addresses, IPv4 first. */
  ips: string[];
  online: boolean;
  os: string;
  /** ISO time the peer was last seen (offline peers), when known. */
  lastSeen?: string;
}

export interface TailnetStatus {
  backendState: string;
  self?: TailscalePeer;
  peers: TailscalePeer[];
}

/** The tailnet this host is on, as its `tailscale` CLI sees it (adapters/tailscale.ts). */
export interface Tailnet {
  /** The checked status document; an error when tailscale does not run or is not logged in. */
  status(): Promise<TailnetStatus>;
  /** Round trip to a peer's address in ms, or undefined when it did not answer. */
  ping(ip: string): Promise<number | undefined>;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:]{2,39}$/;

function text(v: unknown, max = 253): string {
  // deno-lint-ignore no-control-regex
  return typeof v === "string" ? v.replace(/[\x00-\x1f\x7f-\x9f]/g, "").slice(0, max) : "";
}

function peerOf(raw: unknown): TailscalePeer | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const r = raw as Record<string, unknown>;
  const ips = Array.isArray(r.TailscaleIPs)
    ? r.TailscaleIPs.filter((ip): ip is string =>
      typeof ip === "string" && (IPV4.test(ip) || (ip.includes(":") && IPV6.test(ip)))
    )
    : [];
  ips.sort((a, b) => Number(b.includes(".")) - Number(a.includes(".")));
  const lastSeen = text(r.LastSeen, 40);
  return {
    hostName: text(r.HostName, 63),
    dnsName: text(r.DNSName).replace(/\.$/, ""),
    ips,
    online: r.Online === true,
    os: text(r.OS, 32),
    // Tailscale writes the zero time for "never" and for online peers.
    ...(lastSeen && !lastSeen.startsWith("0001-") ? { lastSeen } : {}),
  };
}

/** `tailscale status --json` -> the tailnet. Throws `dependency.missing` for what is not one. */
export function parseTailscaleStatus(json: string): TailnetStatus {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new StowageError(
      "dependency.missing",
      "Cannot read the tailnet: `tailscale status --json` did not print JSON",
      "Check that tailscaled runs (`tailscale status`).",
    );
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    throw new StowageError(
      "dependency.missing",
      "Cannot read the tailnet: `tailscale status --json` printed no status document",
      "Check that tailscaled runs (`tailscale status`).",
    );
  }
  const d = doc as Record<string, unknown>;
  const peerMap = d.Peer && typeof d.Peer === "object" ? Object.values(d.Peer) : [];
  return {
    backendState: text(d.BackendState, 32),
    self: peerOf(d.Self),
    peers: peerMap.map(peerOf).filter((p): p is TailscalePeer =>
      p !== undefined && p.ips.length > 0 && (p.hostName !== "" || p.dnsName !== "")
    ),
  };
}

/** The name a peer is shown and chosen by: its MagicDNS label, else its host name. */
export function peerName(p: TailscalePeer): string {
  return p.dnsName ? p.dnsName.split(".")[0] : p.hostName;
}

/** Online peers first, by measured latency (unmeasured after measured), then by name. */
export function sortPeers(
  peers: TailscalePeer[],
  latencyMs: ReadonlyMap<TailscalePeer, number | undefined>,
): TailscalePeer[] {
  return [...peers].sort((a, b) => {
    if (a.online !== b.online) return a.online ? -1 : 1;
    const la = latencyMs.get(a) ?? Infinity;
    const lb = latencyMs.get(b) ?? Infinity;
    if (la !== lb) return la - lb;
    return peerName(a).localeCompare(peerName(b));
  });
}

/**
 * The peer named `name`: its MagicDNS label or full name, its host name, or one of its Tailscale
 * addresses (case-insensitive). An offline peer, an unknown or an ambiguous name is an error.
 */
export function findPeer(status: TailnetStatus, name: string): TailscalePeer {
  const want = name.trim().toLowerCase().replace(/\.$/, "");
  const hits = status.peers.filter((p) =>
    peerName(p).toLowerCase() === want || p.dnsName.toLowerCase() === want ||
    p.hostName.toLowerCase() === want || p.ips.includes(want)
  );
  const known = status.peers.map(peerName).sort().join(", ") || "none";
  if (hits.length === 0) {
    throw new StowageError(
      "usage",
      `Cannot use Tailscale peer '${
        text(name, 80)
      }': the tailnet has no such peer (peers: ${known})`,
      "Name a peer as `tailscale status` lists it (its MagicDNS name, host name or Tailscale IP).",
    );
  }
  if (hits.length > 1) {
    throw new StowageError(
      "usage",
      `Cannot use Tailscale peer '${text(name, 80)}': ${hits.length} peers answer to that name`,
      "Name it by its full MagicDNS name or its Tailscale IP.",
    );
  }
  if (!hits[0].online) {
    throw new StowageError(
      "repo.error",
      `Cannot use Tailscale peer '${peerName(hits[0])}': it is offline${
        hits[0].lastSeen ? ` (last seen ${hits[0].lastSeen})` : ""
      }`,
      "Start the peer (or its tailscaled) and run the command again.",
    );
  }
  return hits[0];
}

/** A repository path on a peer: absolute, and plain enough for a remote shell and restic. */
export function checkPeerPath(path: string): string {
  const p = path.trim().replace(/\/+$/, "");
  if (!/^\/[A-Za-z0-9._\/-]+$/.test(p) || p.split("/").includes("..")) {
    throw new StowageError(
      "usage",
      `Cannot use '${
        text(path, 200)
      }' as the repository path on the peer: it must be an absolute path of letters, digits and . _ - /`,
      "For example --tailscale-path /srv/restic/stowage.",
    );
  }
  return p;
}

export function checkSshUser(user: string): string {
  if (!/^[a-z_][a-z0-9_.-]{0,31}$/i.test(user)) {
    throw new StowageError(
      "usage",
      `Cannot use '${text(user, 40)}' as the SSH user: not a user name`,
      "Pass --ssh-user NAME (letters, digits, _ . -).",
    );
  }
  return user;
}

/** The SFTP location on the peer's first Tailscale address (IPv4 when it has one). */
export function peerLocation(
  peer: TailscalePeer,
  opts: { user: string; port: number; path: string },
): string {
  const ip = peer.ips[0];
  const host = ip.includes(":") ? `[${ip}]` : ip;
  return opts.port === 22
    ? `sftp:${opts.user}@${host}:${opts.path}`
    : `sftp://${opts.user}@${host}:${opts.port}/${opts.path}`;
}
