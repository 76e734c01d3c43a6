/**
 * The host side of hooks, as a port: running a hook program in a process group of its own,
 * importing a TypeScript hook module, and the file checks `admin hooks check` makes. The real
 * implementation is adapters/hooks/ (built once by main.ts); core/hooks only decides.
 */
import type { Hook } from "../../hooks-sdk/mod.ts";

export interface GroupRunOptions {
  /** Added to stowage's environment. */
  env?: Record<string, string>;
  cwd?: string;
  stdin?: string;
  timeoutMs: number;
  /** Shutdown: kills the group like a timeout does. */
  signal?: AbortSignal;
  /** Each complete output line, as it arrives (for logging). */
  onLine?: (stream: "stdout" | "stderr", line: string) => void;
  /** Milliseconds between SIGTERM and SIGKILL (default 3000). */
  graceMs?: number;
}

export interface GroupRunResult {
  exitCode: number;
  /** Set when the program died from a signal. */
  signal?: string;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  /** Processes of the group still held the output open after the program exited; they were killed. */
  killedLeftovers: boolean;
}

export interface LoadedHookModule {
  hook: Hook;
  /** The module's `name`, or its file name. */
  name: string;
  path: string;
}

export interface HookHost {
  /**
   * Runs argv on the host in a new process group; a program named by path must be a trusted
   * file (owned by root or this user, not writable by others), else `hook.failed`.
   */
  run(argv: string[], opts: GroupRunOptions): Promise<GroupRunResult>;
  /** Imports a trusted module file and validates its default export (`hook.failed` otherwise). */
  loadModule(path: string): Promise<LoadedHookModule>;
  /** Like loadModule, in a worker that may only read: shape only, methods are stubs. */
  inspectModule(path: string): Promise<LoadedHookModule>;
  /** Why `sh -n` refuses this command line, or undefined when it parses. */
  shellSyntaxError(line: string): Promise<string | undefined>;
  /** Why `path` cannot be executed, or undefined when it can. */
  notExecutable(path: string): Promise<string | undefined>;
  /** Why `path` may not be run or imported as a hook, or undefined when it may. */
  untrustedReason(path: string): Promise<string | undefined>;
  /** The absolute form of a module path (relative ones against the working directory). */
  modulePath(path: string): string;
}

/**
 * The program file a hook's argv starts, when it names one by path: argv[0] with a `/`, or for
 * `sh -c LINE` the first word of LINE (after VAR=value assignments) when it is a plain path.
 */
export function hookProgramPath(argv: string[]): string | undefined {
  if (argv[0] === "sh" && argv[1] === "-c" && argv.length >= 3) {
    const word = argv[2].trim().split(/\s+/).find((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
    return word && word.includes("/") && !/[$`"'(){};&|<>\\*?[\]~]/.test(word) ? word : undefined;
  }
  return argv[0]?.includes("/") ? argv[0] : undefined;
}
