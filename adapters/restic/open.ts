/**
 * From config to a ready Restic: where the repository is, where its password lives, which
 * backend credentials and ssh options restic gets. The embedded default (no config at all) is a
 * local repository under the state directory with a generated password file.
 */
import { getLogger } from "@logtape/logtape";
import { StowageError } from "../../core/errors.ts";
import type { BackupRepository, CopyDestination, ProcessRunner } from "../../core/ports.ts";
import type { LoadedConfig } from "../../core/config/loaded.ts";
import { parseEnvFile as parseKeyValues } from "../../core/restore/env_file.ts";
import type { Config } from "../../core/config/schema.ts";
import { ioError, randomPassword } from "../files.ts";
import { redactLocation } from "./errors.ts";
import { Restic } from "./restic.ts";

const log = getLogger(["stowage", "repository"]);

export interface RepositorySettings {
  /** The location restic is given (tailscale: already turned into sftp:). */
  location: string;
  passwordFile: string;
  /** true when the password file is stowage's generated default (<state_dir>/repository.password). */
  isDefault: boolean;
  binary: string;
  /** Global restic args: `-o sftp.command=...` when ssh_key/known_hosts are set. */
  extraArgs: string[];
  cacheDir: string;
  envFile?: string;
  env: Record<string, string>;
  /** rclone's config for rclone: locations; restic's rclone child reads it as RCLONE_CONFIG. */
  rcloneConfig?: string;
  /** Where these settings are in the config, for messages (`repository` when unset). */
  configKey?: string;
}

type Env = (n: string) => string | undefined;

function expandHome(path: string, env: Env): string {
  if (path === "~" || path.startsWith("~/")) return (env("HOME") ?? "/root") + path.slice(1);
  return path;
}

/** Pure: config and paths -> how restic will be run. No file is read. */
export function repositorySettings(
  loaded: LoadedConfig,
  env: Env = () => undefined,
): RepositorySettings {
  return settingsOf(loaded.config.repository, loaded, env);
}

/** Pure: how restic reaches the copy named `name` (config `copies:`), like repositorySettings. */
export function copySettings(
  loaded: LoadedConfig,
  name: string,
  env: Env = () => undefined,
): RepositorySettings {
  const copy = loaded.config.copies.find((c) => c.name === name);
  if (!copy) {
    const names = loaded.config.copies.map((c) => c.name);
    throw new StowageError(
      "config.invalid",
      `Cannot use copy '${name}': the config has no such copy`,
      names.length
        ? `Configured copies: ${names.join(", ")}.`
        : "Add it under `copies:` in the config (docs/copies.md).",
    );
  }
  return {
    ...settingsOf(copy.repository, loaded, env),
    isDefault: false,
    configKey: `copies '${name}' repository`,
  };
}

type RepositorySection = Config["copies"][number]["repository"] | Config["repository"];

function settingsOf(
  repo: RepositorySection,
  loaded: LoadedConfig,
  env: Env,
): RepositorySettings {
  const configured = repo.location ?? loaded.paths.repository;
  const location = resticLocation(configured);
  const passwordFile = expandHome(repo.password_file ?? loaded.paths.passwordFile, env);
  const extraArgs: string[] = [];
  if (location.startsWith("sftp:")) {
    // Always our own ssh command: BatchMode and pinned host keys, so ssh never asks anything.
    const cmd = sftpCommand(location, {
      key: repo.ssh_key ? expandHome(repo.ssh_key, env) : undefined,
      knownHosts: knownHostsOf(repo, loaded, env),
    });
    extraArgs.push("-o", csvField(`sftp.command=${cmd}`));
  }
  return {
    location,
    passwordFile,
    isDefault: passwordFile === loaded.paths.passwordFile,
    binary: repo.restic_binary,
    extraArgs,
    cacheDir: loaded.paths.resticCacheDir,
    envFile: repo.env_file ? expandHome(repo.env_file, env) : undefined,
    env: { ...repo.env },
    rcloneConfig: repo.rclone_config ? expandHome(repo.rclone_config, env) : undefined,
  };
}

/**
 * The known_hosts file stowage pins SSH host keys in (and `setup` adds trusted keys to):
 * repository.known_hosts when configured, otherwise `<state_dir>/known_hosts`.
 */
export function trustFile(loaded: LoadedConfig, env: Env = () => undefined): string {
  const configured = loaded.config.repository.known_hosts;
  return configured ? expandHome(configured, env) : `${loaded.paths.stateDir}/known_hosts`;
}

/**
 * Every known_hosts file ssh checks for the repository's host: the configured one alone, or
 * stowage's own file followed by the user's ~/.ssh/known_hosts (keys the operator already
 * trusted before stowage pinned its own; stowage never writes that file).
 */
export function knownHostsFiles(loaded: LoadedConfig, env: Env = () => undefined): string[] {
  return knownHostsOf(loaded.config.repository, loaded, env);
}

