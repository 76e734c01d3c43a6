/**
 * A STAND-IN for the `tailscale` CLI, for tests only: Tailscale cannot be installed on these
 * machines (it is in neither Debian's nor npm's registry, and nothing else can be downloaded).
 * stowage talks to whatever `tailscale` is on PATH (adapters/tailscale.ts); tests put this one
 * first on PATH. It answers:
 *
 * - `tailscale status --json`: a recorded status document in the real CLI's shape (ipnstate's
 *   Status: `Version`, `BackendState`, `Self`, `Peer` keyed by node key, each peer with `ID`,
 *   `PublicKey`, `HostName`, `DNSName` with its trailing dot, `OS`, `TailscaleIPs`, `Online`,
 *   `LastSeen` (the zero time while online), `CurrentTailnet`, `User`, ...). Only the addresses
 *   are made up: the peer `nas` has 127.0.0.1, where the test's sshd listens.
 * - `tailscale ping -c 1 [--timeout D] IP`: `pong from NAME (IP) via DERP(fra) in Nms` for the
 *   peers given a latency, and a failure for the others, as the real one prints them.
 * - `tailscale version`.
 * Anything else exits 2. Everything after the CLI (ssh-keyscan, ssh, restic) is real.
 */

export interface StandInPeer {
  hostName: string;
  ip: string;
  online: boolean;
  os?: string;
  /** Answers `tailscale ping` with this round trip; undefined: it times out. */
  latencyMs?: number;
  lastSeen?: string;
}

const ZERO_TIME = "0001-01-01T00:00:00Z";
const SUFFIX = "tail4e2f1.ts.net";

function nodeKey(i: number): string {
  return `nodekey:${(i + 1).toString(16).padStart(2, "0").repeat(32)}`;
}

/** The status document `tailscale status --json` prints, with these peers. */
export function statusDocument(peers: StandInPeer[]): unknown {
  const node = (p: StandInPeer, i: number, self = false) => ({
    ID: `n${1000 + i}CNTRL`,
    PublicKey: nodeKey(i),
    HostName: p.hostName,
    DNSName: `${p.hostName}.${SUFFIX}.`,
    OS: p.os ?? "linux",
    UserID: 4242,
    TailscaleIPs: [p.ip, `fd7a:115c:a1e0::${(i + 1).toString(16)}`],
    AllowedIPs: [`${p.ip}/32`, `fd7a:115c:a1e0::${(i + 1).toString(16)}/128`],
    Addrs: self ? null : [`192.0.2.${10 + i}:41641`],
    CurAddr: "",
    Relay: "fra",
    RxBytes: self ? 0 : 123456,
    TxBytes: self ? 0 : 654321,
    Created: "2026-01-12T09:30:00.000000000Z",
    LastWrite: ZERO_TIME,
    LastSeen: p.online ? ZERO_TIME : p.lastSeen ?? "2026-11-20T18:04:11Z",
    LastHandshake: ZERO_TIME,
    Online: p.online,
    ExitNode: false,
    ExitNodeOption: false,
    Active: false,
    PeerAPIURL: [`http://${p.ip}:35011`],
    InNetworkMap: true,
    InMagicSock: !self,
    InEngine: !self,
    ...(self ? {} : { KeyExpiry: "2027-05-11T09:30:00Z" }),
  });
  const self = { hostName: "docker-host", ip: "100.64.0.1", online: true };
  return {
    Version: "1.76.6-t8e3d7c6a3-g2b6b8e1a9",
    TUN: true,
    BackendState: "Running",
    HaveNodeKey: true,
    AuthURL: "",
    TailscaleIPs: [self.ip, "fd7a:115c:a1e0::ff"],
    Self: node(self, 99, true),
    Health: [],
    MagicDNSSuffix: SUFFIX,
    CurrentTailnet: { Name: "ops@example.com", MagicDNSSuffix: SUFFIX, MagicDNSEnabled: true },
    CertDomains: null,
    Peer: Object.fromEntries(peers.map((p, i) => [nodeKey(i), node(p, i)])),
    User: {
      "4242": {
        ID: 4242,
        LoginName: "ops@example.com",
        DisplayName: "Ops",
        ProfilePicURL: "",
        Roles: [],
      },
    },
    ClientVersion: null,
  };
}

/** Writes the stand-in into `<dir>/bin/tailscale`; returns that bin folder (put it first on PATH). */
export async function installTailscaleStandIn(dir: string, peers: StandInPeer[]): Promise<string> {
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin, { recursive: true });
  await Deno.writeTextFile(`${dir}/status.json`, JSON.stringify(statusDocument(peers), null, 2));
  await Deno.writeTextFile(
    `${dir}/pings`,
    peers.filter((p) => p.latencyMs !== undefined).map((p) =>
      `${p.ip} ${p.hostName} ${p.latencyMs}\n`
    ).join(""),
  );
  await Deno.writeTextFile(
    `${bin}/tailscale`,
    `#!/bin/sh
# STAND-IN for the tailscale CLI (stowage's tests only; see tests/support/tailscale.ts).
case "$1" in
  status)
    [ "$2" = "--json" ] || { echo "stand-in: only status --json" >&2; exit 2; }
    exec cat '${dir}/status.json' ;;
  ping)
    for a in "$@"; do ip="$a"; done
    line=$(grep "^$ip " '${dir}/pings')
    if [ -z "$line" ]; then echo "ping \\"$ip\\" timed out" >&2; exit 1; fi
    set -- $line
    echo "pong from $2 ($1) via DERP(fra) in $3ms" ;;
  version) echo "1.76.6" ;;
  *) echo "stand-in: unsupported: $*" >&2; exit 2 ;;
esac
`,
    { mode: 0o755 },
  );
  return bin;
}
