/**
 * Expected failures carry a stable code, a one-line message that names the action and the value,
 * and a hint that says what to do next. The CLI maps codes to exit codes in one table
 * (`cli/exit_codes.ts`); anything that is not a StowageError is a bug and keeps its stack.
 */

export type ErrorCode =
  | "usage" // bad flags or arguments
  | "config.missing" // an explicitly named config file does not exist
  | "config.unreadable" // exists but cannot be read (permissions)
  | "config.parse" // malformed YAML
  | "config.invalid" // schema violations (all listed at once)
  | "dependency.missing" // restic, docker-compose, ... not installed
  | "engine.unavailable" // Docker Engine not running / socket missing
  | "engine.permission" // socket permission denied
  | "engine.notfound" // container/volume/network not found
  | "engine.error" // any other Engine API error
  | "repo.missing" // repository does not exist / not initialised
  | "repo.password" // wrong repository password
  | "repo.locked" // repository locked by another process
  | "repo.appendonly" // the backend refuses deletion (append-only REST server)
  | "repo.error" // any other restic failure
  | "lock.held" // another stowage backup holds the host lock
  | "unit.notfound" // unknown unit name
  | "snapshot.notfound" // unknown backup id / no restore point
  | "snapshot.incomplete" // the chosen restore point is incomplete and --allow-incomplete was not given
  | "backup.failed" // at least one unit failed
  | "restore.failed"
  | "restore.conflict" // would overwrite something without permission
  | "restore.untrusted" // the repository's tags or recipe name a path or setting restore refuses
  | "hook.failed"
  | "bundle.invalid" // truncated / tampered / manifest mismatch / newer version
  | "bundle.password" // wrong bundle password
  | "not.terminal" // an interactive step was needed but stdin is not a terminal
  | "unhealthy" // doctor found problems
  | "notify.failed" // `admin notify test`: a target did not accept the test message
  | "verify.failed" // a restore drill's sandbox did not come up healthy or its data differs
  | "verify.unverifiable" // a unit cannot be brought up in a sandbox (reason given)
  | "verify.refused" // a restore drill would not fit on this host (free disk)
  | "interrupted" // SIGINT / SIGTERM
  | "io"; // file system error on a path we were told to use

export class StowageError extends Error {
  override name = "StowageError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown; details?: string[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.details = options?.details ?? [];
  }
  /** Extra lines (e.g. every config problem), printed under the message. */
  readonly details: string[];
}

export function isStowageError(e: unknown, code?: ErrorCode): e is StowageError {
  return e instanceof StowageError && (code === undefined || e.code === code);
}

/** Message of any thrown value, without a stack. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
