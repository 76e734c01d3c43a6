/**
 * restic failures become typed StowageErrors here, once. restic 0.14 exits 1 for most fatal
 * errors (the distinct codes 10, 11 and 12 arrived in 0.17), so the class comes from its stderr;
 * the exit code decides only for 3 (some source data unreadable) and 130 (interrupted), plus the
 * 0.17+ codes when a newer restic is configured.
 */
import { StowageError } from "../../core/errors.ts";
import { redactLocation, redactText } from "../../core/secrets.ts";

/** restic's exit codes (doc/075_scripting.rst). */
export const RESTIC_EXIT = {
  ok: 0,
  fatal: 1,
  partial: 3,
  repoMissing: 10, // 0.17+
  locked: 11, // 0.17+
  wrongPassword: 12, // 0.17+
  interrupted: 130,
} as const;

// deno-lint-ignore no-control-regex -- restic prints ESC[2K before some stderr lines
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

const GO_FRAME = /^[a-z][\w.\-/]*(\.\(\*?\w+\))?\.\w[\w.]*$/;
const GO_FILE = /^\t\S+\.(go|s):\d+( \+0x[0-9a-f]+)?$/;

/** Keeps the last `max` non-empty stderr lines, without terminal control codes. */
export class StderrTail {
  readonly #lines: string[] = [];
  #partial = "";
  constructor(readonly max = 20) {}
  push(text: string) {
    const parts = (this.#partial + text).split(/\r?\n|\r/);
    this.#partial = parts.pop() ?? "";
    for (const p of parts) this.#add(p);
  }
  #add(line: string) {
    const clean = line.replace(ANSI, "").trimEnd();
    if (!clean.trim()) return;
    // A Go stack trace (restic prints one after some fatal errors) would push the error itself
    // out of the tail: its frames carry no meaning for the user.
    if (GO_FRAME.test(clean) || GO_FILE.test(clean)) return;
    this.#lines.push(clean);
    if (this.#lines.length > this.max) this.#lines.shift();
  }
  lines(): string[] {
    if (this.#partial) {
      this.#add(this.#partial);
      this.#partial = "";
    }
    return [...this.#lines];
  }
}

// The one location-redaction rule (core/secrets.ts), re-exported for the adapter's callers.
export { redactLocation };

function redactLines(lines: string[], location: string): string[] {
  const safe = redactLocation(location);
  return lines.map((l) =>
    redactText(location && l.includes(location) ? l.split(location).join(safe) : l)
  );
}

function lastMeaningful(lines: string[]): string {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i].replace(/^Fatal:\s*/, "").trim();
    if (l && !l.startsWith("[") && !l.startsWith("{")) return l;
  }
  return "no error message";
}

/** The location restic names after "Is there a repository at the following location?". */
function namedLocation(lines: string[]): string | undefined {
  const i = lines.findIndex((l) => l.includes("Is there a repository at the following location?"));
  return i >= 0 && i + 1 < lines.length ? lines[i + 1].trim() : undefined;
}

/**
 * Turns a failed restic run into a StowageError. `action` reads after "Cannot", e.g.
 * "list snapshots"; `location` is the repository (redacted before it is shown).
 */
export function classifyResticFailure(
  exitCode: number,
  stderrTail: string[],
  action: string,
  location: string,
): StowageError {
  const lines = redactLines(stderrTail, location);
  const f: Failure = {
    exitCode,
    action,
    lines,
    text: lines.join("\n"),
    where: redactLocation(namedLocation(lines) ?? location),
    details: lines.slice(-5),
  };
  // In this order: an interruption, then what the server or the way to it said (restic 0.14 asks
  // "Is there a repository...?" after those too), then the repository's own state.
  return interruption(f) ?? serverFailure(f) ?? repositoryFailure(f) ?? otherFailure(f);
}

/** One failed restic run, its stderr redacted. */
interface Failure {
  exitCode: number;
  action: string;
  lines: string[];
  text: string;
  /** The repository as the message may name it (no credentials). */
  where: string;
  /** restic's last lines, for the error's details. */
  details: string[];
}

function interruption({ exitCode, text, action, where }: Failure): StowageError | undefined {
  if (exitCode === RESTIC_EXIT.interrupted || /signal interrupt received/.test(text)) {
    return new StowageError(
      "interrupted",
      `Interrupted while trying to ${action} (repository '${where}')`,
      "Nothing was committed by the interrupted restic run; run the command again.",
    );
  }
  return undefined;
}

