/**
 * SSH host keys for sftp repositories, pinned by stowage itself (the `SshHostKeys` port of
 * core/ssh.ts): scan a server's keys (ssh-keyscan), ask whether one is already trusted
 * (ssh-keygen -F, which also reads hashed known_hosts lines), append trusted keys to stowage's own
 * known_hosts, and stage them in a temporary one first. Fingerprints are computed in core/ssh.ts.
 */
import { dirname } from "node:path";
import { StowageError } from "../core/errors.ts";
import type { ProcessRunner } from "../core/ports.ts";
import { type HostKey, hostSpec, parseScannedKeys, type SshHostKeys } from "../core/ssh.ts";
import { ioError } from "./files.ts";

/** True when any of `files` (those that exist) has a key for `spec`. */
async function isHostKnown(
  runner: ProcessRunner,
  spec: string,
  files: string[],
): Promise<string | undefined> {
  for (const file of files) {
    try {
      await Deno.stat(file);
    } catch {
      continue;
    }
    const r = await runner.run("ssh-keygen", ["-F", spec, "-f", file], { timeoutMs: 10_000 });
    if (r.code === 0 && r.stdout.split("\n").some((l) => l.trim() && !l.startsWith("#"))) {
      return file;
    }
  }
  return undefined;
}

/** The server's host keys; a server that does not answer is a clear error naming it. */
async function scanHostKeys(
  runner: ProcessRunner,
  host: string,
  port: string | undefined,
): Promise<HostKey[]> {
  const r = await runner.run(
    "ssh-keyscan",
    ["-T", "15", "-p", port ?? "22", "--", host],
    { timeoutMs: 30_000 },
  );
  const keys = parseScannedKeys(r.stdout);
  if (keys.length === 0) {
    const why = r.stderr.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))
      .at(-1);
    throw new StowageError(
      "repo.error",
      `Cannot reach the SSH server ${hostSpec(host, port)}: it sent no host key${
        why ? ` (${why})` : ""
      }`,
      "Check the host name and port in the repository location, that the server runs sshd, and that this host can reach it (firewall, VPN, Tailscale).",
    );
  }
  return keys;
}

/** Appends `lines` to the known_hosts `file` (0600, its folder 0700 when created). */
async function appendKnownHosts(file: string, lines: string[]): Promise<void> {
  try {
    await Deno.mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(file, lines.join(""), { append: true, create: true, mode: 0o600 });
  } catch (e) {
    throw ioError(`add the host key to '${file}'`, e);
  }
}

/** A temporary known_hosts: `base`'s lines (when it exists), then `lines`. */
async function stageKnownHosts(
  base: string,
  lines: string[],
): Promise<{ path: string; dispose(): Promise<void> }> {
  const path = await Deno.makeTempFile({ prefix: "stowage-known_hosts-" });
  const existing = await Deno.readTextFile(base).catch(() => "");
  await Deno.writeTextFile(
    path,
    (existing && !existing.endsWith("\n") ? existing + "\n" : existing) + lines.join(""),
  );
  return { path, dispose: () => Deno.remove(path).catch(() => {}) };
}

/** The `SshHostKeys` port on this host's ssh-keyscan and ssh-keygen. */
export function sshHostKeys(runner: ProcessRunner): SshHostKeys {
  return {
    known: (spec, files) => isHostKnown(runner, spec, files),
    scan: (host, port) => scanHostKeys(runner, host, port),
    append: appendKnownHosts,
    staged: stageKnownHosts,
  };
}
