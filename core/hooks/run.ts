/**
 * Runs the hooks of one unit and phase, in the order plannedHooks gives.
 *
 * Pre phases: the first essential failure (non-zero exit, exception, timeout) ends the phase with
 * `failed`; optional failures are logged as warnings and the phase goes on; exit 75 or
 * `{ skip }` ends it with `skip`. Post phases run every hook whatever happens and report the
 * essential failures together; they never undo the backup. A shutdown (ctx.signal) kills a
 * running pre hook; post hooks still run, bounded by their timeouts, because they undo what pre
 * hooks did (maintenance mode on -> off).
 */
import type { Config } from "../config/schema.ts";
import { errorMessage, isStowageError } from "../errors.ts";
import type { ContainerInfo, Scope, Unit } from "../model.ts";
import type { EngineExec, EventSink, ExecResult } from "../ports.ts";
import type {
  CommandResult,
  ExecOptions,
  HookContext,
  Outcome,
  PostHookContext,
  RunOptions,
} from "../../hooks-sdk/mod.ts";
import { SDK_VERSION } from "../../hooks-sdk/version.ts";
import { describeError, PHASE_METHODS } from "./module.ts";
import type { HookHost, LoadedHookModule } from "./host.ts";
import { type HookPhase, isPrePhase, type PlannedHook, plannedHooks } from "./plan.ts";

/** What post hooks learn about the backup or restore. */
export interface HookOutcome {
  status: "ok" | "failed";
  backupId: string;
  snapshots: string[];
  downtimeMs?: number;
  error?: string;
}

export interface HookRunContext {
  phase: HookPhase;
  unit: Unit;
  config: Config;
  backupId: string;
  scope: Scope;
  dryRun: boolean;
  /** Required in post phases. */
  outcome?: HookOutcome;
  engine: EngineExec;
  /** Shutdown (SIGINT/SIGTERM). */
  signal: AbortSignal;
  sink: EventSink;
  /** Runs host programs and imports modules (adapters/hooks). */
  host: HookHost;
}

export type PhaseResult = { status: "ok" } | { status: "skip"; reason: string } | {
  status: "failed";
  error: string;
};

/** One hook's result. `not-run`: nothing to do (container stopped, module without this phase). */
type HookResult =
  & (
    | { status: "ok" }
    | { status: "not-run"; reason: string }
    | { status: "skip"; reason: string }
    | { status: "failed"; error: string }
  )
  & {
    /** A module's own `name`, known once it loaded. */
    name?: string;
  };

/** Exit code a shell or label hook uses to say "skip this unit" (EX_TEMPFAIL, as borgmatic). */
export const SKIP_EXIT_CODE = 75;
/** Output lines logged per hook; the rest is counted, not logged. */
const MAX_LOGGED_LINES = 500;

export async function runPhaseHooks(ctx: HookRunContext): Promise<PhaseResult> {
  const hooks = plannedHooks(ctx.unit, ctx.config, ctx.phase);
  const pre = isPrePhase(ctx.phase);
  if (ctx.dryRun) {
    for (const h of hooks) emitHook(ctx, h, "skipped", "dry run: not run");
    return { status: "ok" };
  }
  const failures: string[] = [];
  for (const planned of hooks) {
    if (pre && ctx.signal.aborted) {
      return {
        status: "failed",
        error: `${ctx.phase} hooks interrupted before '${planned.name}' (${planned.source}) ran`,
      };
    }
    log(
      ctx,
      "debug",
      `running ${ctx.phase} hook '${planned.name}' (${planned.source}, ${planned.mode}, timeout ${planned.timeoutSeconds} s)`,
    );
    const r = await runOne(ctx, planned);
    const h = r.name ? { ...planned, name: r.name } : planned;
    if (r.status === "ok") {
      emitHook(ctx, h, "ok");
      continue;
    }
    if (r.status === "not-run") {
      emitHook(ctx, h, "skipped", r.reason);
      log(ctx, "warning", `${ctx.phase} hook '${h.name}' (${h.source}) did not run: ${r.reason}`);
      continue;
    }
    if (r.status === "skip") {
      if (pre) {
        emitHook(ctx, h, "skipped", r.reason);
        return {
          status: "skip",
          reason: `${ctx.phase} hook '${h.name}' asked to skip: ${r.reason}`,
        };
      }
      emitHook(ctx, h, "ok", `skip ignored in ${ctx.phase}: ${r.reason}`);
      continue;
    }
    const error = `${ctx.phase} hook '${h.name}' (${h.source}) ${r.error}`;
    emitHook(ctx, h, "failed", r.error);
    if (h.mode === "optional") {
      log(ctx, "warning", `optional ${error}; going on`);
      continue;
    }
    log(ctx, "error", error);
    if (pre) return { status: "failed", error };
    failures.push(error);
  }
  return failures.length ? { status: "failed", error: failures.join("; ") } : { status: "ok" };
}

