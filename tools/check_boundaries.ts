/**
 * The layer boundaries of docs/architecture.md, checked rather than hoped for (`deno task ok`):
 *
 *   main.ts -> cli/ -> app/ -> core/ -> adapters/
 *
 * Rules (test files, `*_test.ts`, are exempt from all of them):
 * - `core-deno`: nothing in core/ uses `Deno.*`; effects go through the ports of core/ports.ts.
 * - `cli-adapter`: no file in cli/ (commands, wizards, dialogues, renderers) imports from
 *   adapters/, `import type` included; main.ts builds adapters and cli/ and the app layer use
 *   them through the services they are given.
 * - `app-adapter`: no file in app/ imports from adapters/ (same reason; `import type` included).
 * - `upward-cli`: nothing in adapters/, core/ or app/ imports from cli/.
 * - `command-command`: no command file imports another command file. The one exception is
 *   structural, not a violation: a command group (`admin.ts`) registers its subcommands
 *   (`admin_*.ts`), and those name the group's type.
 *
 * Violations that exist today are listed in ALLOWED below, each with the reason it is still
 * there. The list can only shrink: an entry that no longer matches a violation fails the check,
 * so it stays true, and a new violation fails it too.
 *
 * Run: deno run --allow-read=. tools/check_boundaries.ts
 */
import { dirname, join, normalize, relative } from "node:path";

export type Rule =
  | "core-deno"
  | "cli-adapter"
  | "app-adapter"
  | "upward-cli"
  | "command-command";

export interface Violation {
  rule: Rule;
  /** The offending file, relative to the repository root with `/` separators. */
  file: string;
  /** The imported file (relative to the root), for import rules. */
  target?: string;
}

export interface Allowed extends Violation {
  /** Why it is still there, and what removes it. */
  why: string;
}

/**
 * Today's violations. Remove an entry when its violation is gone (the check fails until you do);
 * never add one.
 */
export const ALLOWED: readonly Allowed[] = [];

/** The specifiers a TypeScript file imports or re-exports, type-only ones included. */
export function importSpecifiers(text: string): string[] {
  const code = stripComments(text);
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^;'"`]*?\sfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']/g,
  ];
  for (const re of patterns) {
    for (const m of code.matchAll(re)) out.push(m[1]);
  }
  return out;
}

/** Block and line comments removed (well enough for this check: string contents may suffer). */
export function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:\\])\/\/.*$/gm, "$1");
}

const isTest = (file: string) => file.endsWith("_test.ts");
const under = (file: string, dir: string) => file.startsWith(dir + "/");
const isCommand = (file: string) => under(file, "cli/commands");
/** A command group and its subcommands: `admin.ts` and `admin_*.ts`. */
const sameGroup = (a: string, b: string) => {
  const name = (f: string) => f.slice("cli/commands/".length).replace(/\.ts$/, "");
  const [x, y] = [name(a), name(b)];
  return y.startsWith(x + "_") || x.startsWith(y + "_");
};

/** Every violation in these files (paths relative to the repository root, `/` separators). */
export function findViolations(files: { path: string; text: string }[]): Violation[] {
  const out: Violation[] = [];
  for (const { path: file, text } of files) {
    if (isTest(file) || !file.endsWith(".ts")) continue;
    if (under(file, "core") && /\bDeno\./.test(stripComments(text))) {
      out.push({ rule: "core-deno", file });
    }
    for (const spec of importSpecifiers(text)) {
      if (!spec.startsWith(".")) continue;
      const target = normalize(join(dirname(file), spec)).replaceAll("\\", "/");
      if (under(file, "cli") && under(target, "adapters")) {
        out.push({ rule: "cli-adapter", file, target });
      }
      if (under(file, "app") && under(target, "adapters")) {
        out.push({ rule: "app-adapter", file, target });
      }
      if (["adapters", "core", "app"].some((d) => under(file, d)) && under(target, "cli")) {
        out.push({ rule: "upward-cli", file, target });
      }
      if (
        isCommand(file) && isCommand(target) && target !== file && !sameGroup(file, target)
      ) {
        out.push({ rule: "command-command", file, target });
      }
    }
  }
  return dedupe(out);
}

function dedupe(vs: Violation[]): Violation[] {
  const seen = new Map<string, Violation>();
  for (const v of vs) seen.set(key(v), v);
  return [...seen.values()];
}

export const key = (v: Violation) => `${v.rule} ${v.file}${v.target ? ` -> ${v.target}` : ""}`;

/** Violations not in the allow-list, and allow-list entries that match no violation. */
export function compare(
  found: readonly Violation[],
  allowed: readonly Violation[],
): { unexpected: Violation[]; stale: Violation[] } {
  const allowedKeys = new Set(allowed.map(key));
  const foundKeys = new Set(found.map(key));
  return {
    unexpected: found.filter((v) => !allowedKeys.has(key(v))),
    stale: allowed.filter((v) => !foundKeys.has(key(v))),
  };
}

const DIRS = ["app", "cli", "core", "adapters"];

async function readTree(root: string): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  async function walk(dir: string) {
    const entries: Deno.DirEntry[] = [];
    try {
      for await (const e of Deno.readDir(dir)) entries.push(e);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile && e.name.endsWith(".ts")) {
        out.push({
          path: relative(root, p).replaceAll("\\", "/"),
          text: await Deno.readTextFile(p),
        });
      }
    }
  }
  for (const d of DIRS) await walk(join(root, d));
  return out;
}

if (import.meta.main) {
  const root = normalize(join(dirname(new URL(import.meta.url).pathname), ".."));
  const files = await readTree(root);
  const found = findViolations(files);
  const { unexpected, stale } = compare(found, ALLOWED);
  for (const v of unexpected) console.error(`boundary violation: ${key(v)}`);
  for (const v of stale) {
    console.error(
      `allow-list entry no longer needed (remove it from tools/check_boundaries.ts): ${key(v)}`,
    );
  }
  const allowedNow = found.length - unexpected.length;
  if (unexpected.length || stale.length) {
    console.error(
      `boundaries: ${unexpected.length} new violation(s), ${stale.length} stale allow-list entr(ies)`,
    );
    Deno.exit(1);
  }
  console.log(`boundaries ok: ${files.length} files, ${allowedNow} allowed violation(s) left`);
}
