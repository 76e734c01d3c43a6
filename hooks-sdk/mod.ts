/**
 * The stowage hooks SDK, version 1.1.0: types only.
 *
 * A hook module imports nothing at run time. It imports these types with `import type` and
 * default-exports one object checked with `satisfies Hook`:
 *
 * ```ts
 * import type { Hook } from "@stowage/hooks-sdk";
 *
 * export default {
 *   sdk: 1,
 *   name: "maintenance-mode",
 *   async preBackup(ctx) {
 *     await ctx.exec("app", ["touch", "/data/maintenance"], { check: true });
 *   },
 *   async postBackup(ctx) {
 *     await ctx.exec("app", ["rm", "-f", "/data/maintenance"], { check: true });
 *     ctx.log.info(`backup ${ctx.outcome.status}`);
 *   },
 * } satisfies Hook;
 * ```
 *
 * Every capability (running commands in containers or on the host, logging, cancellation)
 * arrives through the context object, so a module loads the same way under `deno run` and
 * inside the compiled stowage binary. `stowage admin hooks init DIR` writes a copy of this file
 * as `DIR/sdk.ts` with a `deno.json` that maps `@stowage/hooks-sdk` to it.
 *
 * Compatibility: stowage loads a module only when its `sdk` field equals stowage's SDK major
 * version. Minor versions only add optional members.
 */

/** The SDK major version this file describes. A module declares it as `sdk: 1`. */
export type SdkMajor = 1;

/** When a hook runs. */
export type Phase = "pre_backup" | "post_backup" | "pre_restore" | "post_restore" | "verify";

/** How much of a unit a backup saves. */
export type Scope = "minimal" | "standard" | "full";

/** One container of the unit, as discovered before the phase started. */
export interface ContainerView {
  /** Container name without the leading slash, e.g. `nextcloud_app_1`. */
  name: string;
  /** Compose service name; absent for standalone containers. */
  service?: string;
  /** Image reference as the container was created, e.g. `postgres:16`. */
  image: string;
  /** Engine state when the unit was discovered: running, exited, created, paused, ... */
  state: string;
  labels: Record<string, string>;
}

/** What a command returned. Output is text (UTF-8), captured whole. */
export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** User (name or uid[:gid]) to run as inside the container; default: the container's user. */
  user?: string;
  /** Extra environment variables inside the container. */
  env?: Record<string, string>;
  /** Throw an Error when the command exits non-zero (its stderr in the message). Default false. */
  check?: boolean;
}

export interface RunOptions {
  cwd?: string;
  /** Extra environment variables, added to stowage's environment. */
  env?: Record<string, string>;
  /** Text written to the program's standard input. */
  stdin?: string;
  /** Throw an Error when the program exits non-zero (its stderr in the message). Default false. */
  check?: boolean;
}

/** Lines go into stowage's log, prefixed with the hook's name. */
export interface HookLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** The result of the backup or restore, given to post hooks. */
export interface Outcome {
  status: "ok" | "failed";
  backupId: string;
  /** Ids of the snapshots this unit's backup wrote (empty for restores and failed runs). */
  snapshots: string[];
  /** First container stop to last start, when containers were stopped. */
  downtimeMs?: number;
  /** The failure, when status is "failed". */
  error?: string;
}

export interface HookContext {
  /** The SDK version of the running stowage, e.g. "1.0.0". */
  sdkVersion: string;
  unit: { name: string; kind: "stack" | "standalone" };
  phase: Phase;
  /** The run's backup id (for restores: the backup being restored). */
  backupId: string;
  scope: Scope;
  /** Always false today: stowage runs no hooks in a dry run (`stowage dry-run` only lists them). */
  dryRun: boolean;
  containers: ContainerView[];
  /** Fires when the hook's timeout expires or stowage shuts down. Pass it on to long work. */
  signal: AbortSignal;
  log: HookLog;
  /**
   * Runs argv inside a running container of the unit, named by service (`app`) or container
   * name; no shell unless argv says `sh -c`. Killed when `signal` fires.
   */
  exec(serviceOrContainer: string, argv: string[], opts?: ExecOptions): Promise<CommandResult>;
  /** Runs a program on the host (no shell), in its own process group, killed when `signal` fires. */
  run(program: string, args?: string[], opts?: RunOptions): Promise<CommandResult>;
}

export interface PostHookContext extends HookContext {
  outcome: Outcome;
}

/** A pre hook returns nothing to go on, or `{ skip }` to skip this unit without a failure. */
export type PreResult = void | undefined | { skip: string };

/**
 * A hook module's default export. Throwing (or rejecting) fails the hook; in pre phases an
 * essential hook's failure skips the unit and touches no container.
 */
export interface Hook {
  /** The SDK major version the module was written for. */
  sdk: SdkMajor;
  /** Shown in logs; default: the module's file name. */
  name?: string;
  preBackup?(ctx: HookContext): PreResult | Promise<PreResult>;
  postBackup?(ctx: PostHookContext): void | Promise<void>;
  preRestore?(ctx: HookContext): PreResult | Promise<PreResult>;
  postRestore?(ctx: PostHookContext): void | Promise<void>;
  /**
   * SDK 1.1: in a restore drill (`stowage verify`), once the sandbox is healthy. `ctx.exec` runs
   * inside the sandbox's containers (by service name), e.g. a SQL query or an HTTP request from
   * inside the sandbox network; `ctx.unit.name` is the live unit's. Throwing fails the drill.
   */
  verify?(ctx: PostHookContext): void | Promise<void>;
}
