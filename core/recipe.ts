/**
 * The recipe: everything needed to bring a unit back besides its data. Stored as /recipe.json
 * in the unit's `type=recipe` snapshot (docs/format.md). Restore needs nothing else.
 */
import type { EngineContainer } from "./engine_types.ts";
import type { NetworkInfo, Scope, Unit } from "./model.ts";

// The redaction rules live in core/secrets.ts; these names stay importable from here.
export { REDACTED, SECRET_NAME_PARTS } from "./secrets.ts";
export const RECIPE_FILE = "/recipe.json";
export const NETWORKS_FILE = "/networks.json";

export interface RecipeFile {
  /** Absolute path on the host it came from. */
  path: string;
  /**
   * `compose` and `env` (the project's .env) as before; files the compose files reference:
   * `env_file`, `extends`, `config`, and `build` (every file of a build context, and its Dockerfile).
   */
  kind: "compose" | "env" | "env_file" | "extends" | "config" | "build";
  mode: number;
  /** UTF-8 text, or base64 when `encoding` says so (binary files of a build context). */
  content: string;
  encoding?: "base64";
}

/** An image no registry can give back, saved with the Engine's image export (docs/format.md). */
export interface RecipeImage {
  /** The reference the containers were created with, e.g. `myapp-built:1`. */
  reference: string;
  /** Image id, `sha256:...`. */
  id: string;
  /** The `type=image` snapshot holding `/<id without sha256:>.tar` (`docker save` format). */
  snapshotId: string;
  /** File path inside that snapshot. */
  file: string;
  /** Bytes of the export, when known. */
  size?: number;
}

export interface Recipe {
  format: number;
  stowageVersion: string;
  backupId: string;
  scope: Scope;
  /** ISO 8601 UTC. */
  createdAt: string;
  host: string;
  /** The unit as discovered; container/volume labels and volume driver options redacted. */
  unit: Unit;
  files: RecipeFile[];
  /** `docker inspect` of each container, secrets redacted. */
  containers: EngineContainer[];
  /** Locally built or loaded images (no repo digest) saved in the repository; absent when none. */
  images?: RecipeImage[];
}

export interface NetworksDocument {
  format: number;
  backupId: string;
  unit: string;
  networks: NetworkInfo[];
}
