/**
 * The effects of trusting an sftp repository's SSH host key (`setup`): which host the repository
 * is on and whether a key for it is pinned already, the server's keys when not, and the chosen
 * keys staged in a temporary known_hosts the repository test uses until `commit()` pins them, so
 * a failed setup pins nothing. Which keys to trust is the operator's decision, asked by
 * cli/host_key.ts.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import { type HostKey, hostSpec, knownHostsLine } from "../core/ssh.ts";
import type { Services } from "./services.ts";

export type HostKeyServices = Pick<Services, "env" | "repositoryConfig" | "sshHostKeys">;

export type RepositoryHost =
  /** Not an sftp repository: no host key to trust. */
  | { state: "not-ssh" }
  /** `file` already has a key for `spec` (known_hosts naming: `host` or `[host]:port`). */
  | { state: "known"; spec: string; file: string }
  /** No key pinned for `spec`; `keys` are what the server sent. */
  | { state: "unknown"; spec: string; keys: HostKey[] };

export async function inspectRepositoryHost(
  svc: HostKeyServices,
  loaded: LoadedConfig,
): Promise<RepositoryHost> {
  const settings = svc.repositoryConfig.settings(loaded, svc.env);
  if (!settings.location.startsWith("sftp:")) return { state: "not-ssh" };
  const { host, port } = svc.repositoryConfig.parseSftpLocation(settings.location);
  const spec = hostSpec(host, port);
  const file = await svc.sshHostKeys.known(
    spec,
    svc.repositoryConfig.knownHostsFiles(loaded, svc.env),
  );
  if (file) return { state: "known", spec, file };
  return { state: "unknown", spec, keys: await svc.sshHostKeys.scan(host, port) };
}

export interface StagedHostKeys {
  /** `loaded` with its known_hosts the temporary file: the already-pinned keys plus `keys`. */
  loaded: LoadedConfig;
  /** Pins the keys in stowage's known_hosts. */
  commit(): Promise<void>;
  /** Removes the temporary file. Always call it. */
  dispose(): Promise<void>;
}

/** Stages the trusted `keys` of `spec` for the repository test; nothing is pinned yet. */
export async function stageHostKeys(
  svc: HostKeyServices,
  loaded: LoadedConfig,
  spec: string,
  keys: HostKey[],
): Promise<StagedHostKeys> {
  const own = svc.repositoryConfig.trustFile(loaded, svc.env);
  const lines = keys.map((k) => knownHostsLine(spec, k));
  const staged = await svc.sshHostKeys.staged(own, lines);
  return {
    loaded: {
      ...loaded,
      config: {
        ...loaded.config,
        repository: { ...loaded.config.repository, known_hosts: staged.path },
      },
    },
    commit: () => svc.sshHostKeys.append(own, lines),
    dispose: staged.dispose,
  };
}
