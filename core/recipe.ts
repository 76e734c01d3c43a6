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
  kind: "compose" | "env";
  mode: number;
  content: string;
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
}

export interface NetworksDocument {
  format: number;
  backupId: string;
  unit: string;
  networks: NetworkInfo[];
}
