/**
 * The effects of `setup` onto a Tailscale peer: the tailnet's peers with their latency, and,
 * once the host key is trusted, a login with stowage's key that creates the repository folder and
 * measures its free space. The choices (which peer, user, port, folder) are made in
 * cli/tailscale_setup.ts; core/tailscale.ts checks them.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import {
  checkPeerPath,
  sortPeers,
  type TailnetStatus,
  type TailscalePeer,
} from "../core/tailscale.ts";
import { parseDfAvailable } from "../core/verify/disk.ts";
import type { Services } from "./services.ts";

/**
 * The tailnet (`status`, or read now), its online peers pinged in parallel, and every peer in the
 * order the wizard offers them (online first by latency, offline last).
 */
export async function listPeers(
  svc: Pick<Services, "tailnet">,
  status?: TailnetStatus,
): Promise<{
  status: TailnetStatus;
  peers: TailscalePeer[];
  latency: Map<TailscalePeer, number | undefined>;
}> {
  const net = svc.tailnet;
  const tailnet = status ?? await net.status();
  const online = tailnet.peers.filter((p) => p.online);
  const measured = await Promise.all(
    online.map(async (p) => [p, await net.ping(p.ips[0])] as const),
  );
  const latency = new Map<TailscalePeer, number | undefined>(measured);
  return { status: tailnet, peers: sortPeers(tailnet.peers, latency), latency };
}

export type PeerFolder =
  | { ok: true; freeKiB?: number }
  | { ok: false; reason: "key-refused" | "other"; message: string };

/**
 * Logs in to `target` with stowage's `key` (host key checked strictly against `loaded`'s
 * known_hosts files), creates the repository folder `path` and measures its free space.
 */
export async function preparePeerFolder(
  svc: Pick<Services, "env" | "repositoryConfig" | "sshClient">,
  loaded: LoadedConfig,
  target: { host: string; port: number; user: string; key: string; path: string },
): Promise<PeerFolder> {
  // Letters, digits and . _ - / only (checkPeerPath): nothing in the command a shell reads.
  const path = checkPeerPath(target.path);
  const r = await svc.sshClient.run(
    { host: target.host, port: target.port, user: target.user },
    {
      key: target.key,
      knownHosts: svc.repositoryConfig.knownHostsFiles(loaded, svc.env).join(" "),
      command: `mkdir -p -- '${path}' && df -Pk -- '${path}'`,
    },
  );
  return r.ok ? { ok: true, freeKiB: parseDfAvailable(r.stdout) } : r;
}
