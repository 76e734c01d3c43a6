export const VERSION = "0.1.0";
/**
 * Bumped when the on-repository layout (tags, recipe format) changes incompatibly.
 * 2: a backup run ends each unit with a `type=complete` marker; points without one are incomplete.
 * 3: a unit's volume folders and bind mounts are saved by one restic pass into one `type=data`
 *    snapshot whose `item=` tags map each snapshot path back to its volume or bind mount.
 */
export const FORMAT_VERSION = 3;
