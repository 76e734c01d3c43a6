/**
 * `admin hooks check`: load every configured hook without running any. Modules are imported in a
 * worker that can only read (HookHost.inspectModule) and their export validated; modules
 * and program files must be owned by root (or this user) and not group/world-writable;
 * programs must exist and be executable; shell command lines must parse (`sh -n`); container
 * labels must be well-formed. Every problem names its config path.
 */
import type { Config } from "../config/schema.ts";
import { errorMessage } from "../errors.ts";
import type { Unit } from "../model.ts";
import type { HookHost } from "./host.ts";
import { PHASE_METHODS } from "./module.ts";
import { configuredHooks, HOOK_PHASES, labelHooks, type PlannedHook } from "./plan.ts";

export interface HookCheck {
  source: string;
  phase: string;
  kind: PlannedHook["kind"];
  name: string;
  mode: string;
  timeoutSeconds: number;
  ok: boolean;
  problems: string[];
  warnings: string[];
}

export interface CheckOptions {
  /** Reads PATH to find programs given by name. */
  env: (name: string) => string | undefined;
  /** Units whose container labels are checked too (when the Engine was reachable). */
  units?: Unit[];
  host: HookHost;
}

/** Shell words that are not programs on PATH. */
const SHELL_WORDS = new Set([
  ".",
  ":",
  "[",
  "!",
  "{",
  "}",
  "alias",
  "break",
  "case",
  "cd",
  "command",
  "continue",
  "echo",
  "eval",
  "exec",
  "exit",
  "export",
  "false",
  "for",
  "if",
  "printf",
  "read",
  "readonly",
  "return",
  "set",
  "shift",
  "source",
  "test",
  "trap",
  "true",
  "type",
  "ulimit",
  "umask",
  "unset",
  "until",
  "wait",
  "while",
]);

export async function checkHooks(config: Config, opts: CheckOptions): Promise<HookCheck[]> {
  const hooks = configuredHooks(config);
  const out: HookCheck[] = [];
  for (const h of hooks) {
    const c = base(h);
    try {
      if (h.kind === "module") await checkModule(h, hooks, opts.host, c);
      else if (h.kind === "run") await checkRun(h, opts, c);
    } catch (e) {
      c.problems.push(errorMessage(e));
    }
    out.push(finish(c));
  }
  for (const unit of opts.units ?? []) {
    for (const phase of HOOK_PHASES) {
      for (const h of labelHooks(unit, phase)) {
        const c = base(h);
        if (h.problem) c.problems.push(h.problem);
        out.push(finish(c));
      }
    }
  }
  return out;
}

function base(h: PlannedHook): HookCheck {
  return {
    source: h.source,
    phase: h.phase,
    kind: h.kind,
    name: h.name,
    mode: h.mode,
    timeoutSeconds: h.timeoutSeconds,
    ok: true,
    problems: [],
    warnings: [],
  };
}

function finish(c: HookCheck): HookCheck {
  c.ok = c.problems.length === 0;
  return c;
}

async function checkModule(
  h: Extract<PlannedHook, { kind: "module" }>,
  all: PlannedHook[],
  host: HookHost,
  c: HookCheck,
) {
  if (!h.module.startsWith("/")) {
    c.warnings.push(
      `relative module path '${h.module}' is resolved against the working directory; use an absolute path`,
    );
  }
  const loaded = await host.inspectModule(h.module);
  c.name = loaded.name;
  const method = PHASE_METHODS[h.phase];
  if (typeof loaded.hook[method] !== "function") {
    c.problems.push(
      `module '${loaded.path}' is configured for ${h.phase} but defines no ${method}`,
    );
  }
  // A module with postBackup listed only under pre_backup leaves e.g. maintenance mode on.
  const scope = h.source.slice(0, h.source.lastIndexOf("hooks.") + "hooks.".length);
  for (const phase of HOOK_PHASES) {
    const m = PHASE_METHODS[phase];
    if (phase === h.phase || typeof loaded.hook[m] !== "function") continue;
    const listed = all.some((o) =>
      o.kind === "module" && o.phase === phase && o.source.startsWith(scope) &&
      host.modulePath(o.module) === loaded.path
    );
    if (!listed) {
      c.warnings.push(
        `defines ${m}, but the module is not listed under ${scope}${phase}, so it never runs`,
      );
    }
  }
}

async function checkRun(
  h: Extract<PlannedHook, { kind: "run" }>,
  opts: CheckOptions,
  c: HookCheck,
) {
  let program: string | undefined;
  if (typeof h.run === "string") {
    const syntax = await opts.host.shellSyntaxError(h.run);
    if (syntax !== undefined) {
      c.problems.push(`the command line does not parse in sh: ${syntax}`);
      return;
    }
    program = h.run.trim().split(/\s+/).find((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
    if (program === undefined || SHELL_WORDS.has(program) || /[$`"'(;&|<>]/.test(program)) return;
  } else {
    program = h.run[0];
  }
  if (program === undefined || program === "") {
    c.problems.push("the command is empty");
    return;
  }
  if (program.includes("/")) {
    if (!program.startsWith("/")) {
      c.warnings.push(
        `relative program path '${program}' is resolved against the working directory`,
      );
    }
    const why = await opts.host.notExecutable(program);
    if (why) c.problems.push(`program '${program}' ${why}`);
    const untrusted = await opts.host.untrustedReason(program);
    if (untrusted) {
      c.problems.push(
        `program '${program}' is refused: ${untrusted} (chown root and chmod go-w the file and its directories)`,
      );
    }
    return;
  }
  for (
    const dir of (opts.env("PATH") ?? "/usr/local/bin:/usr/bin:/bin").split(":").filter(Boolean)
  ) {
    if ((await opts.host.notExecutable(`${dir}/${program}`)) === undefined) return;
  }
  c.problems.push(`program '${program}' is not on PATH`);
}
