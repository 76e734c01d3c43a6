/**
 * Where the config file is and how one is written, as pure functions: which file (--config,
 * STOWAGE_CONFIG or the default), the paths a config's `state_dir` moves, and the YAML text of a
 * config document. Reading and writing the file is adapters/config_store.ts.
 */
import { StowageError } from "../errors.ts";
import type { Config } from "./schema.ts";
import { resolvePaths, type StowagePaths } from "../paths.ts";
import { stringify } from "yaml";

export interface ConfigLocation {
  path: string;
  /** true when named by --config or STOWAGE_CONFIG: then it must exist. */
  explicit: boolean;
}

export function locateConfig(
  flag: string | undefined,
  env: (n: string) => string | undefined,
  paths: StowagePaths,
): ConfigLocation {
  if (flag !== undefined) {
    // `--config "$UNSET_VAR"` must not quietly fall back to the default file.
    if (flag.trim() === "") {
      throw new StowageError(
        "usage",
        "Cannot use --config '': the path is empty",
        "Give the config file's path, or leave --config out to use the default.",
      );
    }
    return { path: flag, explicit: true };
  }
  const fromEnv = env("STOWAGE_CONFIG");
  if (fromEnv) return { path: fromEnv, explicit: true };
  return { path: paths.configFile, explicit: false };
}

/** Paths with config overrides applied (state_dir moves everything under it). */
export function applyConfigPaths(
  base: StowagePaths,
  config: Config,
  env: (n: string) => string | undefined,
  uid: number | null,
): StowagePaths {
  if (!config.state_dir || env("STOWAGE_STATE_DIR")) return base;
  return resolvePaths({
    uid,
    env: (n) => (n === "STOWAGE_STATE_DIR" ? config.state_dir : env(n)),
  });
}

const HEADER =
  "# stowage configuration. Keys and meanings: `stowage admin config schema`, docs/config.md.\n" +
  "# Check it with `stowage admin config validate`; edit it with `stowage admin config edit`.\n";

/** Serialises only what differs from nothing: the file stays short and readable. */
export function configToYaml(raw: unknown): string {
  return HEADER + stringify(raw, { lineWidth: 0 });
}
