/**
 * Runs a hook program on the host in a process group of its own, so a timeout or a shutdown
 * kills the hook and every child it started.
 *
 * Why `sh`: stowage's permission set lists the programs it may start, and hooks are arbitrary
 * programs. Every hook goes through `sh -c 'exec "$0" "$@"' argv...`, which replaces the shell
 * with the program (no shell parsing of argv), so only `sh` needs permission. `detached` makes
 * the child a session and process-group leader; `Deno.kill` cannot signal a group without
 * run-everything permission, so the group is signalled with `kill -s SIG -- -PGID` through `sh`.
 * See docs/adr/0003-hook-processes.md.
 */
import { StowageError } from "../../core/errors.ts";
import {
  type GroupRunOptions,
  type GroupRunResult,
  hookProgramPath,
} from "../../core/hooks/host.ts";
import { assertTrustedHookFile } from "./trust.ts";

/** Bytes of each stream kept for the result; the rest is dropped (and still logged line by line). */
const CAPTURE_LIMIT = 8 * 1024 * 1024;
/** How long output pipes may stay open after the program exited before leftovers are killed. */
const DRAIN_MS = 1000;

export async function runInGroup(argv: string[], opts: GroupRunOptions): Promise<GroupRunResult> {
  if (argv.length === 0 || argv[0] === "") {
    throw new StowageError(
      "hook.failed",
      "Cannot run a hook with an empty command",
      "Give `run` a program path or an argv list.",
    );
  }
  const program = hookProgramPath(argv);
  if (program) await assertTrustedHookFile(program, "program");
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("sh", {
      args: ["-c", 'exec "$0" "$@"', ...argv],
      env: opts.env,
      cwd: opts.cwd,
      detached: true,
      stdin: opts.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    throw new StowageError(
      "dependency.missing",
      `Cannot start hook '${argv[0]}': cannot run 'sh' (${
        e instanceof Error ? e.name : String(e)
      })`,
      "Hooks run through /bin/sh; make sure it exists and is on PATH.",
      { cause: e },
    );
  }
  const pgid = child.pid;
  let timedOut = false;
  let aborted = false;
  let killing: Promise<void> | undefined;
  const kill = () => (killing ??= killGroup(pgid, child.status, opts.graceMs ?? 3000));
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, opts.timeoutMs);
  const onAbort = () => {
    aborted = true;
    kill();
  };
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener("abort", onAbort, { once: true });

  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    w.write(new TextEncoder().encode(opts.stdin)).then(() => w.close()).catch(() => {});
  }
  const out = collect(child.stdout, (l) => opts.onLine?.("stdout", l));
  const err = collect(child.stderr, (l) => opts.onLine?.("stderr", l));
  try {
    const status = await child.status;
    let killedLeftovers = false;
    const drained = Promise.all([out.done, err.done]);
    const inTime = await Promise.race([
      drained.then(() => true),
      delay(DRAIN_MS).then(() => false),
    ]);
    if (!inTime) {
      // Something the hook started in the background still holds its output: kill the group.
      killedLeftovers = true;
      await signalGroup(pgid, "KILL");
      await drained;
    }
    if (killing) await killing;
    return {
      exitCode: status.code,
      ...(status.signal ? { signal: status.signal } : {}),
      stdout: out.text(),
      stderr: err.text(),
      timedOut,
      aborted,
      killedLeftovers,
    };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

/** SIGTERM to the group, SIGKILL to whatever is left once the leader exited or the grace ran out. */
async function killGroup(pgid: number, leaderExited: Promise<unknown>, graceMs: number) {
  await signalGroup(pgid, "TERM");
  await Promise.race([leaderExited, delay(graceMs)]);
  await signalGroup(pgid, "KILL");
}

async function signalGroup(pgid: number, sig: "TERM" | "KILL") {
  try {
    await new Deno.Command("sh", {
      args: ["-c", 'kill -s "$1" -- "-$2" 2>/dev/null', "sh", sig, String(pgid)],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
  } catch { /* sh vanished: nothing more we can do */ }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => {
    const t = setTimeout(r, ms);
    Deno.unrefTimer(t);
  });
}

/** Reads a stream to the end: whole lines to `onLine`, the first CAPTURE_LIMIT bytes kept. */
function collect(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
  let text = "";
  let truncated = false;
  let pending = "";
  const done = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        const s = decoder.decode(chunk, { stream: true });
        if (text.length < CAPTURE_LIMIT) text += s;
        else truncated = true;
        pending += s;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const l of lines) onLine(l.replace(/\r$/, ""));
      }
    } catch { /* the group was killed mid-write */ }
    pending += decoder.decode();
    if (pending !== "") onLine(pending);
  })();
  return {
    done,
    text: () =>
      (text.length > CAPTURE_LIMIT ? text.slice(0, CAPTURE_LIMIT) : text) +
      (truncated ? "\n[output truncated]" : ""),
  };
}