/** knownHostsFiles for any repository section (the primary's or a copy's). */
function knownHostsOf(repo: RepositorySection, loaded: LoadedConfig, env: Env): string[] {
  if (repo.known_hosts) return [expandHome(repo.known_hosts, env)];
  const own = `${loaded.paths.stateDir}/known_hosts`;
  const home = env("HOME");
  return home ? [own, `${home}/.ssh/known_hosts`] : [own];
}

/** What the CLI may say about the repository (after `init`, in doctor): never the password. */
export function describeRepository(
  loaded: LoadedConfig,
): { location: string; passwordFile: string; isDefault: boolean } {
  const s = repositorySettings(loaded);
  return {
    location: redactLocation(loaded.config.repository.location ?? s.location),
    passwordFile: s.passwordFile,
    isDefault: s.isDefault,
  };
}

/** `tailscale:PEER:/path` is sftp to the peer's MagicDNS name; everything else passes through. */
export function resticLocation(location: string): string {
  const m = location.match(/^tailscale:([^:]+):(.+)$/);
  return m ? `sftp:${m[1]}:${m[2]}` : location;
}

/** user, host and port of an sftp location (`sftp:user@host:/path`, `sftp://user@host:port//path`). */
export function parseSftpLocation(
  location: string,
): { user?: string; host: string; port?: string; path: string } {
  const url = location.match(/^sftp:\/\/(?:([^@/]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/(.*)$/);
  if (url) {
    return { user: url[1], host: url[2].replace(/^\[|\]$/g, ""), port: url[3], path: url[4] };
  }
  const short = location.match(/^sftp:(?:([^@:]+)@)?(\[[^\]]+\]|[^:]+):(.*)$/);
  if (short) return { user: short[1], host: short[2].replace(/^\[|\]$/g, ""), path: short[3] };
  throw new StowageError(
    "config.invalid",
    `Cannot use sftp location '${
      redactLocation(location)
    }': expected sftp:user@host:/path or sftp://user@host:port//path`,
    "Fix repository.location in the config.",
  );
}

/**
 * restic reads each `-o` value as one CSV record (a string-slice flag): a value holding a comma
 * or a double quote must be one quoted field, its quotes doubled.
 */
export function csvField(v: string): string {
  return /[",\r\n]/.test(v) || v.startsWith(" ") ? `"${v.replaceAll('"', '""')}"` : v;
}

/** restic splits sftp.command like a shell; quote what needs it. */
function shellWord(w: string): string {
  if (w.includes('"')) {
    throw new StowageError(
      "config.invalid",
      `Cannot use ${JSON.stringify(w)} in the ssh command for sftp: it contains a double quote`,
      "Rename the file or directory (repository.ssh_key, repository.known_hosts).",
    );
  }
  return /[\s'\\$`]/.test(w) ? `"${w}"` : w;
}

/**
 * The ssh command restic runs for sftp (its `-o sftp.command`): our key and known_hosts, never a
 * prompt (BatchMode), host keys checked strictly, a bounded connect. restic then ignores
 * host/user/port of the location and uses only its path.
 */
export function sftpCommand(
  location: string,
  opts: { key?: string; knownHosts?: string | string[] },
): string {
  const { user, host, port } = parseSftpLocation(location);
  const argv = ["ssh"];
  if (opts.key) argv.push("-i", opts.key, "-o", "IdentitiesOnly=yes");
  const files = typeof opts.knownHosts === "string" ? [opts.knownHosts] : opts.knownHosts ?? [];
  if (files.length > 0) {
    for (const f of files) {
      if (/\s/.test(f)) {
        throw new StowageError(
          "config.invalid",
          `Cannot use known_hosts file '${f}': its path contains white space`,
          "Move it to a path without spaces (repository.known_hosts, or the state directory).",
        );
      }
    }
    // ssh splits this option's value on spaces: several files in one word.
    argv.push("-o", `UserKnownHostsFile=${files.join(" ")}`, "-o", "StrictHostKeyChecking=yes");
  }
  argv.push("-o", "BatchMode=yes", "-o", "ConnectTimeout=30");
  if (port) argv.push("-p", port);
  if (user) argv.push("-l", user);
  argv.push(host, "-s", "sftp");
  return argv.map(shellWord).join(" ");
}

/** `repository.env_file`'s KEY=VALUE lines (the one parser, core/restore/env_file.ts). */
export function parseEnvFile(text: string, path: string): Record<string, string> {
  return parseKeyValues(text, `env file '${path}'`, "config.invalid");
}

/** Problems with a secret file's mode (group/other bits), as a warning line, or undefined. */
export function modeWarning(what: string, path: string, mode: number | null): string | undefined {
  if (mode === null || (mode & 0o077) === 0) return undefined;
  return `${what} '${path}' has mode ${
    (mode & 0o777).toString(8).padStart(4, "0")
  }; it should be 0600 (chmod 600 '${path}')`;
}

async function statOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw ioError(`read '${path}'`, e);
  }
}

/**
 * Creates the default password file without ever replacing one: the file is written and
 * fsynced under a temp name, then hard-linked into place, which fails if another process won
 * the race (its password then stands).
 */
async function createPasswordFile(path: string) {
  const dir = path.substring(0, path.lastIndexOf("/")) || "/";
  const tmp = `${dir}/.${path.substring(dir.length + 1)}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const f = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
    try {
      await Deno.chmod(tmp, 0o600);
      const bytes = new TextEncoder().encode(randomPassword(48) + "\n");
      let off = 0;
      while (off < bytes.length) off += await f.write(bytes.subarray(off));
      await f.sync();
    } finally {
      f.close();
    }
    try {
      await Deno.link(tmp, path);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  } catch (e) {
    throw ioError(`create the repository password file '${path}'`, e);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

export async function openRepository(
  loaded: LoadedConfig,
  opts: { runner: ProcessRunner; prepare: boolean; env: Env },
): Promise<BackupRepository> {
  return await openWith(repositorySettings(loaded, opts.env), opts);
}

/**
 * The copy named `name` (config `copies:`): its repository, and how its primary's `copy` reaches
 * it. Its password file must exist (no default is generated for a copy).
 */
export async function openCopy(
  loaded: LoadedConfig,
  name: string,
  opts: { env: Env },
): Promise<{ repo: BackupRepository; destination: CopyDestination }> {
  const repo = await openWith(copySettings(loaded, name, opts.env), { prepare: false });
  return { repo, destination: repo.asCopyDestination };
}

async function openWith(
  s: RepositorySettings,
  opts: { prepare: boolean },
): Promise<Restic> {
  const warnings: string[] = [];
  const key = s.configKey ?? "repository";

  let pw = await statOrUndefined(s.passwordFile);
  if (!pw && s.isDefault) {
    if (!opts.prepare) {
      throw new StowageError(
        "repo.missing",
        `Cannot open the default repository '${s.location}': it has no password file yet ('${s.passwordFile}')`,
        "Run `stowage admin repo init` (or a backup) to create it.",
      );
    }
    await createPasswordFile(s.passwordFile);
    log.info("Created the repository password file {path} (mode 0600)", { path: s.passwordFile });
    pw = await statOrUndefined(s.passwordFile);
  }
  if (!pw) {
    throw new StowageError(
      "repo.password",
      `Cannot open the repository '${
        redactLocation(s.location)
      }': password file '${s.passwordFile}' does not exist`,
      `Create it (mode 0600) holding the repository's password, or fix ${key}.password_file.`,
    );
  }
  if (!pw.isFile) {
    throw new StowageError(
      "repo.password",
      `Cannot use '${s.passwordFile}' as the repository password file: it is not a file`,
      `Point ${key}.password_file at a file holding the password.`,
    );
  }
  const pwWarning = modeWarning("Password file", s.passwordFile, pw.mode);
  if (pwWarning) warnings.push(pwWarning);

  let env = s.env;
  if (s.envFile) {
    let text: string;
    try {
      text = await Deno.readTextFile(s.envFile);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new StowageError(
          "config.invalid",
          `Cannot read ${key}.env_file '${s.envFile}': no such file`,
          `Create it (KEY=VALUE lines, mode 0600) or remove ${key}.env_file from the config.`,
        );
      }
      throw ioError(`read ${key}.env_file '${s.envFile}'`, e);
    }
    // Explicit config entries win over the file.
    env = { ...parseEnvFile(text, s.envFile), ...s.env };
    const envWarning = modeWarning(
      "Env file",
      s.envFile,
      (await statOrUndefined(s.envFile))?.mode ?? null,
    );
    if (envWarning) warnings.push(envWarning);
  }
  if (s.rcloneConfig) {
    // A path, never its contents, and only in restic's environment (argv is public): rclone's
    // config holds the remote's credentials.
    const st = await statOrUndefined(s.rcloneConfig);
    if (!st?.isFile) {
      throw new StowageError(
        "config.invalid",
        `Cannot use ${key}.rclone_config '${s.rcloneConfig}': ${
          st ? "it is not a file" : "no such file"
        }`,
        `Point ${key}.rclone_config at rclone's config file (mode 0600), e.g. one written by \`rclone config\`.`,
      );
    }
    const w = modeWarning("rclone config", s.rcloneConfig, st.mode);
    if (w) warnings.push(w);
    env = { ...env, RCLONE_CONFIG: s.rcloneConfig };
  }
  for (const w of warnings) log.warning(w);

  return new Restic({
    binary: s.binary,
    location: s.location,
    passwordFile: s.passwordFile,
    env,
    extraArgs: s.extraArgs,
    cacheDir: s.cacheDir,
    warnings,
  });
}
