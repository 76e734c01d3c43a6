/**
 * TypeScript hook modules: import at run time, check the default export's shape and SDK major,
 * and turn anything a module throws into one line with the module's own file location.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { StowageError } from "../errors.ts";
import { closest } from "../text.ts";
import type { Hook } from "../../hooks-sdk/mod.ts";
import { SDK_MAJOR, SDK_VERSION } from "../../hooks-sdk/version.ts";
import type { HookPhase } from "./plan.ts";
import { assertTrustedHookFile } from "./trust.ts";

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

export interface LoadedHookModule {
  hook: Hook;
  /** The module's `name`, or its file name. */
  name: string;
  path: string;
}

/** Relative paths are resolved against the working directory (`admin hooks check` warns about them). */
export function modulePath(path: string): string {
  return isAbsolute(path) ? path : resolve(Deno.cwd(), path);
}

/**
 * Imports the module and validates its default export. Each distinct file version is imported
 * once (the URL carries its mtime and size), so a long-running daemon picks up edited hooks.
 * Throws StowageError `hook.failed` naming the file and what is wrong.
 */
export async function loadHookModule(path: string): Promise<LoadedHookModule> {
  const { abs, url } = await moduleUrl(path);
  let mod: unknown;
  try {
    mod = await import(url.href);
  } catch (e) {
    throw loadError(abs, e);
  }
  return validated(abs, mod);
}

/** The module's absolute path and versioned URL, after checking it is a trusted file. */
async function moduleUrl(path: string): Promise<{ abs: string; url: URL }> {
  const abs = modulePath(path);
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(abs);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "the file does not exist"
      : `it cannot be read (${errorName(e)})`;
    throw new StowageError(
      "hook.failed",
      `Cannot load hook module '${abs}': ${why}`,
      "Check the `module:` path in the config.",
    );
  }
  if (!stat.isFile) {
    throw new StowageError(
      "hook.failed",
      `Cannot load hook module '${abs}': it is not a file`,
      "Point `module:` at a .ts file.",
    );
  }
  await assertTrustedHookFile(abs, "module");
  const url = pathToFileURL(abs);
  url.search = `v=${stat.mtime?.getTime() ?? 0}-${stat.size}`;
  return { abs, url };
}

function loadError(abs: string, e: unknown): StowageError {
  return new StowageError(
    "hook.failed",
    `Cannot load hook module '${abs}': ${describeError(e, abs)}`,
    "Fix the module; `deno check` on it (see `stowage admin hooks init`) shows type errors too.",
  );
}

function validated(abs: string, mod: unknown): LoadedHookModule {
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

/** How long a module's top-level code may run inside `inspectHookModule`. */
const INSPECT_TIMEOUT_MS = 10_000;

/**
 * The worker: imports the module and sends back the shape of its default export (functions as
 * markers; nothing else leaves). Plain JavaScript from a blob URL, so a compiled binary needs no
 * extra file.
 */
const INSPECT_WORKER = `
const describe = (v) => typeof v === "function" ? { t: "function" }
  : Array.isArray(v) ? { t: "list" }
  : v !== null && typeof v === "object" ? { t: "object" }
  : { t: "value", v };
self.onmessage = async (e) => {
  try {
    const mod = await import(e.data);
    const def = mod.default;
    const entries = def !== null && typeof def === "object" && !Array.isArray(def)
      ? Object.keys(def).map((k) => [k, describe(def[k])]) : undefined;
    self.postMessage({ ok: true, hasDefault: "default" in mod, def: describe(def), entries });
  } catch (err) {
    self.postMessage({ ok: false, name: err?.name, message: String(err?.message ?? err), stack: String(err?.stack ?? "") });
  }
};`;

type Shape = { t: "function" } | { t: "list" } | { t: "object" } | { t: "value"; v: unknown };
type InspectReply =
  | { ok: true; hasDefault: boolean; def: Shape; entries?: [string, Shape][] }
  | { ok: false; name?: string; message: string; stack: string };

function rebuild(s: Shape): unknown {
  if (s.t === "function") return () => {};
  if (s.t === "list") return [];
  if (s.t === "object") return {};
  return s.v;
}

/**
 * Like loadHookModule, but the module is imported in a Web Worker that may read files and do
 * nothing else (no writes, processes, network, environment, FFI): `admin hooks check` must not
 * run a hook's side effects. Top-level code that tries one fails the check with Deno's
 * NotCapable message; code that does not finish within 10 s is stopped. The returned hook's
 * methods are stubs: use it to check shape only.
 */
export async function inspectHookModule(path: string): Promise<LoadedHookModule> {
  const { abs, url } = await moduleUrl(path);
  const blob = URL.createObjectURL(new Blob([INSPECT_WORKER], { type: "text/javascript" }));
  const worker = new Worker(blob, {
    type: "module",
    deno: {
      permissions: {
        read: true,
        write: false,
        net: false,
        run: false,
        env: false,
        sys: false,
        ffi: false,
        import: false,
      },
    },
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const reply = await new Promise<InspectReply>((resolveReply, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new StowageError(
              "hook.failed",
              `Cannot check hook module '${abs}': its top-level code did not finish within ${
                INSPECT_TIMEOUT_MS / 1000
              } s`,
              "Move work out of the module's top level into its hook methods.",
            ),
          ),
        INSPECT_TIMEOUT_MS,
      );
      worker.onmessage = (e: MessageEvent<InspectReply>) => resolveReply(e.data);
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        resolveReply({ ok: false, message: e.message, stack: "" });
      };
      worker.postMessage(url.href);
    });
    if (!reply.ok) {
      const err = new Error(reply.message);
      if (reply.name) err.name = reply.name;
      err.stack = reply.stack;
      throw loadError(abs, err);
    }
    const mod = reply.hasDefault
      ? {
        default: reply.entries
          ? Object.fromEntries(reply.entries.map(([k, v]) => [k, rebuild(v)]))
          : rebuild(reply.def),
      }
      : {};
    return validated(abs, mod);
  } finally {
    clearTimeout(timer);
    worker.terminate();
    URL.revokeObjectURL(blob);
  }
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

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : String(e);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
