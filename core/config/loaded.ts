/**
 * A validated config together with where it came from and the paths it implies. Read once per
 * command (main.ts's `loadConfig`) and handed down to the app layer and the adapters.
 */
import type { Config } from "./schema.ts";
import type { StowagePaths } from "../paths.ts";

export interface LoadedConfig {
  config: Config;
  /** The file it came from; undefined when the embedded default is in use. */
  path?: string;
  /** Paths with config.state_dir applied. */
  paths: StowagePaths;
}
