export const VERSION = "0.1.0";
/**
 * Bumped when the on-repository layout (tags, recipe format) changes incompatibly.
 * 2: a backup run ends each unit with a `type=complete` marker; points without one are incomplete.
 * 3: a unit's volume folders and bind mounts are saved by one restic pass into one `type=data`
 *    snapshot whose `item=` tags map each snapshot path back to its volume or bind mount.
 * 4: no `type=network` snapshot: restore reads the unit's networks from the recipe's
 *    `unit.networks` (the same list, never redacted), so both come from one `restic dump`.
 */
export const FORMAT_VERSION = 4;