async function runOne(ctx: HookRunContext, h: PlannedHook): Promise<HookResult> {
  if (h.problem) return { status: "failed", error: `cannot run: ${h.problem}` };
  try {
    if (h.kind === "run") return await runShell(ctx, h);
    if (h.kind === "label") return await runLabel(ctx, h);
    return await runModule(ctx, h);
  } catch (e) {
    return { status: "failed", error: `failed: ${errorMessage(e)}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Shell / argv hooks on the host

async function runShell(
  ctx: HookRunContext,
  h: Extract<PlannedHook, { kind: "run" }>,
): Promise<HookResult> {
  const argv = typeof h.run === "string" ? ["sh", "-c", h.run] : h.run;
  const lines = lineLogger(ctx, h.name);
  const res = await ctx.host.run(argv, {
    env: hookEnv(ctx),
    timeoutMs: h.timeoutSeconds * 1000,
    signal: shutdownSignal(ctx),
    onLine: (_stream, line) => lines.line(line),
  });
  lines.finish();
  if (res.killedLeftovers) {
    log(
      ctx,
      "warning",
      `hook '${h.name}': processes it left running still held its output; killed them`,
    );
  }
  if (res.timedOut) {
    return {
      status: "failed",
      error: `timed out after ${h.timeoutSeconds} s; killed it and its child processes`,
    };
  }
  if (res.aborted) {
    return {
      status: "failed",
      error: "was interrupted by shutdown; killed it and its child processes",
    };
  }
  return exitResult(res.exitCode, res.stdout, res.stderr, argv[0]);
}

function exitResult(code: number, stdout: string, stderr: string, program: string): HookResult {
  if (code === 0) return { status: "ok" };
  const last = lastLine(stderr) ?? lastLine(stdout);
  if (code === SKIP_EXIT_CODE) {
    return { status: "skip", reason: last ?? `exit code ${SKIP_EXIT_CODE}` };
  }
  if (code === 127 && /not found/.test(stderr)) {
    return { status: "failed", error: `cannot run '${program}': program not found` };
  }
  if (code === 126) {
    return { status: "failed", error: `cannot run '${program}': not executable (exit 126)` };
  }
  return { status: "failed", error: `exited with code ${code}${last ? `: ${last}` : ""}` };
}

// ---------------------------------------------------------------------------------------------
// Container label hooks, through the Engine's exec API

async function runLabel(
  ctx: HookRunContext,
  h: Extract<PlannedHook, { kind: "label" }>,
): Promise<HookResult> {
  let info;
  try {
    info = await ctx.engine.inspectContainer(h.container);
  } catch (e) {
    // A restore may run pre hooks from the recipe's unit, whose containers are gone.
    if (isStowageError(e, "engine.notfound")) {
      return { status: "not-run", reason: `container '${h.container}' does not exist` };
    }
    throw e;
  }
  if (!info.State.Running || info.State.Paused) {
    return {
      status: "not-run",
      reason: `container '${h.container}' is ${info.State.Paused ? "paused" : info.State.Status}`,
    };
  }
  const res = await execWithDeadline(ctx, h.container, h.argv, {
    user: h.user,
    env: hookEnv(ctx),
    timeoutMs: h.timeoutSeconds * 1000,
    signal: shutdownSignal(ctx),
  });
  if (res.status === "timeout") {
    return {
      status: "failed",
      error:
        `timed out after ${h.timeoutSeconds} s in container '${h.container}'; killed its processes`,
    };
  }
  if (res.status === "aborted") {
    return { status: "failed", error: "was interrupted by shutdown; killed its processes" };
  }
  const lines = lineLogger(ctx, h.name);
  for (
    const l of splitLines(res.result.stdout + (res.result.stderr ? "\n" + res.result.stderr : ""))
  ) lines.line(l);
  lines.finish();
  return exitResult(res.result.exitCode, res.result.stdout, res.result.stderr, h.argv[0]);
}

type ExecOutcome = { status: "done"; result: ExecResult } | { status: "timeout" } | {
  status: "aborted";
};

/**
 * engine.exec with a deadline. An aborted exec keeps running inside the container, so every exec
 * carries a random STOWAGE_HOOK_TOKEN in its environment; on timeout stowage runs a second exec
 * that kills every process of the container whose environment holds that token (the command and
 * every child it started). This needs `sh`, `tr` and `grep` in the image; without them the
 * command is abandoned, not killed.
 */
async function execWithDeadline(
  ctx: HookRunContext,
  container: string,
  argv: string[],
  opts: { user?: string; env: Record<string, string>; timeoutMs: number; signal?: AbortSignal },
): Promise<ExecOutcome> {
  const token = crypto.randomUUID();
  const controller = new AbortController();
  let why: "timeout" | "aborted" | undefined;
  const timer = setTimeout(() => {
    why ??= "timeout";
    controller.abort();
  }, opts.timeoutMs);
  const onAbort = () => {
    why ??= "aborted";
    controller.abort();
  };
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const env = Object.entries({ ...opts.env, STOWAGE_HOOK_TOKEN: token }).map(([k, v]) =>
      `${k}=${v}`
    );
    const stopped = new Promise<never>((_, reject) => {
      controller.signal.addEventListener("abort", () => reject(new Error("stopped")), {
        once: true,
      });
    });
    stopped.catch(() => {});
    const result = await Promise.race([
      ctx.engine.exec(container, argv, { user: opts.user, env, signal: controller.signal }),
      stopped,
    ]);
    return { status: "done", result };
  } catch (e) {
    if (!why) throw e;
    await killByToken(ctx, container, token, opts.user);
    return { status: why };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

const KILL_BY_TOKEN = `t="STOWAGE_HOOK_TOKEN=$1"
for d in /proc/[0-9]*; do
  p=\${d#/proc/}
  [ "$p" = "$$" ] && continue
  if tr '\\0' '\\n' < "$d/environ" 2>/dev/null | grep -qx "$t"; then kill -9 "$p" 2>/dev/null; fi
done
exit 0`;

/** Runs as the hook's own user: root in a container lacks CAP_SYS_PTRACE to read others' environ. */
async function killByToken(
  ctx: HookRunContext,
  container: string,
  token: string,
  user: string | undefined,
) {
  const controller = new AbortController();
  const t = setTimeout(() => controller.abort(), 10_000);
  try {
    await ctx.engine.exec(container, ["sh", "-c", KILL_BY_TOKEN, "sh", token], {
      user,
      signal: controller.signal,
    });
  } catch (e) {
    log(
      ctx,
      "warning",
      `could not kill a timed-out hook command in container '${container}': ${errorMessage(e)}`,
    );
  } finally {
    clearTimeout(t);
  }
}

// ---------------------------------------------------------------------------------------------
// TypeScript modules

async function runModule(
  ctx: HookRunContext,
  h: Extract<PlannedHook, { kind: "module" }>,
): Promise<HookResult> {
  let loaded;
  try {
    loaded = await ctx.host.loadModule(h.module);
  } catch (e) {
    return { status: "failed", error: `failed to load: ${errorMessage(e)}` };
  }
  return { ...(await invokeModule(ctx, h, loaded)), name: loaded.name };
}

async function invokeModule(
  ctx: HookRunContext,
  h: Extract<PlannedHook, { kind: "module" }>,
  loaded: LoadedHookModule,
): Promise<HookResult> {
  const methodName = PHASE_METHODS[ctx.phase];
  const method = loaded.hook[methodName];
  if (typeof method !== "function") {
    return { status: "not-run", reason: `module '${loaded.path}' defines no ${methodName}` };
  }
  const displayName = loaded.name;

  const controller = new AbortController();
  let why: "timeout" | "aborted" | undefined;
  const timer = setTimeout(() => {
    why ??= "timeout";
    controller.abort(
      new DOMException(
        `hook '${displayName}' timed out after ${h.timeoutSeconds} s`,
        "TimeoutError",
      ),
    );
  }, h.timeoutSeconds * 1000);
  const shutdown = shutdownSignal(ctx);
  const onAbort = () => {
    why ??= "aborted";
    controller.abort(new DOMException("stowage is shutting down", "AbortError"));
  };
  if (shutdown?.aborted) onAbort();
  else shutdown?.addEventListener("abort", onAbort, { once: true });

  const hookCtx = moduleContext(ctx, displayName, h.timeoutSeconds, controller.signal);
  const stopped = new Promise<"stopped">((resolve) => {
    controller.signal.addEventListener("abort", () => resolve("stopped"), { once: true });
  });
  try {
    const ret = await Promise.race([
      // deno-lint-ignore no-explicit-any
      Promise.resolve().then(() => (method as (c: any) => unknown).call(loaded.hook, hookCtx)),
      stopped,
    ]);
    if (ret === "stopped" && why) {
      return why === "timeout"
        ? {
          status: "failed",
          error:
            `timed out after ${h.timeoutSeconds} s; its commands were killed and its pending work abandoned`,
        }
        : { status: "failed", error: "was interrupted by shutdown; its commands were killed" };
    }
    if (ret === undefined || ret === null) return { status: "ok" };
    if (isPrePhase(ctx.phase)) {
      const skip = (ret as { skip?: unknown }).skip;
      if (typeof ret === "object" && typeof skip === "string" && skip.trim() !== "") {
        return { status: "skip", reason: skip };
      }
      return {
        status: "failed",
        error: `returned ${safeJson(ret)}; a pre hook returns nothing or { skip: "reason" }`,
      };
    }
    return { status: "ok" };
  } catch (e) {
    if (why) {
      return {
        status: "failed",
        error: why === "timeout"
          ? `timed out after ${h.timeoutSeconds} s`
          : "was interrupted by shutdown",
      };
    }
    return { status: "failed", error: `threw: ${describeError(e, loaded.path)}` };
  } finally {
    clearTimeout(timer);
    shutdown?.removeEventListener("abort", onAbort);
    if (!controller.signal.aborted) {
      controller.abort(new DOMException("the hook finished", "AbortError"));
    }
  }
}

function moduleContext(
  ctx: HookRunContext,
  name: string,
  timeoutSeconds: number,
  signal: AbortSignal,
): HookContext | PostHookContext {
  const base: HookContext = {
    sdkVersion: SDK_VERSION,
    unit: { name: ctx.unit.name, kind: ctx.unit.kind },
    phase: ctx.phase,
    backupId: ctx.backupId,
    scope: ctx.scope,
    dryRun: ctx.dryRun,
    containers: ctx.unit.containers.map((c) => ({
      name: c.name,
      ...(c.service ? { service: c.service } : {}),
      image: c.image,
      state: c.state,
      labels: { ...c.labels },
    })),
    signal,
    log: {
      info: (m) => log(ctx, "info", `${name}: ${m}`),
      warn: (m) => log(ctx, "warning", `${name}: ${m}`),
      error: (m) => log(ctx, "error", `${name}: ${m}`),
    },
    exec: async (
      target: string,
      argv: string[],
      opts: ExecOptions = {},
    ): Promise<CommandResult> => {
      if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string")) {
        throw new Error(`exec in '${target}': argv must be a non-empty list of strings`);
      }
      const container = resolveTarget(ctx.unit, target);
      signal.throwIfAborted();
      const res = await execWithDeadline(ctx, container, argv, {
        user: opts.user,
        env: { ...hookEnv(ctx), ...(opts.env ?? {}) },
        timeoutMs: timeoutSeconds * 1000,
        signal,
      });
      if (res.status !== "done") {
        throw signal.reason ?? new Error(`exec in '${container}' was stopped`);
      }
      if (opts.check && res.result.exitCode !== 0) {
        throw new Error(`'${argv[0]}' in container '${container}' ${exitText(res.result)}`);
      }
      return res.result;
    },
    run: async (
      program: string,
      args: string[] = [],
      opts: RunOptions = {},
    ): Promise<CommandResult> => {
      signal.throwIfAborted();
      const res = await ctx.host.run([program, ...args], {
        env: { ...hookEnv(ctx), ...(opts.env ?? {}) },
        cwd: opts.cwd,
        stdin: opts.stdin,
        timeoutMs: timeoutSeconds * 1000,
        signal,
      });
      if (res.timedOut || res.aborted) throw signal.reason ?? new Error(`'${program}' was stopped`);
      const result = { exitCode: res.exitCode, stdout: res.stdout, stderr: res.stderr };
      if (opts.check && result.exitCode !== 0) throw new Error(`'${program}' ${exitText(result)}`);
      return result;
    },
  };
  if (!isPrePhase(ctx.phase)) return { ...base, outcome: outcomeOf(ctx) } satisfies PostHookContext;
  return base;
}

/** A service name (first running container of it), else a container name of the unit. */
function resolveTarget(unit: Unit, target: string): string {
  const ofService = unit.containers.filter((c) => c.service === target);
  if (ofService.length) return (ofService.find((c) => c.running) ?? ofService[0]).name;
  if (unit.containers.some((c) => c.name === target)) return target;
  const services = [
    ...new Set(unit.containers.map((c) => c.service).filter((s): s is string => !!s)),
  ];
  const names = services.length ? services : unit.containers.map((c) => c.name);
  throw new Error(
    `unit '${unit.name}' has no service or container '${target}' (it has: ${
      names.join(", ") || "none"
    })`,
  );
}

function exitText(r: CommandResult): string {
  const last = lastLine(r.stderr) ?? lastLine(r.stdout);
  return `exited with code ${r.exitCode}${last ? `: ${last}` : ""}`;
}

// ---------------------------------------------------------------------------------------------
// Shared

function outcomeOf(ctx: HookRunContext): Outcome {
  return ctx.outcome ?? { status: "ok", backupId: ctx.backupId, snapshots: [] };
}

/** The environment every hook gets (shell, label and the commands modules start). */
export function hookEnv(
  ctx: Pick<HookRunContext, "phase" | "unit" | "backupId" | "scope" | "dryRun" | "outcome">,
): Record<string, string> {
  const env: Record<string, string> = {
    STOWAGE_UNIT: ctx.unit.name,
    STOWAGE_UNIT_KIND: ctx.unit.kind,
    STOWAGE_PHASE: ctx.phase,
    STOWAGE_BACKUP_ID: ctx.backupId,
    STOWAGE_SCOPE: ctx.scope,
    STOWAGE_DRY_RUN: ctx.dryRun ? "1" : "0",
    STOWAGE_CONTAINERS: JSON.stringify(ctx.unit.containers.map(containerEnv)),
  };
  if (!isPrePhase(ctx.phase)) {
    const o = ctx.outcome ?? { status: "ok", backupId: ctx.backupId, snapshots: [] };
    env.STOWAGE_OUTCOME = o.status;
    env.STOWAGE_ERROR = o.error ?? "";
    env.STOWAGE_SNAPSHOTS = o.snapshots.join(" ");
    if (o.downtimeMs !== undefined) env.STOWAGE_DOWNTIME_MS = String(Math.round(o.downtimeMs));
  }
  return env;
}

function containerEnv(c: ContainerInfo) {
  return {
    name: c.name,
    ...(c.service ? { service: c.service } : {}),
    image: c.image,
    state: c.state,
  };
}

/** Pre hooks stop on shutdown; post hooks ignore it (their timeouts still apply). */
function shutdownSignal(ctx: HookRunContext): AbortSignal | undefined {
  return isPrePhase(ctx.phase) ? ctx.signal : undefined;
}

function emitHook(
  ctx: HookRunContext,
  h: PlannedHook,
  outcome: "ok" | "failed" | "skipped",
  message?: string,
) {
  ctx.sink.emit({
    type: "hook",
    unit: ctx.unit.name,
    hook: h.name,
    phase: ctx.phase,
    outcome,
    ...(message ? { message } : {}),
  });
}

function log(ctx: HookRunContext, level: "debug" | "info" | "warning" | "error", message: string) {
  ctx.sink.emit({ type: "log", level, message, unit: ctx.unit.name, operation: "hook" });
}

/** Logs a hook's output lines as info events, up to MAX_LOGGED_LINES. */
function lineLogger(ctx: HookRunContext, name: string) {
  let n = 0;
  return {
    line(l: string) {
      if (l.trim() === "") return;
      if (++n <= MAX_LOGGED_LINES) {
        log(ctx, "info", `${name}: ${l.length > 2000 ? l.slice(0, 2000) + "..." : l}`);
      }
    },
    finish() {
      if (n > MAX_LOGGED_LINES) {
        log(ctx, "info", `${name}: ... ${n - MAX_LOGGED_LINES} more lines not logged`);
      }
    },
  };
}

function splitLines(s: string): string[] {
  return s.split("\n").map((l) => l.replace(/\r$/, ""));
}

function lastLine(s: string): string | undefined {
  const lines = splitLines(s).map((l) => l.trim()).filter(Boolean);
  const l = lines[lines.length - 1];
  return l === undefined ? undefined : l.length > 300 ? l.slice(0, 300) + "..." : l;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
