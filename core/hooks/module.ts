/**
 * TypeScript hook modules, the pure part: check the default export's shape and SDK major, and
 * turn anything a module throws into one line with the module's own file location. Importing
 * them is the host's work (adapters/hooks/modules.ts, behind core/hooks/host.ts).
 */
import { fileURLToPath } from "node:url";
import { StowageError } from "../errors.ts";
import { closest } from "../text.ts";
import type { Hook } from "../../hooks-sdk/mod.ts";
import { SDK_MAJOR, SDK_VERSION } from "../../hooks-sdk/version.ts";
import type { HookPhase } from "./plan.ts";
import type { LoadedHookModule } from "./host.ts";

/** The module method each phase calls. */
export const PHASE_METHODS: Record<
  HookPhase,
  "preBackup" | "postBackup" | "preRestore" | "postRestore" | "verify"
> = {
  pre_backup: "preBackup",
  post_backup: "postBackup",
  pre_restore: "preRestore",
  post_restore: "postRestore",
  verify: "verify",
};
const METHODS = Object.values(PHASE_METHODS) as string[];
const KNOWN_KEYS = ["sdk", "name", ...METHODS];

/** The `hook.failed` error for a module that failed to import. */
export function hookLoadError(abs: string, e: unknown): StowageError {
  return new StowageError(
    "hook.failed",
    `Cannot load hook module '${abs}': ${describeError(e, abs)}`,
    "Fix the module; `deno check` on it (see `stowage admin hooks init`) shows type errors too.",
  );
}

/** The module's hook, or `hook.failed` naming what is wrong with its default export. */
export function validatedHookModule(abs: string, mod: unknown): LoadedHookModule {
  const { hook, problems } = validateHookExport(mod);
  if (!hook) {
    throw new StowageError(
      "hook.failed",
      `Hook module '${abs}' ${problems[0]}`,
      "A hook module default-exports `{ sdk: 1, preBackup(ctx) {...}, ... } satisfies Hook`; see docs/hooks.md.",
      { details: problems.slice(1) },
    );
  }
  return { hook, name: hook.name ?? baseName(abs), path: abs };
}

/** Checks a module namespace's default export. Pure. Problems read after "Hook module 'X' ". */
export function validateHookExport(mod: unknown): { hook?: Hook; problems: string[] } {
  const def = (mod as { default?: unknown } | null)?.default;
  if (def === undefined) {
    return {
      problems: ["has no default export (write `export default { sdk: 1, ... } satisfies Hook`)"],
    };
  }
  if (def === null || typeof def !== "object" || Array.isArray(def)) {
    return {
      problems: [`default-exports ${kindOf(def)}, expected an object with sdk and hook methods`],
    };
  }
  const o = def as Record<string, unknown>;
  if (o.sdk === undefined) {
    return { problems: [`declares no SDK version (add \`sdk: ${SDK_MAJOR}\`)`] };
  }
  if (o.sdk !== SDK_MAJOR) {
    return {
      problems: [
        `is written for hooks SDK ${
          JSON.stringify(o.sdk)
        }, but this stowage supports SDK ${SDK_MAJOR} (${SDK_VERSION}) only`,
      ],
    };
  }
  const problems: string[] = [];
  if (o.name !== undefined && (typeof o.name !== "string" || o.name.trim() === "")) {
    problems.push(`has a 'name' that is ${kindOf(o.name)}, expected a non-empty string`);
  }
  for (const m of METHODS) {
    if (o[m] !== undefined && typeof o[m] !== "function") {
      problems.push(`has '${m}' as ${kindOf(o[m])}, expected a function`);
    }
  }
  for (const key of Object.keys(o)) {
    if (KNOWN_KEYS.includes(key)) continue;
    const near = closest(key, KNOWN_KEYS);
    problems.push(`has an unknown key '${key}'${near ? ` (did you mean '${near}'?)` : ""}`);
  }
  if (!METHODS.some((m) => typeof o[m] === "function")) {
    problems.push(`defines none of ${METHODS.join(", ")}`);
  }
  return problems.length ? { problems } : { hook: def as Hook, problems };
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "function") return "a function";
  if (typeof v === "object") return "an object";
  return `a ${typeof v} (${JSON.stringify(v)})`;
}

const OWN_ROOT = new URL("../../", import.meta.url).href;

/**
 * "message (at /etc/stowage/hooks/nc.ts:12:5)": the thrown message with the first stack frame
 * outside stowage's own code, so users see their line and not stowage's internals.
 */
export function describeError(e: unknown, modulePath?: string): string {
  if (!(e instanceof Error)) return String(e);
  const first = e.message.split("\n")[0].trim();
  const name = e.name && e.name !== "Error" && !first.startsWith(e.name) ? `${e.name}: ` : "";
  // Syntax errors carry their location in the message ("    at file:///x.ts:4:2").
  const where = frameLocation(e.message, modulePath) ?? frameLocation(e.stack ?? "", modulePath) ??
    frameLocation(e.message) ?? frameLocation(e.stack ?? "");
  const msg = first.replace(/^(TypeError|SyntaxError): (?=SyntaxError)/, "");
  return `${name}${msg}${where ? ` (at ${where})` : ""}`;
}

/** The first file frame in `text`: in `only` when given, else outside stowage's own code. */
function frameLocation(text: string, only?: string): string | undefined {
  for (const m of text.matchAll(/(file:\/\/[^\s()]+?):(\d+):(\d+)/g)) {
    if (only === undefined && m[1].startsWith(OWN_ROOT)) continue;
    let path: string;
    try {
      const u = new URL(m[1]);
      u.search = "";
      path = fileURLToPath(u);
    } catch {
      continue;
    }
    if (only !== undefined && path !== only) continue;
    return `${path}:${m[2]}:${m[3]}`;
  }
  return undefined;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
