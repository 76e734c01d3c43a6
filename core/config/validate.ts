/**
 * Turns raw YAML text into a Config, or into one StowageError listing every problem at once,
 * each with its path: `At 'backup.stop_timeout': expected a number of seconds from 1 to 3600, got "abc"`.
 * Pure: no file access here.
 */
import { parseDocument } from "yaml";
import type { z } from "zod";
import { StowageError } from "../errors.ts";
import { type Config, configSchema } from "./schema.ts";
import { closest, shown, shownName } from "../text.ts";

export type ConfigCheck =
  | { ok: true; config: Config }
  | { ok: false; code: "config.parse" | "config.invalid"; problems: string[] };

const PARSE_HINT =
  "Fix the YAML syntax (indentation uses spaces; quote values containing ':' or '#').";
const INVALID_HINT =
  "Fix the keys listed; `stowage admin config schema` prints every key with its meaning (docs/config.md).";

/** Every problem of a config text, without throwing. */
export function checkConfigText(text: string): ConfigCheck {
  let doc;
  try {
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    // A pathological document (nesting deep enough to exhaust the stack) is malformed input.
    return { ok: false, code: "config.parse", problems: [firstLine(String(e))] };
  }
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      const msg = firstLine(e.message).replace(/ at line \d+, column \d+:?$/, "");
      return pos ? `line ${pos.line}, column ${pos.col}: ${cut(msg)}` : cut(msg);
    });
    return { ok: false, code: "config.parse", problems };
  }
  let raw: unknown;
  try {
    // Each alias may be expanded at most this often: a few nested anchors ("billion laughs")
    // would otherwise expand to gigabytes.
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    const why = e instanceof ReferenceError && /alias/i.test(e.message)
      ? `its aliases expand too far (more than ${MAX_ALIAS_COUNT} uses of one anchor)`
      : firstLine(e instanceof Error ? e.message : String(e));
    return { ok: false, code: "config.parse", problems: [why] };
  }
  return checkConfig(raw ?? {});
}

const MAX_ALIAS_COUNT = 100;

/** Every problem of an already parsed document, without throwing. */
export function checkConfig(raw: unknown): ConfigCheck {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    const got = Array.isArray(raw) ? "a list" : `${typeof raw} ${shown(raw)}`;
    return {
      ok: false,
      code: "config.invalid",
      problems: [`At the top level: expected a mapping of keys, got ${got}`],
    };
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return { ok: true, config: result.data };
  const problems = result.error.issues.flatMap((issue) => describeIssue(issue, raw));
  return { ok: false, code: "config.invalid", problems: [...new Set(problems)] };
}

/** The StowageError for a failed check: first problem in the message, the rest as details. */
export function configError(
  check: Extract<ConfigCheck, { ok: false }>,
  source: string,
): StowageError {
  const [first, ...rest] = check.problems;
  if (check.code === "config.parse") {
    return new StowageError(
      "config.parse",
      `Cannot read config '${source}': it is not valid YAML (${first})`,
      PARSE_HINT,
      { details: rest },
    );
  }
  const n = check.problems.length;
  return new StowageError(
    "config.invalid",
    `Config '${source}' has ${n} problem${n === 1 ? "" : "s"}: ${first}`,
    INVALID_HINT,
    { details: rest },
  );
}

export function parseConfigText(text: string, source: string): Config {
  const check = checkConfigText(text);
  if (!check.ok) throw configError(check, source);
  return check.config;
}

export function validateConfig(raw: unknown, source: string): Config {
  const check = checkConfig(raw);
  if (!check.ok) throw configError(check, source);
  return check.config;
}

type Issue = z.core.$ZodIssue;

function where(path: PropertyKey[]): string {
  return path.length === 0
    ? "the top level"
    : `'${path.map((p) => shownName(String(p))).join(".")}'`;
}