/** The server or the way to it: down, refusing the credentials, TLS, append-only, rclone. */
function serverFailure({ text, action, where, details }: Failure): StowageError | undefined {
  const down = text.match(
    /(connection refused|no such host|i\/o timeout|network is unreachable|no route to host|connection reset by peer)/i,
  );
  if (down) {
    return new StowageError(
      "repo.error",
      `Cannot ${action}: the repository's server does not answer (${
        down[1].toLowerCase()
      }; repository '${where}')`,
      "Start the backend server or fix the network, then run `stowage doctor`.",
      { details },
    );
  }
  const refused = text.match(/\((401|403)\): (401 Unauthorized|403 Forbidden)/);
  if (refused && !/not removed|Remove\(/.test(text)) {
    return new StowageError(
      "repo.error",
      `Cannot ${action}: the repository's server refused stowage's credentials (HTTP ${
        refused[1]
      }; repository '${where}')`,
      "Fix the user and password in repository.location (rest:https://USER:PASSWORD@host/) or the backend credentials in repository.env / env_file.",
      { details },
    );
  }
  // restic 0.14 over sftp: ssh exited before the session began (server down, login refused,
  // host key not trusted; ssh's own reason went to restic's terminal-less stderr, or nowhere).
  if (
    /unable to start the sftp session/.test(text) &&
    !/Host key verification failed|REMOTE HOST IDENTIFICATION/.test(text)
  ) {
    return new StowageError(
      "repo.error",
      `Cannot ${action}: the SFTP server did not start a session (ssh could not connect, log in or check the host key; repository '${where}')`,
      "Check that the server answers, accepts the key (repository.ssh_key) and that its host key is pinned (`stowage setup` shows and pins it); `ssh -p PORT USER@HOST` tells which.",
      { details },
    );
  }
  // S3's answers to keys it does not accept (AWS and S3-compatible servers word them alike).
  const s3Refused = text.match(
    /(The AWS Access Key Id you provided does not exist in our records|The request signature we calculated does not match|InvalidAccessKeyId|SignatureDoesNotMatch|Access Denied)/,
  );
  if (s3Refused) {
    return new StowageError(
      "repo.error",
      `Cannot ${action}: the repository's server refused stowage's credentials (${
        s3Refused[1].replace(/\.$/, "")
      }; repository '${where}')`,
      "Fix AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in repository.env_file or repository.env.",
      { details },
    );
  }
  const tls = text.match(/x509: ([^\n"]*)/);
  if (tls) {
    return new StowageError(
      "repo.error",
      `Cannot ${action}: the repository server's TLS certificate is not trusted (x509: ${
        tls[1].trim()
      }; repository '${where}')`,
      "For a server with its own certificate authority, set SSL_CERT_FILE to that CA's PEM file in repository.env (restic reads it).",
      { details },
    );
  }
  if (
    /(blob|file) not removed, server response: 403 Forbidden|unable to remove .* 403/.test(text)
  ) {
    return new StowageError(
      "repo.appendonly",
      `Cannot ${action}: the repository at '${where}' refuses deletion (append-only)`,
      "Snapshots cannot be forgotten there: set repository.append_only: true so retention is skipped, and forget/prune from a machine with full access.",
      { details },
    );
  }
  const rclone = text.match(/rclone: .*?(Failed to create file system for [^\n]*)/);
  if (rclone) {
    return new StowageError(
      "repo.error",
      `Cannot ${action}: rclone ${rclone[1].replace(/^Failed/, "failed")}`,
      "Check repository.rclone_config names a config with that remote (rclone config show).",
      { details },
    );
  }
  return undefined;
}

/** The repository itself: missing, its host key, its password, its lock, a snapshot or file. */
function repositoryFailure(f: Failure): StowageError | undefined {
  const { exitCode, text, action, where, details, lines } = f;
  if (
    exitCode === RESTIC_EXIT.repoMissing ||
    /Is there a repository at the following location\?/.test(text) ||
    /unable to open config file/.test(text)
  ) {
    return new StowageError(
      "repo.missing",
      `Cannot ${action}: there is no restic repository at '${where}'`,
      "Initialise it with `stowage admin repo init`, or fix repository.location in the config.",
    );
  }
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(text)) {
    const changed = /IDENTIFICATION HAS CHANGED/.test(text);
    return new StowageError(
      "repo.error",
      `Cannot ${action}: the SSH host key of the repository's server ${
        changed ? "CHANGED since it was trusted" : "is not trusted by stowage"
      } (repository '${where}')`,
      changed
        ? "If the server was really reinstalled, remove its old line from stowage's known_hosts (<state_dir>/known_hosts, or repository.known_hosts) and run `stowage setup` to trust the new key; otherwise another machine may be answering at that address."
        : "Run `stowage setup` on a terminal to see its fingerprint and trust it, or `stowage setup --accept-host-key SHA256:...` in scripts.",
      { details },
    );
  }
  if (exitCode === RESTIC_EXIT.wrongPassword || /wrong password or no key found/.test(text)) {
    return new StowageError(
      "repo.password",
      `Cannot ${action}: the password file does not open the repository at '${where}'`,
      "Point repository.password_file at this repository's password (the file, never the password itself).",
    );
  }
  if (
    /Resolving password failed|empty password is not a password|reading repository password from stdin/
      .test(text)
  ) {
    return new StowageError(
      "repo.password",
      `Cannot ${action}: the repository password file is missing or empty (repository '${where}')`,
      "Check repository.password_file exists, is readable and holds the password.",
    );
  }
  if (exitCode === RESTIC_EXIT.locked || /repository is already locked/.test(text)) {
    const holder = text.match(/already locked(?: exclusively)? by (PID \d+ on \S+ by \S+)/)?.[1];
    return new StowageError(
      "repo.locked",
      `Cannot ${action}: the repository at '${where}' is locked${holder ? ` by ${holder}` : ""}`,
      "Wait for the other restic process to finish. If none runs any more, the lock is stale: `stowage admin repo unlock` removes stale locks.",
      { details },
    );
  }
  if (
    /no matching ID found|cannot dump file: path .* not found in snapshot|no snapshot found/.test(
      text,
    )
  ) {
    return new StowageError(
      "snapshot.notfound",
      `Cannot ${action}: ${lastMeaningful(lines)} (repository '${where}')`,
      "List the snapshots with `stowage admin snapshot list`.",
    );
  }
  if (exitCode === RESTIC_EXIT.partial) {
    return new StowageError(
      "repo.error",
      `Cannot ${action} completely: some source files could not be read (repository '${where}')`,
      "Check the files named below are readable (permissions, files that vanished or fail to read) and run it again.",
      { details },
    );
  }
  return undefined;
}

function otherFailure({ exitCode, action, lines, where, details }: Failure): StowageError {
  return new StowageError(
    "repo.error",
    `Cannot ${action} (restic exit ${exitCode}): ${lastMeaningful(lines)}`,
    `Check the repository at '${where}' is reachable; \`stowage doctor\` helps. restic's last lines are above.`,
    { details },
  );
}
