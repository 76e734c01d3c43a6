/**
 * stowage's own SSH client key and a login with it, for setting up an SFTP repository on a peer:
 * the key is generated once (ed25519, no passphrase, 0600; the disaster-recovery bundle carries
 * it), and a login runs one fixed command with that key, pinned host keys and never a prompt.
 */
import { dirname } from "node:path";
import { StowageError } from "../core/errors.ts";
import type { ProcessRunner } from "../core/ports.ts";
import type { LoginResult, SshClient, SshKey } from "../core/ssh.ts";
import { ioError } from "./files.ts";

/** The key at `path`, generated first when there is none. */
async function ensureSshKey(
  runner: ProcessRunner,
  path: string,
  comment: string,
): Promise<SshKey> {
  let created = false;
  const exists = await Deno.stat(path).then(() => true, (e) => {
    if (e instanceof Deno.errors.NotFound) return false;
    throw ioError(`read SSH key '${path}'`, e);
  });
  if (!exists) {
    try {
      await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw ioError(`create the folder of SSH key '${path}'`, e);
    }
    const r = await runner.run("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      comment,
      "-f",
      path,
    ]);
    if (r.code !== 0) {
      throw new StowageError(
        "io",
        `Cannot generate SSH key '${path}': ssh-keygen exited ${r.code} (${r.stderr.trim()})`,
        "Check that the folder is writable, or pass --ssh-key with an existing key.",
      );
    }
    await Deno.chmod(path, 0o600);
    created = true;
  }
  // The public half is derived from the private key, so a stale or missing .pub never misleads.
  const pub = await runner.run("ssh-keygen", ["-y", "-f", path]);
  if (pub.code !== 0) {
    throw new StowageError(
      "config.invalid",
      `Cannot use SSH key '${path}': ssh-keygen cannot read it (${pub.stderr.trim()})`,
      "It must be an unencrypted private key of mode 0600 (ssh refuses others).",
    );
  }
  const [type, blob] = pub.stdout.trim().split(/\s+/);
  return { path, publicLine: `${type} ${blob} ${comment}`, created };
}

/**
 * Runs `command` (fixed words, no user input unquoted) on `user@host` with only `key`, checking
 * the host key against `knownHosts` strictly, in batch mode: no password or host-key prompt.
 */
async function sshRun(
  runner: ProcessRunner,
  target: { host: string; port: number; user: string },
  opts: { key: string; knownHosts: string; command: string },
): Promise<LoginResult> {
  const r = await runner.run("ssh", [
    "-i",
    opts.key,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `UserKnownHostsFile=${opts.knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=15",
    "-p",
    String(target.port),
    "-l",
    target.user,
    target.host,
    "--",
    opts.command,
  ], { timeoutMs: 60_000 });
  if (r.code === 0) return { ok: true, stdout: r.stdout };
  const last = r.stderr.trim().split("\n").filter(Boolean).at(-1) ?? `exit ${r.code}`;
  return {
    ok: false,
    reason: /Permission denied \(/.test(r.stderr) ? "key-refused" : "other",
    message: last.slice(0, 300),
  };
}

/** The `SshClient` port on this host's ssh and ssh-keygen. */
export function sshClient(runner: ProcessRunner): SshClient {
  return {
    ensureKey: (path, comment) => ensureSshKey(runner, path, comment),
    run: (target, opts) => sshRun(runner, target, opts),
  };
}
