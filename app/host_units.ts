/**
 * The units on this host as a backup would discover them (the same discovery options), for
 * commands that add live information to what the repository says (`admin snapshot list`,
 * `admin hooks`). The Engine may be unreachable (a new host, a stopped daemon): that is an answer,
 * not an error, and the caller says what it could not show.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import type { Unit } from "../core/model.ts";
import { discoverUnits } from "../core/discovery.ts";
import { errorMessage } from "../core/errors.ts";
import type { Services } from "./services.ts";

export type HostUnits = { units: Unit[] } | { unreachable: string };

export async function hostUnits(
  svc: Pick<Services, "engine">,
  loaded: LoadedConfig,
): Promise<HostUnits> {
  try {
    const state = await svc.engine(loaded).gatherState();
    return { units: discoverUnits(state, { unsafePaths: loaded.config.backup.unsafe_paths }) };
  } catch (e) {
    return { unreachable: errorMessage(e) };
  }
}
