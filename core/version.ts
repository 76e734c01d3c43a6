export const VERSION = "0.1.0";
/**
 * Bumped when the on-repository layout (tags, recipe format) changes incompatibly.
 * 2: a backup run ends each unit with a `type=complete` marker; points without one are incomplete.
 */
export const FORMAT_VERSION = 2;
