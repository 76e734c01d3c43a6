/**
 * Masks secrets for display (`admin config show`): every value under `repository.env` (and each
 * copy's), and
 * anything inside other strings that looks like a credential (URL passwords, `--password=...`,
 * `-pSecret`, `Authorization: Bearer ...`, `API_TOKEN=...`, the value after `-u`/`--password` in
 * an argv), and the path and query of notification URLs (webhook, ntfy, healthchecks). The rules are core/secrets.ts's; this file only walks the config. Pure; the config
 * given is not changed.
 */
import { redactArgv, REDACTED, redactText, redactUrl } from "../secrets.ts";
import { SECRET_CONFIG_PATHS } from "./schema.ts";

/** The token a masked value shows: the one REDACTED token (core/secrets.ts). */
export const MASK = REDACTED;

/** Credentials embedded in one string. */
export const maskText = (s: string): string => redactText(s);

/** An argv list: like maskText, plus the word after a flag that takes a secret. */
export const maskArgv = (argv: string[]): string[] => redactArgv(argv);

/** `path` is at or below one of `secretPaths`; a `*` segment matches any key or list index. */
function atPath(path: string[], secretPaths: string[]): boolean {
  return secretPaths.some((p) => {
    const want = p.split(".");
    return want.length <= path.length && want.every((w, i) => w === "*" || w === path[i]);
  });
}

/** Notification URLs, whose path and query are the credential: only scheme://host is shown. */
const SECRET_URL_PATH = /^notify\.\d+\.(?:webhook|ntfy|healthchecks)$/;

/** A deep copy with secrets replaced by the REDACTED token. */
export function maskConfig<T>(value: T, secretPaths: string[] = SECRET_CONFIG_PATHS): T {
  const walk = (node: unknown, path: string[]): unknown => {
    if (path.length > 0 && atPath(path.slice(0, -1), secretPaths) && typeof node !== "object") {
      return MASK;
    }
    if (typeof node === "string") {
      return SECRET_URL_PATH.test(path.join(".")) ? redactUrl(node) : maskText(node);
    }
    if (Array.isArray(node)) {
      if (node.every((x) => typeof x === "string")) return maskArgv(node as string[]);
      return node.map((x, i) => walk(x, [...path, String(i)]));
    }
    if (node !== null && typeof node === "object") {
      return Object.fromEntries(
        Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]),
      );
    }
    return node;
  };
  return walk(value, []) as T;
}
