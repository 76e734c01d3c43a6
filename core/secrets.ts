/**
 * Every redaction rule stowage has, in one place: which names are secret, the token a secret is
 * replaced by, and the shapes a secret takes inside text (URL credentials, `--password=x`,
 * `--password x`, `-pSecret`, `PGPASSWORD=x`, `Authorization: Bearer x`, `"token": "x"`).
 * Used for the recipe (inspect data, labels, volume options), `admin config show`, every printed
 * repository location, log records, error output and the status endpoint. Pure.
 *
 * Redaction is for display and storage of descriptions; it is not a parser. It errs on the side
 * of hiding too much (`API_URL=...` is hidden because of `API`).
 */

/** What a secret is replaced by, everywhere. */
export const REDACTED = "**REDACTED**";

/** Names that mark an env var, label, option or flag as secret (substring, case-insensitive). */
export const SECRET_NAME_PARTS = [
  "PASS",
  "SECRET",
  "KEY",
  "TOKEN",
  "API",
  "AUTH",
  "CREDENTIAL",
] as const;

const WORDS = SECRET_NAME_PARTS.join("|");

/** True when `name` contains a secret word, or one of `extra` (config `backup.redact`). */
export function isSecretName(name: string, extra: readonly string[] = []): boolean {
  const upper = name.toUpperCase();
  return [...SECRET_NAME_PARTS, ...extra.map((e) => e.toUpperCase())].some((part) =>
    part !== "" && upper.includes(part)
  );
}

/** `name` itself (a flag, key or variable name) looks like it holds a secret. */
const secretWord = new RegExp(`(?:${WORDS})`, "i");

