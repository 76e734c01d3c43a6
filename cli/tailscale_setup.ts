/**
 * `setup` onto a peer of the operator's Tailscale network: list the tailnet's peers (online ones
 * first, by latency; offline ones shown but not selectable), pick one (on the terminal, or
 * `--tailscale-peer NAME`), make stowage's own SSH key, and once the host key is trusted
 * (cli/host_key.ts) check that the peer accepts the key, create the repository folder and say how
 * much space is free there (app/tailscale.ts). The repository is then plain SFTP on the peer's
 * Tailscale address.
 */
import { dirname } from "node:path";
import { StowageError } from "../core/errors.ts";
import {
  checkPeerPath,
  checkSshUser,
  findPeer,
  peerLocation,
  peerName,
  type TailnetStatus,
  type TailscalePeer,
} from "../core/tailscale.ts";
import { listPeers, preparePeerFolder } from "../app/tailscale.ts";
import { formatBytes } from "./output.ts";
import type { LoadedConfig, Runtime } from "./runtime.ts";
import { trustRepositoryHost } from "./host_key.ts";
import { setUpRepository } from "../app/setup.ts";
import { describeNewConfig, type PreparedConfig, type WrittenConfig } from "./config_wizard.ts";

export interface TailscaleFlags {
  peer?: string;
  path?: string;
  user?: string;
  port?: string;
  sshKey?: string;
}

export interface TailscaleChoice {
  peer: TailscalePeer;
  name: string;
  location: string;
  path: string;
  user: string;
  port: number;
  latencyMs?: number;
  key: { path: string; publicLine: string; created: boolean };
}

/** stowage's SSH key for peers, next to the config: `<config dir>/ssh/id_ed25519`. */
export function peerKey(configPath: string): string {
  return `${dirname(configPath)}/ssh/id_ed25519`;
}

/**
 * Where peer setup pins host keys: `<config dir>/ssh/known_hosts`, beside the default key and
 * never a file of the operator's (an `--ssh-key ~/.ssh/id_ed25519` must not lead stowage to write
 * `~/.ssh/known_hosts`).
 */
export function peerKnownHosts(configPath: string): string {
  return `${dirname(configPath)}/ssh/known_hosts`;
}

/** The tailnet when a `tailscale` CLI answers, else undefined (the wizard then does not offer it). */
export async function tailnetIfAny(rt: Runtime): Promise<TailnetStatus | undefined> {
  try {
    return await rt.app.tailnet.status();
  } catch {
    return undefined;
  }
}

/**
 * On a terminal: when a tailnet answers, asks whether the backups go to one of its peers; the
 * tailnet when they do, undefined otherwise (no tailnet: nothing is asked).
 */
export async function askForTailnet(rt: Runtime): Promise<TailnetStatus | undefined> {
  const status = await tailnetIfAny(rt);
  if (!status) return undefined;
  const { select } = await import("@inquirer/prompts");
  const onTailnet = await select<boolean>({
    message: "Where should the backups go?",
    choices: [
      { value: true, name: "A peer on my Tailscale network (SFTP over the tailnet)" },
      { value: false, name: "Another location (a local folder, sftp:, rest:, s3:, ...)" },
    ],
  });
  return onTailnet ? status : undefined;
}

/** The peer table: status, name, Tailscale IP, latency, OS. */
export function peerTable(
  peers: TailscalePeer[],
  latency: ReadonlyMap<TailscalePeer, number | undefined>,
): string {
  const rows = peers.map((p) => [
    p.online ? "online" : "offline",
    peerName(p),
    p.ips[0],
    p.online ? (latency.get(p) === undefined ? "no answer" : `${latency.get(p)} ms`) : "-",
    p.os || "-",
  ]);
  const head = ["STATUS", "PEER", "TAILSCALE IP", "LATENCY", "OS"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) =>
    "  " + r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()
  )
    .join("\n") + "\n";
}

function parsePort(port: string | undefined): number {
  if (port === undefined) return 22;
  const n = Number(port);
  if (!/^\d+$/.test(port.trim()) || n < 1 || n > 65535) {
    throw new StowageError(
      "usage",
      `Cannot use '${port}' as the SSH port: not a port number`,
      "Pass --ssh-port N (1-65535).",
    );
  }
  return n;
}

/**
 * Lists the peers and picks one (flag or terminal), asks for what the flags did not give, and
 * makes (or reuses) stowage's SSH key. Nothing on the peer is touched yet.
 */
