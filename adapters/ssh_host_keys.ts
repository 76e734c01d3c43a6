/**
 * SSH host keys for sftp repositories, pinned by stowage itself: scan a server's keys
 * (ssh-keyscan), show their fingerprints, ask whether one is already trusted (ssh-keygen -F, which
 * also reads hashed known_hosts lines), and append trusted keys to stowage's own known_hosts.
 * Fingerprints are computed here, exactly as `ssh-keygen -lf` prints them (SHA256, base64, no
 * padding).
 */
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { StowageError } from "../core/errors.ts";
import type { ProcessRunner } from "../core/ports.ts";
import { ioError } from "./files.ts";

export interface HostKey {
  /** ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, ... */
  type: string;
  /** base64 key blob as in known_hosts */
  key: string;
  /** `SHA256:...` as ssh and ssh-keygen print it */
  fingerprint: string;
}

/** How known_hosts names a host: `host`, or `[host]:port` off port 22. */
export function hostSpec(host: string, port?: string): string {
  return port && port !== "22" ? `[${host}]:${port}` : host;
}

/** ED25519, ECDSA, RSA: the names ssh shows next to a fingerprint. */
export function keyLabel(type: string): string {
  if (type === "ssh-ed25519") return "ED25519";
  if (type.startsWith("ecdsa-")) return "ECDSA";
  if (type === "ssh-rsa") return "RSA";
  return type;
}

export function fingerprintOf(key: string): string {
  const blob = Uint8Array.from(atob(key), (c) => c.charCodeAt(0));
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** `host type key` lines (ssh-keyscan output, comments ignored) -> keys, one per type. */
export function parseScannedKeys(text: string): HostKey[] {
  const keys: HostKey[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const [, type, key] = line.split(/\s+/);
    if (!type || !key || !/^[A-Za-z0-9+/=]+$/.test(key)) continue;
    if (keys.some((k) => k.type === type)) continue;
    try {
      keys.push({ type, key, fingerprint: fingerprintOf(key) });
    } catch { /* not base64: not a key line */ }
  }
  return keys;
}

/** The key whose fingerprint is `given` (with or without the `SHA256:` prefix). */
export function matchFingerprint(keys: HostKey[], given: string): HostKey | undefined {
  const want = given.trim().replace(/^SHA256:/, "").replace(/=+$/, "");
  return keys.find((k) => k.fingerprint === `SHA256:${want}`);
}

/** True when any of `files` (those that exist) has a key for `spec`. */
export async function isHostKnown(
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
export async function scanHostKeys(
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

export function knownHostsLine(spec: string, k: HostKey): string {
  return `${spec} ${k.type} ${k.key}\n`;
}

/** Appends `lines` to the known_hosts `file` (0600, its folder 0700 when created). */
export async function appendKnownHosts(file: string, lines: string[]): Promise<void> {
  try {
    await Deno.mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(file, lines.join(""), { append: true, create: true, mode: 0o600 });
  } catch (e) {
    throw ioError(`add the host key to '${file}'`, e);
  }
}
