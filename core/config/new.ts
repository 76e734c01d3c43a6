/**
 * The document `admin config new`, `admin config reset` and `setup` write: only what was chosen
 * plus the everyday knobs, so the file stays short; everything else keeps its default. Pure.
 */
import type { Scope } from "../model.ts";
import { type ConfigInput, configSchema } from "./schema.ts";

export interface NewConfigChoices {
  /** Repository location; undefined keeps the embedded default (<state_dir>/repository). */
  repository?: string;
  /** Password file; undefined keeps the default (<state_dir>/repository.password). */
  passwordFile?: string;
  scope?: Scope;
  /** SSH private key for sftp/tailscale repositories; undefined: ssh's own defaults. */
  sshKey?: string;
  /** The 0600 KEY=VALUE file with the backend's credentials (written by the caller). */
  envFile?: string;
  /** rclone's config for rclone: locations; undefined: rclone's own. */
  rcloneConfig?: string;
  /** known_hosts for the repository's server; undefined: <state_dir>/known_hosts. */
  knownHosts?: string;
}

export function newConfigDocument(choices: NewConfigChoices = {}): ConfigInput {
  const repository: NonNullable<ConfigInput["repository"]> = {};
  if (choices.repository) repository.location = choices.repository;
  if (choices.passwordFile) repository.password_file = choices.passwordFile;
  if (choices.sshKey) repository.ssh_key = choices.sshKey;
  if (choices.envFile) repository.env_file = choices.envFile;
  if (choices.rcloneConfig) repository.rclone_config = choices.rcloneConfig;
  if (choices.knownHosts) repository.known_hosts = choices.knownHosts;
  const defaults = configSchema.parse({});
  const doc: ConfigInput = {
    ...(Object.keys(repository).length > 0 ? { repository } : {}),
    backup: {
      scope: choices.scope ?? defaults.backup.scope,
      stop_timeout: defaults.backup.stop_timeout,
    },
    retention: { ...defaults.retention },
  };
  return doc;
}
