/** Finds, reads and writes the config file. Reading never writes. */
import { StowageError } from "../core/errors.ts";
import { type Config, defaultConfig } from "../core/config/schema.ts";
import { parseConfigText } from "../core/config/validate.ts";
import type { StowagePaths } from "../core/paths.ts";
import { resolvePaths } from "../core/paths.ts";
import { stringify } from "yaml";
import { writeFileAtomic } from "./files.ts";

export interface ConfigLocation {
  path: string;
  /** true when named by --config or STOWAGE_CONFIG: then it must exist. */
  explicit: boolean;
}

export function locateConfig(flag: string | undefined, env: (n: string) => string | undefined, paths: StowagePaths): ConfigLocation {
  if (flag) return { path: flag, explicit: true };
  const fromEnv = env("STOWAGE_CONFIG");
  if (fromEnv) return { path: fromEnv, explicit: true };
  return { path: paths.configFile, explicit: false };
}

export async function readConfig(loc: ConfigLocation): Promise<{ config: Config; path?: string }> {
  let text: string;
  try {
    text = await Deno.readTextFile(loc.path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      if (!loc.explicit) return { config: defaultConfig() };
      throw new StowageError(
        "config.missing",
        `Cannot read config '${loc.path}': no such file`,
        "Create one with `stowage admin config new --config PATH`, or drop --config/STOWAGE_CONFIG to use the defaults.",
      );
    }
    if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
      throw new StowageError(
        "config.unreadable",
        `Cannot read config '${loc.path}': permission denied`,
        "Run as root (sudo), or make the file readable by this user (it holds secrets: keep it 0600).",
      );
    }
    if (e instanceof Deno.errors.IsADirectory) {
      throw new StowageError("config.unreadable", `Cannot read config '${loc.path}': it is a directory`, "Point --config at the YAML file itself.");
    }
    throw e;
  }
  return { config: parseConfigText(text, loc.path), path: loc.path };
}

/** Paths with config overrides applied (state_dir moves everything under it). */
export function applyConfigPaths(base: StowagePaths, config: Config, env: (n: string) => string | undefined, uid: number | null): StowagePaths {
  if (!config.state_dir || env("STOWAGE_STATE_DIR")) return base;
  return resolvePaths({ uid, env: (n) => (n === "STOWAGE_STATE_DIR" ? config.state_dir : env(n)) });
}

const HEADER = "# stowage configuration. Keys and meanings: `stowage admin config schema`, docs/config.md.\n";

/** Serialises only what differs from nothing: the file stays short and readable. */
export function configToYaml(raw: unknown): string {
  return HEADER + stringify(raw, { lineWidth: 0 });
}

export async function writeConfig(path: string, raw: unknown) {
  await writeFileAtomic(path, configToYaml(raw), 0o600);
}
