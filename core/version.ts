export const VERSION = "0.1.0";
/** Bumped when the on-repository layout (tags, recipe format) changes incompatibly. */
export const FORMAT_VERSION = 1;
