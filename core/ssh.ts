/**
 * SSH for sftp repositories: host keys (how known_hosts names a host, fingerprints exactly as
 * `ssh-keygen -lf` prints them: SHA256, base64, no padding; which scanned key a given fingerprint
 * names) and the outputs read back from a login, pure. The ports `SshHostKeys` and `SshClient`
 * are the effects (adapters/ssh_host_keys.ts, adapters/ssh_client.ts), built once by main.ts.
 */
import { createHash } from "node:crypto";

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

export function knownHostsLine(spec: string, k: HostKey): string {
  return `${spec} ${k.type} ${k.key}\n`;
}

/** Host keys of SSH servers, pinned by stowage itself (adapters/ssh_host_keys.ts). */
export interface SshHostKeys {
  /** The first of `files` (those that exist) with a key for `spec`; undefined when none has. */
  known(spec: string, files: string[]): Promise<string | undefined>;
  /** The server's host keys; a server that does not answer is a clear error naming it. */
  scan(host: string, port: string | undefined): Promise<HostKey[]>;
  /** Appends `lines` to the known_hosts `file` (0600, its folder 0700 when created). */
  append(file: string, lines: string[]): Promise<void>;
  /**
   * A temporary known_hosts holding `base`'s lines (when it exists) and then `lines`, for a test
   * before anything is pinned; `dispose` removes it and never throws.
   */
  staged(base: string, lines: string[]): Promise<{ path: string; dispose(): Promise<void> }>;
}

export interface SshKey {
  path: string;
  /** The public key line (`ssh-ed25519 AAAA... comment`), as authorized_keys takes it. */
  publicLine: string;
  created: boolean;
}

export type LoginResult =
  | { ok: true; stdout: string }
  | { ok: false; reason: "key-refused" | "other"; message: string };

/** stowage's own SSH client key and a login with it (adapters/ssh_client.ts). */
export interface SshClient {
  /** The key at `path`, generated first when there is none (ed25519, no passphrase, 0600). */
  ensureKey(path: string, comment: string): Promise<SshKey>;
  /**
   * Runs `command` (fixed words, no user input unquoted) on `user@host` with only `key`, checking
   * the host key against `knownHosts` strictly, in batch mode: no password or host-key prompt.
   */
  run(
    target: { host: string; port: number; user: string },
    opts: { key: string; knownHosts: string; command: string },
  ): Promise<LoginResult>;
}
