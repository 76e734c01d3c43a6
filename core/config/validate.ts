/**
 * Turns raw YAML text into a Config, or into one StowageError listing every problem at once,
 * each with its path: `At 'backup.stop_timeout': expected a number of seconds from 1 to 3600, got "abc"`.
 * Pure: no file access here.
 */
import { parseDocument } from "yaml";
import type { z } from "zod";
import { StowageError } from "../errors.ts";
import { type Config, configSchema } from "./schema.ts";
import { closest } from "../text.ts";

export function parseConfigText(text: string, source: string): Config {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const details = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return pos ? `line ${pos.line}, column ${pos.col}: ${firstLine(e.message)}` : firstLine(e.message);
    });
    throw new StowageError(
      "config.parse",
      `Cannot read config '${source}': it is not valid YAML (${details[0]})`,
      "Fix the YAML syntax (indentation uses spaces; quote values containing ':' or '#').",
      { details: details.slice(1) },
    );
  }
  const raw = doc.toJS() ?? {};
  return validateConfig(raw, source);
}

export function validateConfig(raw: unknown, source: string): Config {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new StowageError(
      "config.invalid",
      `Cannot use config '${source}': the top level must be a mapping of keys, got ${Array.isArray(raw) ? "a list" : typeof raw}`,
      "Start from `stowage admin config new` or see docs/config.md.",
    );
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => describeIssue(issue));
  const n = problems.length;
  throw new StowageError(
    "config.invalid",
    `Config '${source}' has ${n} problem${n === 1 ? "" : "s"}: ${problems[0]}`,
    "Fix the keys listed; `stowage admin config schema` prints every key with its meaning.",
    { details: problems.slice(1) },
  );
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const where = (path: PropertyKey[]) => (path.length === 0 ? "the top level" : `'${path.map(String).join(".")}'`);
  if (issue.code === "unrecognized_keys") {
    const known = knownKeys(issue.path);
    return issue.keys.map((key) => {
      const suggestion = closest(key, known);
      const at = where([...issue.path, key]);
      return `At ${at}: unknown key${suggestion ? ` (did you mean '${suggestion}'?)` : ""}`;
    });
  }
  if (issue.code === "invalid_union") {
    // Report the branch that got furthest rather than a generic "invalid input".
    const branches = (issue as unknown as { errors: z.core.$ZodIssue[][] }).errors ?? [];
    const best = branches.filter((b) => b.length > 0).sort((a, b) => a.length - b.length)[0];
    if (best) {
      return best.flatMap((sub) => describeIssue({ ...sub, path: [...issue.path, ...sub.path] }));
    }
  }
  return [`At ${where(issue.path)}: ${issue.message}`];
}

/** Keys the schema allows at a path, for did-you-mean. */
function knownKeys(path: PropertyKey[]): string[] {
  // deno-lint-ignore no-explicit-any
  let node: any = configSchema;
  for (const segment of path) {
    node = unwrap(node);
    if (node?.shape) node = node.shape[segment as string];
    else if (node?._zod?.def?.type === "record") node = node._zod.def.valueType;
    else if (node?._zod?.def?.type === "array") node = node._zod.def.element;
    else return [];
  }
  node = unwrap(node);
  if (node?._zod?.def?.type === "union") {
    return node._zod.def.options.flatMap((o: { shape?: object }) => Object.keys(o.shape ?? {}));
  }
  return node?.shape ? Object.keys(node.shape) : [];
}

// deno-lint-ignore no-explicit-any
function unwrap(node: any): any {
  while (node?._zod?.def?.innerType) node = node._zod.def.innerType;
  return node;
}

function firstLine(s: string): string {
  return s.split("\n")[0].trim();
}
