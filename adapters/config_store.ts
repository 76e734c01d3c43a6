/**
 * Finds, reads and writes the config file, its password file, and runs the editor for
 * `admin config edit`. Reading never writes. Writes are atomic (temp file + fsync + rename),
 * mode 0600, and a created parent directory is 0700.
 */
import { StowageError } from "../core/errors.ts";
import { type Config, defaultConfig } from "../core/config/schema.ts";
import { parseConfigText } from "../core/config/validate.ts";
import { type ConfigLocation, configToYaml } from "../core/config/files.ts";
import { exists, ioError, randomPassword, writeFileAtomic } from "./files.ts";
import { spawnError } from "./process.ts";

export {
  applyConfigPaths,
  type ConfigLocation,
  configToYaml,
  locateConfig,
} from "../core/config/files.ts";

/** A config file is small; anything bigger is the wrong file (or an attack on memory). */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

function unreadable(
  loc: ConfigLocation,
  why: string,
  hint = "Point --config at the YAML file itself.",
): StowageError {
  return new StowageError("config.unreadable", `Cannot read config '${loc.path}': ${why}`, hint);
}

/**
 * The file's text, or undefined when the default location holds no file (the embedded default
 * is then in use). An explicit location that does not exist is an error. Only a regular file is
 * read: a FIFO or a device would block the read (and every signal) forever.
 */
export async function readConfigText(loc: ConfigLocation): Promise<string | undefined> {
  try {
    const st = await Deno.stat(loc.path);
    if (st.isDirectory) throw unreadable(loc, "it is a directory");
    if (!st.isFile) throw unreadable(loc, "it is not a regular file (a FIFO, socket or device)");
    if (st.size > MAX_CONFIG_BYTES) {
      throw unreadable(
        loc,
        `it is ${st.size} bytes, more than a config file can be (${MAX_CONFIG_BYTES})`,
      );
    }
    const bytes = await Deno.readFile(loc.path);
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
      throw unreadable(loc, "it is not UTF-8 text", "Save the file as UTF-8 (YAML is text).");
    }
  } catch (e) {
    if (e instanceof StowageError) throw e;
    if (e instanceof Deno.errors.NotFound) {
      if (!loc.explicit) return undefined;
      throw new StowageError(
        "config.missing",
        `Cannot read config '${loc.path}': no such file`,
        "Create one with `stowage admin config new --config PATH`, or drop --config/STOWAGE_CONFIG to use the defaults.",
      );
    }
    if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
      throw unreadable(
        loc,
        "permission denied",
        "Run as root (sudo), or make the file readable by this user (it holds secrets: keep it 0600).",
      );
    }
    if (e instanceof Deno.errors.IsADirectory) throw unreadable(loc, "it is a directory");
    if (e instanceof Deno.errors.FilesystemLoop) {
      throw unreadable(loc, "its symbolic links loop", "Point --config at the YAML file itself.");
    }
    if (e instanceof Deno.errors.NotADirectory) {
      throw unreadable(loc, "a part of the path is a file, not a directory");
    }
    throw ioError(`read config '${loc.path}'`, e);
  }
}

export async function readConfig(loc: ConfigLocation): Promise<{ config: Config; path?: string }> {
  const text = await readConfigText(loc);
  if (text === undefined) return { config: defaultConfig() };
  return { config: parseConfigText(text, loc.path), path: loc.path };
}

export async function writeConfig(path: string, raw: unknown) {
  await writeConfigText(path, configToYaml(raw));
}

/** Writes text as given (comments kept), atomically, 0600. */
export async function writeConfigText(path: string, text: string) {
  await writeFileAtomic(path, text, 0o600);
}

export function configExists(path: string): Promise<boolean> {
  return exists(path);
}

/** Keeps a copy of the current file as `<path>.bak` (0600) before it is replaced. */
export async function backupConfig(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw ioError(`read config '${path}'`, e);
  }
  const bak = `${path}.bak`;
  await writeFileAtomic(bak, text, 0o600);
  return bak;
}

/**
 * Creates a password file with 48 random characters (0600) when none exists. The password is
 * never returned: callers only learn whether it was created.
 */
export async function ensurePasswordFile(path: string): Promise<"created" | "exists"> {
  try {
    const st = await Deno.stat(path);
    if (st.isDirectory) {
      throw new StowageError(
        "io",
        `Cannot use password file '${path}': it is a directory`,
        "Name a file, e.g. /etc/stowage/repository.password.",
      );
    }
    if (st.size === 0) {
      throw new StowageError(
        "io",
        `Cannot use password file '${path}': it is empty`,
        "Put the repository password in it, or remove it to have a random one generated.",
      );
    }
    return "exists";
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      if (e instanceof StowageError) throw e;
      throw ioError(`check password file '${path}'`, e);
    }
  }
  await writeFileAtomic(path, randomPassword(48), 0o600);
  return "created";
}

/** File mode (permission bits), or undefined when the file does not exist. */
export async function fileMode(path: string): Promise<number | undefined> {
  try {
    return ((await Deno.stat(path)).mode ?? 0) & 0o777;
  } catch {
    return undefined;
  }
}

/**
 * A private copy of the config for an editor: a 0700 temp dir holding `config.yaml` (0600).
 * `dispose()` removes it; use with `await using`.
 */
export async function privateCopy(text: string): Promise<
  { path: string; read(): Promise<string>; [Symbol.asyncDispose](): Promise<void> }
> {
  const dir = await Deno.makeTempDir({ prefix: "stowage-config-" });
  await Deno.chmod(dir, 0o700);
  const path = `${dir}/config.yaml`;
  await writeFileAtomic(path, text, 0o600);
  return {
    path,
    read: () => Deno.readTextFile(path),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}

/** Runs the editor attached to this terminal and returns its exit code. */
export async function runEditor(program: string, args: string[]): Promise<number> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (e) {
    throw spawnError(program, e);
  }
  return (await child.status).code;
}