export async function chooseTailscalePeer(
  rt: Runtime,
  flags: TailscaleFlags,
  opts: {
    interactive: boolean;
    configPath: string;
    status?: TailnetStatus;
    say: (s: string) => void;
  },
): Promise<TailscaleChoice> {
  const { status, peers, latency } = await listPeers(rt.app, opts.status);
  opts.say(`\nPeers on your tailnet:\n${peerTable(peers, latency)}`);

  let peer: TailscalePeer;
  if (flags.peer !== undefined) {
    peer = findPeer(status, flags.peer);
  } else if (opts.interactive) {
    if (!peers.some((p) => p.online)) {
      throw new StowageError(
        "repo.error",
        "Cannot set up a repository on a Tailscale peer: no peer is online",
        "Start the peer that should hold the backups, then run `stowage setup` again.",
      );
    }
    const { select } = await import("@inquirer/prompts");
    peer = await select<TailscalePeer>({
      message: "Which peer should hold the repository?",
      choices: peers.map((p) => ({
        value: p,
        name: `${peerName(p)} (${p.ips[0]}${
          latency.get(p) === undefined ? "" : `, ${latency.get(p)} ms`
        })`,
        ...(p.online ? {} : { disabled: "(offline)" }),
      })),
    });
  } else {
    throw new StowageError(
      "usage",
      "Cannot choose a Tailscale peer without a terminal",
      "Pass --tailscale-peer NAME (as `tailscale status` lists it).",
    );
  }

  const ask = async (message: string, def: string) => {
    const { input } = await import("@inquirer/prompts");
    return (await input({ message, default: def })).trim();
  };
  const user = checkSshUser(
    flags.user ?? (opts.interactive ? await ask("SSH user on the peer", "root") : "root"),
  );
  const port = parsePort(
    flags.port ?? (opts.interactive ? await ask("SSH port on the peer", "22") : undefined),
  );
  let path: string;
  if (flags.path !== undefined) path = checkPeerPath(flags.path);
  else if (opts.interactive) {
    path = checkPeerPath(await ask("Repository folder on the peer", "/srv/restic/stowage"));
  } else {
    throw new StowageError(
      "usage",
      "Cannot set up a repository on a Tailscale peer without its folder",
      "Pass --tailscale-path /srv/restic/stowage (an absolute path on the peer).",
    );
  }

  const keyPath = flags.sshKey ?? peerKey(opts.configPath);
  const key = await rt.app.sshClient.ensureKey(keyPath, `stowage@${rt.hostname}`);
  opts.say(
    `SSH key for the repository: ${key.path} (${
      key.created ? "created now, ed25519, mode 0600" : "exists, reused"
    })\n`,
  );
  return {
    peer,
    name: peerName(peer),
    location: peerLocation(peer, { user, port, path }),
    path,
    user,
    port,
    latencyMs: latency.get(peer),
    key,
  };
}

/**
 * Logs in to the peer with stowage's key (host key checked against `loaded`'s known_hosts, the
 * just-trusted key included), creates the repository folder and measures its free space. When
 * the peer does not accept the key yet, the exact authorized_keys line is shown: on a terminal
 * setup waits until it was added; otherwise it fails, and the same command run again goes on.
 */
export async function confirmPeerLogin(
  rt: Runtime,
  choice: TailscaleChoice,
  loaded: LoadedConfig,
  opts: { interactive: boolean; say: (s: string) => void },
): Promise<{ freeKiB?: number }> {
  const where = `${choice.user}@${choice.name}`;
  while (true) {
    const r = await preparePeerFolder(rt.app, loaded, {
      host: choice.peer.ips[0],
      port: choice.port,
      user: choice.user,
      key: choice.key.path,
      path: choice.path,
    });
    if (r.ok) {
      const freeKiB = r.freeKiB;
      opts.say(
        `Logged in to ${where} with stowage's key; ${choice.path} is there${
          freeKiB === undefined ? "" : `, ${formatBytes(freeKiB * 1024)} free`
        }.\n`,
      );
      return { freeKiB };
    }
    if (r.reason !== "key-refused") {
      throw new StowageError(
        "repo.error",
        `Cannot prepare the repository folder on ${where}: ${r.message}`,
        "Check that the peer runs an SSH server on that port and the user may create the folder.",
      );
    }
    const home = choice.user === "root" ? "/root" : `~${choice.user}`;
    if (opts.interactive) {
      opts.say(
        `\n${where} does not accept stowage's SSH key yet. Add this line to ${home}/.ssh/authorized_keys on ${choice.name}:\n\n  ${choice.key.publicLine}\n\n`,
      );
      const { confirm } = await import("@inquirer/prompts");
      const again = await confirm({ message: "Added it? Try again", default: true });
      if (again) continue;
    }
    throw new StowageError(
      "repo.error",
      `The Tailscale peer ${choice.name} does not accept stowage's SSH key yet (${r.message}); nothing was written`,
      `Add the line above to ${home}/.ssh/authorized_keys on ${choice.name}, then run the same command again.`,
      { details: [choice.key.publicLine] },
    );
  }
}

/**
 * A new config on a chosen peer, as `admin config new --tailscale-peer` makes it: host key
 * trusted (asked on a terminal, pinned on first use otherwise), the key's login checked, the
 * repository initialised, and only then the config written and the host key pinned.
 */
export async function setUpOnPeer(
  rt: Runtime,
  peer: TailscaleChoice,
  prepared: PreparedConfig,
  opts: { interactive: boolean; say: (s: string) => void },
): Promise<WrittenConfig> {
  const trust = await trustRepositoryHost(rt, prepared.loaded, {
    interactive: opts.interactive,
    trustOnFirstUse: true,
    say: opts.say,
  });
  try {
    await confirmPeerLogin(rt, peer, trust.loaded, opts);
    const { passwordCreated } = await setUpRepository(rt.app, {
      loaded: trust.loaded,
      passwordFile: prepared.passwordFile,
      prepared,
    });
    await trust.commit();
    return describeNewConfig(prepared, passwordCreated);
  } finally {
    await trust.dispose();
  }
}
