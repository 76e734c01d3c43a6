/**
 * Hooks around backups and restores: shell commands and argv lists on the host, TypeScript
 * modules written against hooks-sdk/, and commands in containers named by `stowage.*` labels.
 *
 * - plannedHooks(): which hooks run for a unit and phase, in order (pure; dry-run lists these).
 * - runPhaseHooks(): runs them and says whether the unit goes on, is skipped, or failed.
 * - checkHooks(): loads every configured hook without running it (`admin hooks check`).
 * See docs/hooks.md.
 */
import type { Config } from "../config/schema.ts";
import type { Scope, Unit } from "../model.ts";
import type { EngineExec, EventSink } from "../ports.ts";
import { type HookOutcome, type PhaseResult, runPhaseHooks } from "./run.ts";
import type { HookHost } from "./host.ts";

export {
  configuredHooks,
  describeHook,
  HOOK_MODE_LABEL,
  HOOK_PHASES,
  HOOK_TIMEOUT_LABEL,
  HOOK_USER_LABEL,
  type HookMode,
  type HookPhase,
  isPrePhase,
  PHASE_LABELS,
  type PlannedHook,
  plannedHooks,
} from "./plan.ts";
export {
  hookEnv,
  type HookOutcome,
  type HookRunContext,
  type PhaseResult,
  runPhaseHooks,
  SKIP_EXIT_CODE,
} from "./run.ts";
export { describeError, validateHookExport } from "./module.ts";
export { type HookHost, type LoadedHookModule } from "./host.ts";
export { checkHooks, type HookCheck } from "./check.ts";

interface Wiring {
  config: Config;
  engine: EngineExec;
  sink: EventSink;
  signal: AbortSignal;
  host: HookHost;
}

/**
 * The `hooks` dependency of the backup orchestrator (core/backup/run.ts `BackupHooks`), so the
 * CLI wires hooks with one call: `hooks: backupHooks({ config, engine, sink, signal, host })`.
 */
export function backupHooks(w: Wiring) {
  return {
    pre: (unit: Unit, info: { backupId: string; scope: Scope }): Promise<PhaseResult> =>
      runPhaseHooks({
        ...w,
        phase: "pre_backup",
        unit,
        backupId: info.backupId,
        scope: info.scope,
        dryRun: false,
      }),
    post: (
      unit: Unit,
      info: {
        backupId: string;
        scope: Scope;
        outcome: Omit<HookOutcome, "backupId"> & { backupId?: string };
      },
    ): Promise<PhaseResult> =>
      runPhaseHooks({
        ...w,
        phase: "post_backup",
        unit,
        backupId: info.backupId,
        scope: info.scope,
        dryRun: false,
        outcome: { ...info.outcome, backupId: info.outcome.backupId ?? info.backupId },
      }),
  };
}