// scheme://user:password@host -> the password hidden (a user alone, as in sftp://user@host, is not
// a secret).
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):([^@\s/]+)@/gi;
// --password=x, --api-key=x, -password=x
const FLAG_EQUALS = new RegExp(`(--?[\\w-]*(?:${WORDS})[\\w-]*=)[^\\s,;&'"]+`, "gi");
// --password x, --token x (the next word; not when it is another flag)
const FLAG_SPACE = new RegExp(`((?:^|\\s)--?[\\w-]*(?:${WORDS})[\\w-]*\\s+)(?!-)[^\\s'"]+`, "gi");
// mysql's -pSecret (not -p with a port mapping like -p8080:80)
const SHORT_P = /((?:^|\s)-p)(?![\d.:/-]+(?:\s|$))([^\s'"]+)/g;
// -u user:password / --user user:password (curl)
const USER_COLON = /((?:^|\s)(?:-u|--user)\s+[^\s:'"]+:)[^\s'"]+/g;
// Authorization: Bearer x / Basic x / Token x
const AUTH_HEADER = /(authorization:\s*(?:bearer|basic|token)\s+)[^\s'"]+/gi;
// PGPASSWORD=x, API_TOKEN=x, password=x (env assignments, mount options: stops at , ; &)
const ASSIGNMENT = new RegExp(`(\\b[\\w.-]*(?:${WORDS})[\\w.-]*=)[^\\s,;&'"]+`, "gi");
// "password": "x" in JSON text
const JSON_FIELD = new RegExp(
  `("[\\w.-]*(?:${WORDS})[\\w.-]*"\\s*:\\s*")(?:[^"\\\\]|\\\\.)*(")`,
  "gi",
);

/**
 * Not a secret but a stand-in for one: `KEY=VALUE` and `AWS_ACCESS_KEY_ID=...` in our own hints,
 * `PGPASSWORD=$PW` / `${DB_PASS}` references in a hook command; or a switch, not a value at all:
 * `-o StrictHostKeyChecking=yes` in ssh's command line (KEY) must stay readable in errors.
 */
const PLACEHOLDER =
  /^(?:\.{3}|VALUE|<[^>]*>|\$\{?[A-Za-z_]\w*\}?|yes|no|true|false|on|off|ask|accept-new)[).,]*$/;

/** Credentials embedded in one string, replaced by `token`. Idempotent. */
export function redactText(s: string, token: string = REDACTED): string {
  const value = (m: string, head: string) => {
    const v = m.slice(head.length);
    return v === token || PLACEHOLDER.test(v) ? m : `${head}${token}`;
  };
  return s
    .replace(URL_PASSWORD, `$1:${token}@`)
    .replace(AUTH_HEADER, `$1${token}`)
    .replace(FLAG_EQUALS, value)
    .replace(FLAG_SPACE, value)
    .replace(SHORT_P, (m, head: string, rest: string) =>
      // `-password x` / `-passwd=x` are long flags whose value the rules above already hid.
      rest === token || /^ass(?:wo?r?d)?(?:=|$)/i.test(rest) ? m : `${head}${token}`)
    .replace(USER_COLON, `$1${token}`)
    .replace(JSON_FIELD, `$1${token}$2`)
    .replace(ASSIGNMENT, value);
}

/** An argv list: every word through redactText, plus the word after a flag that takes a secret. */
export function redactArgv(argv: readonly string[], token: string = REDACTED): string[] {
  return argv.map((word, i) => {
    const prev = argv[i - 1] ?? "";
    const flagTakesSecret = /^(?:-u|--user)$/.test(prev) ||
      (/^--?[\w-]+$/.test(prev) && secretWord.test(prev) && !prev.includes("="));
    return flagTakesSecret ? token : redactText(word, token);
  });
}

/**
 * A repository location as it may be printed: the password in `scheme://user:password@host`
 * hidden (rest:https://..., s3 with inline keys, rclone remotes are names). Use this for every
 * location stowage prints.
 */
export function redactLocation(location: string, token: string = REDACTED): string {
  return location.replace(URL_PASSWORD, `$1:${token}@`);
}

/**
 * Labels for the recipe: a label whose name is secret, or whose value holds a credential, gets the
 * whole value replaced, so restore sees exactly `REDACTED` and asks for the value (--env-file)
 * instead of recreating a half-redacted label. Covers `...basicauth.users=user:$apr1$...` (AUTH).
 */
export function redactLabels(
  labels: Record<string, string>,
  extra: readonly string[] = [],
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(labels).map(([k, v]) => [k, isSecretLabel(k, v, extra) ? REDACTED : v]),
  );
}

/** Compose's own labels (project, service, paths, hashes) hold no secrets and restore needs them. */
function isSecretLabel(key: string, value: string, extra: readonly string[]): boolean {
  if (key.startsWith("com.docker.compose.")) return false;
  return isSecretName(key, extra) || redactText(value) !== value;
}

/**
 * Driver options (volume `DriverOpts`, CIFS/NFS `o=addr=nas,username=u,password=x`): a secret-named
 * option's value is replaced whole; inside other values only the secret part is, so the recipe
 * still says which server and user the volume used.
 */
export function redactOptions(
  options: Record<string, string>,
  extra: readonly string[] = [],
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(options).map(([k, v]) => [k, isSecretName(k, extra) ? REDACTED : redactText(v)]),
  );
}

/** `NAME=value` entries with secret names get their value replaced; others pass through. */
export function redactEnv(env: readonly string[], extra: readonly string[] = []): string[] {
  return env.map((entry) => {
    const eq = entry.indexOf("=");
    if (eq < 0) return entry;
    return isSecretName(entry.slice(0, eq), extra) ? `${entry.slice(0, eq + 1)}${REDACTED}` : entry;
  });
}

/**
 * A notification URL as it may be printed: only `scheme://host[:port]`. In a webhook URL, an ntfy
 * topic or a healthchecks ping URL the path and the query are the credential (whoever knows them
 * can post or ping), so both are hidden, and so is any `user:password@`. Not a URL: hidden whole.
 */
export function redactUrl(url: string, token: string = REDACTED): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return token;
  }
  if (!/^[a-z][a-z0-9+.-]*:$/i.test(u.protocol) || u.host === "") return token;
  const hidden = (u.pathname !== "" && u.pathname !== "/") || u.search !== "" || u.hash !== "" ||
    u.username !== "" || u.password !== "";
  return `${u.protocol}//${u.host}${hidden ? `/${token}` : ""}`;
}

/**
 * `text` with every occurrence of `url` (as written and as the URL parser normalises it, the way
 * fetch errors quote it) replaced by redactUrl's form, then redactText's rules.
 */
export function scrubUrl(text: string, url: string, token: string = REDACTED): string {
  const forms = new Set([url]);
  try {
    forms.add(new URL(url).href);
  } catch { /* not a URL: only the text as written */ }
  let out = text;
  for (const f of [...forms].sort((a, b) => b.length - a.length)) {
    if (f !== "") out = out.split(f).join(redactUrl(url, token));
  }
  return redactText(out, token);
}
