/**
 * What restore refuses to take from a repository. Tags and recipes are written by whoever holds
 * the repository password, which may be another host or a thief, so a restore point that carries
 * a snapshot with invalid tags (core/tags.ts) is refused as a whole, and every folder and file the
 * plan writes must resolve inside its place: `--to-dir`, the unit's working directory, the
 * volume's folder, or a bind folder under the safe roots (core/safe_paths.ts). Pure.
 */
import { posix } from "node:path";
import { StowageError } from "../errors.ts";
import type { SnapshotInfo } from "../model.ts";
import { isSafeBindPath, isWithin, normalizePath, UNSAFE_TREES } from "../safe_paths.ts";

const HINT_TAMPERED =
  "Nothing was changed. Someone with write access to the repository may have altered it: check who " +
  "can write to it, run `stowage admin repo check`, and restore another point (`stowage restore --unit NAME --list`).";

/** Snapshots of the unit whose tags were refused, oldest backup id first. */
export function invalidSnapshots(snapshots: SnapshotInfo[], unit: string): SnapshotInfo[] {
  return snapshots.filter((s) => s.invalid !== undefined && s.unit === unit)
    .sort((a, b) => (a.backupId ?? "").localeCompare(b.backupId ?? ""));
}

/** Refuses a restore point that holds a snapshot with invalid tags. */
export function refuseTamperedPoint(snapshots: SnapshotInfo[], unit: string, backupId: string) {
  const bad = invalidSnapshots(snapshots, unit).filter((s) => s.backupId === backupId);
  if (bad.length === 0) return;
  throw new StowageError(
    "restore.untrusted",
    `Cannot restore '${unit}' from ${backupId}: snapshot ${bad[0].shortId} has invalid tags (${
      clip(bad[0].invalid!)
    })`,
    `${HINT_TAMPERED}${
      bad.length > 1 ? ` ${bad.length} snapshots of this point are refused.` : ""
    }`,
  );
}

/** A repository document (recipe, networks) that fails its schema or names the wrong unit. */
export function untrustedDocument(
  what: string,
  unit: string,
  backupId: string,
  problems: string[],
): StowageError {
  return new StowageError(
    "restore.untrusted",
    `Cannot restore '${unit}' from ${backupId}: its ${what} is invalid (${clip(problems[0])}${
      problems.length > 1 ? `; ${problems.length - 1} more problem(s)` : ""
    })`,
    HINT_TAMPERED,
  );
}

/** A planned write outside its place. */
export function outsideError(unit: string, what: string, path: string, place: string) {
  return new StowageError(
    "restore.untrusted",
    `Cannot restore '${unit}': ${what} ${clip(path)} is outside ${place}`,
    HINT_TAMPERED,
  );
}

/** `path` lexically normalised, and inside `root` (not `root` itself unless `allowRoot`). */
export function resolveInside(
  root: string,
  path: string,
  opts: { allowRoot?: boolean } = {},
): string | undefined {
  const r = normalizePath(root);
  const p = normalizePath(path);
  if (r === undefined || p === undefined || !isWithin(p, r)) return undefined;
  if (p === r && !opts.allowRoot) return undefined;
  return p;
}

/** `--to-dir` made absolute and normalised: `/` stays `/`, `/tmp/x/` becomes `/tmp/x`. */
export function normalizeToDir(dir: string): string {
  const n = normalizePath(dir);
  if (n === undefined) {
    throw new StowageError(
      "usage",
      `Cannot restore into '${dir}': --to-dir must be an absolute path`,
      "Give an absolute directory, e.g. --to-dir /tmp/restore.",
    );
  }
  return n;
}

/** Why a bind folder may not be written in place; undefined when it may. */
export function unsafeBindTarget(path: string, extraUnsafe: readonly string[] = []) {
  if (normalizePath(path) !== path) return "not a normalised absolute path";
  const v = isSafeBindPath(path, extraUnsafe);
  return v.safe ? undefined : v.reason;
}

/**
 * Why the recipe's working directory may not receive compose files; undefined when it may. A whole
 * tree like /etc or /usr may not; a folder that is too large to save as a bind (/srv, /root) may.
 */
export function unsafeWorkingDir(wd: string): string | undefined {
  if (normalizePath(wd) !== wd) return "not a normalised absolute path";
  if (wd === "/") return "the whole host file system (/)";
  for (const u of UNSAFE_TREES) if (isWithin(wd, u.path)) return u.reason;
  if (posix.basename(wd).endsWith(".sock")) return "a socket";
  return undefined;
}

/** File mode bits restore applies: permissions only, never setuid, setgid or sticky. */
export function safeMode(mode: number): number {
  return mode & 0o777;
}

function clip(s: string): string {
  // deno-lint-ignore no-control-regex
  const line = s.replaceAll(/[\u0000-\u001f\u007f]/g, "?");
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}