function describeIssue(issue: Issue, raw: unknown): string[] {
  if (issue.code === "unrecognized_keys") {
    const known = knownKeys(issue.path);
    return issue.keys.map((key) => {
      const suggestion = key.length <= 64 ? closest(key, known) : undefined;
      return `At ${where([...issue.path, key])}: unknown key${
        suggestion ? ` (did you mean '${suggestion}'?)` : ""
      }`;
    });
  }
  if (issue.code === "invalid_union") return describeUnion(issue, raw);
  return [`At ${where(issue.path)}: ${friendlier(issue, raw)}`];
}

/**
 * A union (hook spec, `run` string-or-list) failed every branch. Report the branch the input
 * was evidently aiming at (it has that branch's required keys and the value's type fits); when
 * none fits, the union's own message plus any unknown keys (with did-you-mean).
 */
function describeUnion(issue: Extract<Issue, { code: "invalid_union" }>, raw: unknown): string[] {
  const branches = ((issue as unknown as { errors?: Issue[][] }).errors ?? [])
    .filter((b) => b.length > 0);
  const abs = (sub: Issue): Issue => ({ ...sub, path: [...issue.path, ...sub.path] }) as Issue;
  const missingKey = (sub: Issue) =>
    sub.code !== "unrecognized_keys" && sub.path.length > 0 &&
    valueAt(raw, [...issue.path, ...sub.path]) === undefined;
  const typeMismatch = (sub: Issue) => sub.path.length === 0 && sub.code !== "unrecognized_keys";
  const fitting = branches
    .filter((b) => !b.some(missingKey) && !b.some(typeMismatch))
    .sort((a, b) => a.length - b.length);
  if (fitting.length > 0) return fitting[0].flatMap((sub) => describeIssue(abs(sub), raw));
  const unknown = branches[0]?.filter((sub) => sub.code === "unrecognized_keys") ?? [];
  const keys = unknown.flatMap((sub) => (sub as { keys: string[] }).keys);
  const unionKeys = knownKeys(issue.path);
  return [
    `At ${where(issue.path)}: ${issue.message}`,
    ...keys.filter((k) => !unionKeys.includes(k)).map((key) => {
      const suggestion = key.length <= 64 ? closest(key, unionKeys) : undefined;
      return `At ${where([...issue.path, key])}: unknown key${
        suggestion ? ` (did you mean '${suggestion}'?)` : ""
      }`;
    }),
  ];
}

/** zod's generic messages, rephrased for a person editing YAML. */
function friendlier(issue: Issue, raw: unknown): string {
  if (issue.code === "invalid_type") {
    const value = valueAt(raw, issue.path);
    const got = value === undefined ? "nothing" : value === null ? "an empty value" : shown(value);
    if (
      (issue.expected === "object" || issue.expected === "record") &&
      /^Invalid input/.test(issue.message)
    ) {
      return `expected a mapping of keys, got ${got}`;
    }
    if (issue.expected === "array" && /^Invalid input/.test(issue.message)) {
      return `expected a list, got ${got}`;
    }
    if (issue.expected === "boolean" && /^Invalid input/.test(issue.message)) {
      return `expected true or false, got ${got}`;
    }
    if (issue.expected === "string" && /^Invalid input/.test(issue.message)) {
      return `expected text, got ${got}`;
    }
  }
  if (issue.code === "invalid_value" && /^Invalid option/.test(issue.message)) {
    const value = valueAt(raw, issue.path);
    const options = (issue.values ?? []).map(String).join(", ");
    return `expected one of ${options}, got ${shown(value)}`;
  }
  return cut(issue.message);
}

/** zod's own messages may quote the input; keep them to a line. */
function cut(message: string): string {
  const one = firstLine(message);
  return one.length > 200 ? `${one.slice(0, 200)}…` : one;
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let node = raw;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
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
    return [
      ...new Set<string>(
        node._zod.def.options.flatMap((o: { shape?: object }) => Object.keys(o.shape ?? {})),
      ),
    ];
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
