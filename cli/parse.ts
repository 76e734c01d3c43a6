/** Flag values shared by several commands, parsed once (usage errors on bad input). */
import { usageError } from "./mod.ts";
import type { Scope } from "../core/model.ts";
import { SCOPES } from "../core/model.ts";
import { errorMessage } from "../core/errors.ts";
import { shownName } from "../core/text.ts";
import { StowageError } from "../core/errors.ts";
import { parseEnvFile } from "../core/restore/env_file.ts";
import { backupIdTime } from "../core/tags.ts";

/**
 * `--backup-id ID`: only the shape is checked here; a well-formed id that names no backup gets
 * the nearest ids from the lookup.
 */
export function parseBackupId(raw: string): string {
  const id = raw.trim();
  if (!backupIdTime(id)) {
    throw usageError(
      `Cannot use --backup-id '${shownName(raw)}': not a backup id`,
      "A backup id is the UTC start time of a run, like 2025-01-31T23-59-59Z (`stowage restore --list` shows them).",
    );
  }
  return id;
}

export function parseScope(value: string | undefined): Scope | undefined {
  if (value === undefined) return undefined;
  if (!SCOPES.includes(value as Scope)) {
    throw usageError(`Unknown scope '${value}'`, "Use minimal, standard or full.");
  }
  return value as Scope;
}

export function parseSeconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw usageError(
      `${flag} expects a whole number of seconds, got '${value}'`,
      `e.g. ${flag} 600`,
    );
  }
  return n;
}

/**
 * --to-dir is checked before anything is read or planned: a dry run must fail where the real
 * run would (an existing file there), and an empty or control-character path is a mistake.
 */
export async function checkToDir(dir: string): Promise<void> {
  const bad = (why: string, hint = "Name a directory (it is created when missing).") =>
    usageError(`Cannot restore into --to-dir '${shownName(dir)}': ${why}`, hint);
  if (dir.trim() === "") throw bad("the path is empty");
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(dir)) throw bad("it contains a control character");
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    if (e instanceof Deno.errors.NotADirectory) throw bad("a part of the path is a file");
    if (e instanceof Deno.errors.FilesystemLoop) throw bad("its symbolic links loop");
    throw bad(`it cannot be checked (${errorMessage(e)})`);
  }
  if (!info.isDirectory) throw bad("it exists and is not a directory");
}

export function absolute(p: string): string {
  return p.startsWith("/") ? p : `${Deno.cwd()}/${p}`.replace(/\/\.\/?/g, "/");
}

/** --env-file: KEY=VALUE values for redacted variables (restore, verify). */
export async function readEnvFile(path: string): Promise<Record<string, string>> {
  let text: string;
  const bad = (why: string) =>
    new StowageError(
      "usage",
      `Cannot read --env-file '${shownName(path)}': ${why}`,
      "Give a readable KEY=VALUE file (keep it 0600).",
    );
  try {
    // A FIFO or device would block the read for good.
    if (!(await Deno.stat(path)).isFile) throw bad("it is not a regular file");
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof StowageError) throw e;
    throw bad(e instanceof Deno.errors.NotFound ? "no such file" : "not readable");
  }
  return parseEnvFile(text, `--env-file '${path}'`);
}
