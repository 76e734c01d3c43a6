/**
 * KEY=VALUE files (`--env-file`, compose's .env, `repository.env_file`) and the variables compose
 * files refer to. Pure text functions; values never appear in errors. The one env-file parser.
 */
import { StowageError } from "../errors.ts";

/**
 * Reads `KEY=VALUE` lines: blank lines and `#` comments are skipped, `export ` is allowed, and a
 * value in matching single or double quotes loses them. A line without `=` is an error naming its
 * line number only (never its content, which may be a secret).
 */
export function parseEnvFile(
  text: string,
  source = "env file",
  code: "usage" | "config.invalid" = "usage",
): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const body = line.startsWith("export ") ? line.slice(7).trimStart() : line;
    const eq = body.indexOf("=");
    const key = eq < 0 ? "" : body.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) {
      throw new StowageError(
        code,
        `Cannot read ${source}: line ${i + 1} is not KEY=VALUE`,
        "Write one KEY=VALUE per line; lines starting with # are comments.",
      );
    }
    let value = body.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) {
      value = value.slice(1, -1);
    }
    out[key] = value;
  });
  return out;
}

/** Variables a compose file interpolates (`$VAR`, `${VAR}`, `${VAR:-x}`), without `$$` escapes. */
export function composeVariables(text: string): string[] {
  const names = new Set<string>();
  const re = /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))/g;
  for (const m of text.matchAll(re)) {
    if (m[1] === "$") continue;
    const name = m[2] ?? m[3];
    // `${VAR:-default}` / `${VAR-default}` have a fallback and need no value.
    const rest = text.slice((m.index ?? 0) + m[0].length);
    if (m[2] && /^:?-/.test(rest)) continue;
    names.add(name);
  }
  return [...names].sort();
}
