/**
 * `.dockerignore` as `docker build` reads it, for the common patterns: comments, `!` exceptions,
 * `*`, `?`, `**`, a leading `/`, and a pattern naming a folder excluding everything below it.
 * The last matching line wins, as in Docker. Character classes (`[a-z]`) are taken literally.
 * Pure; never throws.
 */

export interface IgnoreRule {
  negate: boolean;
  re: RegExp;
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    if (negate) line = line.slice(1).trim();
    line = line.replace(/^\/+/, "").replace(/\/+$/, "").replace(/^\.\//, "");
    if (!line || line === ".") continue;
    rules.push({ negate, re: globToRegExp(line) });
  }
  return rules;
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      // `**/` matches any number of folders (also none); a trailing `**` everything.
      if (glob[i + 2] === "/") {
        re += "(?:.*/)?";
        i += 2;
      } else {
        re += ".*";
        i += 1;
      }
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  // A match of a folder covers everything below it.
  return new RegExp(`^${re}(?:/.*)?$`);
}

/** True when `rel` (a path relative to the context, `/`-separated) is excluded. */
export function isIgnored(rules: readonly IgnoreRule[], rel: string): boolean {
  let ignored = false;
  for (const r of rules) if (r.re.test(rel)) ignored = !r.negate;
  return ignored;
}
