/**
 * Where a new bundle's password comes from, and where a generated one may be shown. A generated
 * password is shown once and only on a terminal (stderr): stdout may be a pipe, a log or the
 * bundle itself (--stream), and a password in a log is no password.
 */
import { StowageError } from "../errors.ts";

export type PasswordPlan =
  | { kind: "file"; path: string }
  | { kind: "generate" };

export function bundlePasswordPlan(
  o: { passwordFile?: string; stderrIsTerminal: boolean; json: boolean },
): PasswordPlan {
  if (o.passwordFile) return { kind: "file", path: o.passwordFile };
  if (o.stderrIsTerminal) return { kind: "generate" };
  throw new StowageError(
    "not.terminal",
    `Cannot make a recovery bundle with a generated password: there is no terminal to show it on${
      o.json ? " (--json output never carries it)" : ""
    }`,
    "Pass --password-file FILE (a 0600 file whose first line is the bundle password), or run the command on a terminal.",
  );
}

/** The password in a password file: its first line, as `openssl enc -pass file:` reads it. */
export function passwordFromFileText(text: string, path: string): string {
  const nl = text.indexOf("\n");
  const line = (nl === -1 ? text : text.slice(0, nl)).replace(/\r$/, "");
  if (line === "") {
    throw new StowageError(
      "usage",
      `Cannot use '${path}' as a bundle password file: its first line is empty`,
      "Write the password on the first line of the file (mode 0600).",
    );
  }
  return line;
}
