/**
 * ProcessRunner on Deno.Command. Each child gets its own process group (via setsid when
 * available is not possible from Deno, so we kill the pid and rely on callers that need
 * group kills (hooks) to wrap the command); timeouts and aborts send SIGTERM, then SIGKILL.
 */
import { StowageError } from "../core/errors.ts";
import type { ProcessRunner, RunOptions, RunResult } from "../core/ports.ts";

const decoder = new TextDecoder();

export class DenoProcessRunner implements ProcessRunner {
  async run(program: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(program, {
        args,
        cwd: opts.cwd,
        env: opts.env,
        stdin: opts.stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      throw spawnError(program, e);
    }
    const stop = () => terminate(child);
    opts.signal?.addEventListener("abort", stop, { once: true });
    const timer = opts.timeoutMs ? setTimeout(stop, opts.timeoutMs) : undefined;
    try {
      if (opts.stdin !== undefined) {
        const w = child.stdin.getWriter();
        await w.write(
          typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin,
        ).catch(() => {});
        await w.close().catch(() => {});
      }
      const out = await child.output();
      return {
        code: out.code,
        signal: out.signal ?? undefined,
        stdout: decoder.decode(out.stdout),
        stderr: decoder.decode(out.stderr),
      };
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", stop);
    }
  }
}

/** SIGTERM now, SIGKILL after a grace period if still alive. */
export function terminate(child: Deno.ChildProcess, graceMs = 5000) {
  try {
    child.kill("SIGTERM");
  } catch { /* already gone */ }
  const t = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, graceMs);
  child.status.finally(() => clearTimeout(t));
}

/** Maps spawn failures (not installed, not permitted) to one-line errors. */
export function spawnError(program: string, e: unknown): Error {
  if (e instanceof Deno.errors.NotFound) {
    return new StowageError(
      "dependency.missing",
      `Cannot run '${program}': it is not installed or not on PATH`,
      "Run `stowage admin system install-deps`, or see `stowage admin system show-deps`.",
      { cause: e },
    );
  }
  if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
    return new StowageError(
      "dependency.missing",
      `Cannot run '${program}': stowage's permission set does not allow it`,
      "Use a program on PATH with the standard name (restic, docker-compose, ...), or symlink it there.",
      { cause: e },
    );
  }
  return e instanceof Error ? e : new Error(String(e));
}
