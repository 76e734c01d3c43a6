/**
 * Checks a repository location written in restic's syntax (plus stowage's `tailscale:`), so
 * `config new --repository` rejects a typo before it lands in a config file. Pure.
 */
import { StowageError } from "../errors.ts";
import { redactLocation } from "../secrets.ts";

export type LocationKind =
  | "local"
  | "sftp"
  | "rest"
  | "s3"
  | "b2"
  | "azure"
  | "gs"
  | "swift"
  | "rclone"
  | "tailscale";

const FORMS = [
  "/absolute/path or local:/absolute/path",
  "sftp:user@host:/path or sftp://user@host:port//path",
  "rest:https://host:8000/",
  "s3:host/bucket/path",
  "b2:bucket:path",
  "azure:container:/path",
  "gs:bucket:/path",
  "swift:container:/path",
  "rclone:remote:path",
  "tailscale:PEER:/path",
];

const HINT = `Use restic's location syntax: ${FORMS.join(", ")}.`;

function bad(location: string, why: string): StowageError {
  return new StowageError(
    "usage",
    `Cannot use repository location '${redactLocation(location)}': ${why}`,
    HINT,
  );
}

/** The kind of a valid location; throws `usage` with the accepted forms otherwise. */
export function checkRepositoryLocation(location: string): LocationKind {
  const loc = location.trim();
  if (loc === "") throw bad(location, "it is empty");
  if (loc.startsWith("/")) return "local";
  const m = loc.match(/^([a-z0-9]+):(.*)$/);
  if (!m) {
    throw bad(location, "a local path must be absolute");
  }
  const [, scheme, rest] = m;
  const need = (ok: boolean, why: string) => {
    if (!ok) throw bad(location, why);
  };
  switch (scheme) {
    case "local":
      need(rest.startsWith("/"), "a local path must be absolute");
      return "local";
    case "sftp":
      if (rest.startsWith("//")) {
        need(/^\/\/[^/\s]+\/.+/.test(rest), "expected sftp://[user@]host[:port]//path");
      } else {
        need(/^[^:\s]+:.+$/.test(rest), "expected sftp:[user@]host:/path");
      }
      return "sftp";
    case "rest":
      need(/^https?:\/\/[^/\s]+/.test(rest), "expected rest:http(s)://host[:port]/[path]");
      return "rest";
    case "s3":
      need(/^\S+\/\S+/.test(rest), "expected s3:host/bucket[/path]");
      return "s3";
    case "b2":
    case "azure":
    case "gs":
    case "swift":
    case "rclone":
      need(/^[^:\s]+:\S*$/.test(rest), `expected ${scheme}:NAME:path`);
      return scheme;
    case "tailscale":
      need(/^[^:\s]+:\/\S*$/.test(rest), "expected tailscale:PEER:/path");
      return "tailscale";
    default:
      throw bad(location, `'${scheme}:' is not a backend restic knows`);
  }
}
