import type { ErrorCode } from "../core/errors.ts";

/**
 * The one mapping from error codes to process exit codes. docs/exit-codes.md publishes it as a
 * contract for scripts; `exit_codes_test.ts` keeps the two in step.
 */
export const EXIT_CODES: Record<ErrorCode | "ok" | "bug", number> = {
  ok: 0,
  bug: 1,
  usage: 2,
  "config.missing": 3,
  "config.unreadable": 3,
  "config.parse": 3,
  "config.invalid": 3,
  "dependency.missing": 4,
  "engine.unavailable": 5,
  "engine.permission": 5,
  "engine.notfound": 6,
  "engine.error": 5,
  "unit.notfound": 6,
  "snapshot.notfound": 6,
  "snapshot.incomplete": 6,
  "repo.missing": 7,
  "repo.password": 8,
  "repo.locked": 9,
  "repo.error": 10,
  "repo.appendonly": 10,
  "lock.held": 11,
  "backup.failed": 12,
  "restore.failed": 13,
  "restore.conflict": 14,
  "hook.failed": 15,
  "bundle.invalid": 16,
  "bundle.password": 17,
  "not.terminal": 18,
  unhealthy: 19,
  io: 20,
  "restore.untrusted": 21,
  "notify.failed": 25,
  "verify.failed": 22,
  "verify.unverifiable": 23,
  "verify.refused": 24,
  interrupted: 130,
};
