/**
 * Trusting an sftp repository's SSH host key, the way `setup` does it: a key already pinned (in
 * stowage's known_hosts, or the operator's ~/.ssh/known_hosts) is used as it is; an unknown one is
 * scanned, its fingerprints shown, and trusted only when the operator says so on the terminal or
 * names its fingerprint with --accept-host-key. Until `commit()`, the key lives in a temporary
 * known_hosts the repository test uses, so a failed setup pins nothing (app/host_key.ts).
 */
import { promptContext } from "./prompt_output.ts";
import { StowageError } from "../core/errors.ts";
import type { LoadedConfig, Runtime } from "./runtime.ts";
import { type HostKey, keyLabel, matchFingerprint } from "../core/ssh.ts";
import { inspectRepositoryHost, stageHostKeys } from "../app/host_key.ts";

export interface HostTrust {
  /** The config to test the repository with (its known_hosts the temporary one when needed). */
  loaded: LoadedConfig;
  /** What happened, for the summary and --json. */
  state: "not-ssh" | "known" | "accepted";
  host?: string;
  fingerprints: string[];
  /** Pins the accepted keys in stowage's known_hosts. */
  commit(): Promise<void>;
  /** Removes the temporary file. Always call it. */
  dispose(): Promise<void>;
}

export const REFUSED_HINT =
  "Compare the fingerprint with the server's own (on the server: `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`), then run `stowage setup` again and accept it, or pass --accept-host-key FINGERPRINT.";

export async function trustRepositoryHost(
  rt: Runtime,
  loaded: LoadedConfig,
  opts: {
    interactive: boolean;
    accept?: string;
    /**
     * Without a terminal or --accept-host-key, trust the scanned keys (shown): for a peer reached
     * over Tailscale, whose WireGuard keys already authenticate the machine at that address.
     */
    trustOnFirstUse?: boolean;
    say: (s: string) => void;
  },
): Promise<HostTrust> {
  const noop = async () => {};
  const found = await inspectRepositoryHost(rt.app, loaded);
  if (found.state === "not-ssh") {
    return { loaded, state: "not-ssh", fingerprints: [], commit: noop, dispose: noop };
  }
  const spec = found.spec;
  if (found.state === "known") {
    opts.say(`SSH host key of ${spec}: trusted (${found.file}).\n`);
    return { loaded, state: "known", host: spec, fingerprints: [], commit: noop, dispose: noop };
  }
  const keys = found.keys;
  const listed = keys.map((k) => `${keyLabel(k.type).padEnd(7)} ${k.fingerprint}`);
  let chosen: HostKey[];
  if (opts.accept !== undefined) {
    const k = matchFingerprint(keys, opts.accept);
    if (!k) {
      throw new StowageError(
        "repo.error",
        `Cannot trust the SSH server ${spec}: --accept-host-key ${opts.accept} does not match its host keys; nothing was changed`,
        "Check the fingerprint with the server's administrator: a mismatch can mean another machine answers at that address.",
        { details: listed },
      );
    }
    opts.say(`SSH host key of ${spec}: ${keyLabel(k.type)} ${k.fingerprint} (accepted by flag).\n`);
    chosen = [k];
  } else if (opts.interactive) {
    opts.say(
      `\nThe SSH server ${spec} is not known to this host yet. Its host keys:\n${
        listed.map((l) => `  ${l}\n`).join("")
      }Compare them with the server's own before trusting them (on the server: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub).\n`,
    );
    const { confirm } = await import("@inquirer/prompts");
    const yes = await confirm(
      { message: "Trust this host key?", default: false },
      promptContext(rt),
    );
    if (!yes) {
      throw new StowageError(
        "repo.error",
        `The SSH host key of ${spec} was not trusted; nothing was changed`,
        REFUSED_HINT,
      );
    }
    chosen = keys;
  } else if (opts.trustOnFirstUse && keys.length > 0) {
    opts.say(
      `SSH host key of ${spec}, pinned on first use over the tailnet:\n${
        listed.map((l) => `  ${l}\n`).join("")
      }`,
    );
    chosen = keys;
  } else {
    throw new StowageError(
      "repo.error",
      `Cannot trust the SSH server ${spec}: its host key is not known to this host; nothing was changed`,
      REFUSED_HINT,
      { details: listed },
    );
  }

  // The repository test sees the already-pinned keys plus the new ones, from a temporary file.
  const staged = await stageHostKeys(rt.app, loaded, spec, chosen);
  return {
    loaded: staged.loaded,
    state: "accepted",
    host: spec,
    fingerprints: chosen.map((k) => k.fingerprint),
    commit: staged.commit,
    dispose: staged.dispose,
  };
}
