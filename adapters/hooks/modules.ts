/**
 * Importing TypeScript hook modules (the HookHost port's loadModule and inspectModule): trusted
 * files only, each file version imported once, and `admin hooks check` imports in a worker that
 * may only read. Shape checks and error wording are core/hooks/module.ts.
 */
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { StowageError } from "../../core/errors.ts";
import type { LoadedHookModule } from "../../core/hooks/host.ts";
import { hookLoadError, validatedHookModule } from "../../core/hooks/module.ts";
import { assertTrustedHookFile } from "./trust.ts";

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
    throw hookLoadError(abs, e);
  }
  return validatedHookModule(abs, mod);
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
      throw hookLoadError(abs, err);
    }
    const mod = reply.hasDefault
      ? {
        default: reply.entries
          ? Object.fromEntries(reply.entries.map(([k, v]) => [k, rebuild(v)]))
          : rebuild(reply.def),
      }
      : {};
    return validatedHookModule(abs, mod);
  } finally {
    clearTimeout(timer);
    worker.terminate();
    URL.revokeObjectURL(blob);
  }
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : String(e);
}
