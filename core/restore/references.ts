/**
 * Safety of the files a recipe's compose files reference (env_file, extends, configs, build
 * contexts) before restore writes them: the recipe is untrusted, so a path must be absolute,
 * free of `..` and empty segments, and inside the safe roots (core/safe_paths.ts), the same rule
 * backup used to save it. Compose and .env files keep their own rules. Pure.
 */
import type { RecipeFile } from "../recipe.ts";
import { isSafeBindPath } from "../safe_paths.ts";

const REFERENCED = new Set<RecipeFile["kind"]>(["env_file", "extends", "config", "build"]);

/** Why `f` may not be written to `to`, or undefined when it may. */
export function checkReferencedFile(f: RecipeFile, to: string): string | undefined {
  if (!REFERENCED.has(f.kind)) return undefined;
  for (const p of [f.path, to]) {
    if (!p.startsWith("/") || p.split("/").slice(1).some((seg) => seg === "" || seg === "..")) {
      return `Cannot restore ${f.kind} file '${f.path}': the recipe gives a path that is not a clean absolute path (${p})`;
    }
    const verdict = isSafeBindPath(p);
    if (!verdict.safe) {
      return `Cannot restore ${f.kind} file '${f.path}': ${p} is outside the safe roots (${verdict.reason})`;
    }
  }
  if (typeof f.content !== "string" || (f.encoding !== undefined && f.encoding !== "base64")) {
    return `Cannot restore ${f.kind} file '${f.path}': the recipe entry is malformed`;
  }
  return undefined;
}
