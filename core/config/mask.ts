/**
 * Masks secrets for display (`admin config show`): every value under `repository.env`, and
 * anything inside other strings that looks like a credential (URL passwords, `--password=...`,
 * `Authorization: Bearer ...`, `API_TOKEN=...`, the value after `-u`/`--password` in an argv).
 * Pure; the config given is not changed.
 */
import { SECRET_CONFIG_PATHS } from "./schema.ts";

export const MASK = "********";

const SECRET_WORD = /(pass|secret|token|key|auth|credential)/i;

/** Credentials embedded in one string. */
export function maskText(s: string): string {
  return s
    // scheme://user:password@host
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):([^@\s]+)@/gi, `$1:${MASK}@`)
    // --password=x, --api-key=x
    .replace(/(--?[\w-]*(?:pass|secret|token|key|auth)[\w-]*=)\S+/gi, `$1${MASK}`)
    // Authorization: Bearer x / Basic x
    .replace(/(authorization:\s*(?:bearer|basic|token)\s+)\S+/gi, `$1${MASK}`)
    // API_TOKEN=x (env assignments on a command line)
    .replace(/\b([A-Za-z_]*(?:PASS|SECRET|TOKEN|KEY|AUTH)[A-Za-z_]*=)[^\s'"]+/gi, `$1${MASK}`);
}

/** An argv list: like maskText, plus the word after a flag that takes a secret. */
export function maskArgv(argv: string[]): string[] {
  return argv.map((word, i) => {
    const prev = argv[i - 1] ?? "";
    const flagTakesSecret = /^-u$|^--user$/.test(prev) ||
      (/^--?[\w-]+$/.test(prev) && SECRET_WORD.test(prev));
    return flagTakesSecret ? MASK : maskText(word);
  });
}

function atPath(path: string[], secretPaths: string[]): boolean {
  const joined = path.join(".");
  return secretPaths.some((p) => joined === p || joined.startsWith(p + "."));
}

/** A deep copy with secrets replaced by `********`. */
export function maskConfig<T>(value: T, secretPaths: string[] = SECRET_CONFIG_PATHS): T {
  const walk = (node: unknown, path: string[]): unknown => {
    if (path.length > 0 && atPath(path.slice(0, -1), secretPaths) && typeof node !== "object") {
      return MASK;
    }
    if (typeof node === "string") return maskText(node);
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
