/**
 * The file system as restore needs it: probing folders, staging next to a target on the same file
 * system, swapping by rename, atomic file writes. adapters/restore_files.ts implements it.
 */
import type { PathState } from "./plan.ts";

export interface RestoreFiles {
  /** absent, empty, holding entries (`data`), or not listable by this process (`unreadable`). */
  probeDir(path: string): Promise<PathState>;
  /** The file's text, or null when it does not exist (or is not a regular file). */
  readText(path: string): Promise<string | null>;
  /** Atomic (temp file, fsync, rename), with `mode` from the first byte; parents are created. */
  writeFile(path: string, content: string | Uint8Array, mode: number): Promise<void>;
  /** mkdir -p. */
  mkdirp(path: string): Promise<void>;
  /** A new empty folder beside `path` (same parent, so the same file system): `<path>.<tag>-XXXXXX`. */
  makeSibling(path: string, tag: string): Promise<string>;
  /**
   * The mount point holding each path (or its nearest existing ancestor), symlinks resolved, in
   * the order given; undefined when unknown. rename(2) works within one mount only, so folders of
   * one mount can share a staging folder.
   */
  mountsOf?(paths: string[]): Promise<(string | undefined)[]>;
  /** rename(2): atomic within one file system. */
  rename(from: string, to: string): Promise<void>;
  /** rm -rf; a missing path is not an error. */
  removeTree(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Entry names of a folder (names that are not valid UTF-8 never occur at the roots we list). */
  list(path: string): Promise<string[]>;
}
