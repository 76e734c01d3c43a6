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

/**
 * The command line that runs `program` in a new session without a controlling terminal
 * (util-linux `setsid -w`, which keeps the pid, or waits and passes the exit code on when it has
 * to fork). Such a child cannot open /dev/tty: ssh and restic can never prompt on the operator's
 * terminal, nor be stopped by SIGTTIN/SIGTTOU for touching it while stowage waits. Ctrl-C no longer
 * reaches the child directly; callers interrupt it through their abort signal.
 *
 * `setsid` would run anything, so the permission set's rule for `program` is checked first.
 */
export function withoutTerminal(
  program: string,
  args: string[],
): { program: string; args: string[] } {
  const state = Deno.permissions.querySync({ name: "run", command: program }).state;
  if (state !== "granted") {
    // Deno cannot grant what it cannot find on PATH: say "not installed" for that case.
    throw spawnError(
      program,
      onPath(program)
        ? new Deno.errors.NotCapable(`Requires run access to "${program}"`)
        : new Deno.errors.NotFound(program),
    );
  }
  return { program: "setsid", args: ["-w", program, ...args] };
}

function onPath(program: string): boolean {
  const exists = (p: string) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  };
  if (program.includes("/")) return exists(program);
  return (Deno.env.get("PATH") ?? "").split(":").some((d) => d && exists(`${d}/${program}`));
}

/**
 * setsid's own failure to start the program (exit 126/127 and its message), as the error a
 * direct spawn would have raised; undefined for the program's own exit.
 */
export function setsidFailure(program: string, code: number, stderr: string): Error | undefined {
  if ((code !== 126 && code !== 127) || !/^setsid: failed to execute/m.test(stderr)) {
    return undefined;
  }
  return spawnError(
    program,
    /No such file/.test(stderr)
      ? new Deno.errors.NotFound(stderr)
      : new Deno.errors.PermissionDenied(stderr),
  );
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
