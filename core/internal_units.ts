/**
 * Names under which stowage keeps snapshots that belong to no one unit. Real unit names never
 * start with `_` (compose project and container names start with a letter or digit).
 */

/** The Docker daemon's own configuration (scope `full`). */
export const HOST_UNIT = "_host";
/** Images with no repo digest, one snapshot per image id, shared by units (docs/format.md). */
export const IMAGES_UNIT = "_images";

export function isInternalUnit(name: string | undefined): boolean {
  return name === HOST_UNIT || name === IMAGES_UNIT;
}
