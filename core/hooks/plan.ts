/**
 * Which hooks run for a unit in a phase, in which order: pure, so dry-run, `admin hooks list`
 * and the runner share one answer.
 *
 * Order: global config hooks, then the unit's config hooks (each in list order), then container
 * label hooks. Label hooks of pre phases follow the stop order (dependents first: the app enters
 * maintenance mode before its database flushes), those of post phases the start order
 * (dependencies first: the database is back before the app leaves maintenance mode).
 */
import type { Config, HookSpec } from "../config/schema.ts";
import type { ContainerInfo, Unit } from "../model.ts";
import { orderPlan } from "../order.ts";

export type HookPhase = "pre_backup" | "post_backup" | "pre_restore" | "post_restore" | "verify";
export const HOOK_PHASES: readonly HookPhase[] = [
  "pre_backup",
  "post_backup",
  "pre_restore",
  "post_restore",
  "verify",
];

export type HookMode = "essential" | "optional";
export const DEFAULT_TIMEOUT_SECONDS = 180;

/** Container labels, per phase, holding a command run inside that container. */
export const PHASE_LABELS: Record<HookPhase, string> = {
  pre_backup: "stowage.pre-backup",
  post_backup: "stowage.post-backup",
  pre_restore: "stowage.pre-restore",
  post_restore: "stowage.post-restore",
  verify: "stowage.verify",
};
/** Optional labels that apply to every hook label of the container. */
export const HOOK_USER_LABEL = "stowage.hook-user";
export const HOOK_TIMEOUT_LABEL = "stowage.hook-timeout";
export const HOOK_MODE_LABEL = "stowage.hook-mode";

interface PlannedBase {
  phase: HookPhase;
  /** Shown in logs and events. Never the full command line (it may hold a token). */
  name: string;
  /** Where it was configured: `hooks.pre_backup[0]`, `units.nc.hooks.post_backup[1]`, `label stowage.pre-backup on nc_app_1`. */
  source: string;
  mode: HookMode;
  timeoutSeconds: number;
  /** Set when the hook cannot run as configured (a malformed label); running it fails. */
  problem?: string;
}

export type PlannedHook =
  | PlannedBase & {
    kind: "run";
    /** A string runs through `sh -c`; a list is an argv run without a shell. */
    run: string | string[];
  }
  | PlannedBase & { kind: "module"; module: string }
  | PlannedBase & {
    kind: "label";
    container: string;
    service?: string;
    label: string;
    /** What runs in the container: `sh -c VALUE`, or the label's JSON argv list. */
    argv: string[];
    user?: string;
  };

export function isPrePhase(phase: HookPhase): boolean {
  return phase === "pre_backup" || phase === "pre_restore";
}

/** Every hook that runs for `unit` in `phase`, in order. */
export function plannedHooks(unit: Unit, config: Config, phase: HookPhase): PlannedHook[] {
  const out: PlannedHook[] = [];
  (config.hooks?.[phase] ?? []).forEach((spec, i) =>
    out.push(fromSpec(spec, phase, `hooks.${phase}[${i}]`))
  );
  const unitHooks = config.units?.[unit.name]?.hooks?.[phase] ?? [];
  unitHooks.forEach((spec, i) =>
    out.push(fromSpec(spec, phase, `units.${unit.name}.hooks.${phase}[${i}]`))
  );
  out.push(...labelHooks(unit, phase));
  return out;
}

/** Config hooks only (no unit needed): what `admin hooks check` loads. */
export function configuredHooks(config: Config): PlannedHook[] {
  const out: PlannedHook[] = [];
  for (const phase of HOOK_PHASES) {
    (config.hooks?.[phase] ?? []).forEach((spec, i) =>
      out.push(fromSpec(spec, phase, `hooks.${phase}[${i}]`))
    );
  }
  for (const [name, unit] of Object.entries(config.units ?? {})) {
    for (const phase of HOOK_PHASES) {
      (unit.hooks?.[phase] ?? []).forEach((spec, i) =>
        out.push(fromSpec(spec, phase, `units.${name}.hooks.${phase}[${i}]`))
      );
    }
  }
  return out;
}

export function fromSpec(spec: HookSpec, phase: HookPhase, source: string): PlannedHook {
  const common = {
    phase,
    source,
    mode: spec.mode ?? "essential",
    timeoutSeconds: spec.timeout ?? DEFAULT_TIMEOUT_SECONDS,
  };
  if ("module" in spec) {
    return { ...common, kind: "module", module: spec.module, name: baseName(spec.module) };
  }
  return { ...common, kind: "run", run: spec.run, name: runName(spec.run) };
}

/** The label hooks of the unit's containers for `phase`, in stop order (pre) or start order (post). */
export function labelHooks(
  unit: Pick<Unit, "containers" | "dependsOn">,
  phase: HookPhase,
): PlannedHook[] {
  const label = PHASE_LABELS[phase];
  const order = orderPlan(unit);
  const names = isPrePhase(phase) ? order.stop : order.start;
  const byName = new Map(unit.containers.map((c) => [c.name, c]));
  const out: PlannedHook[] = [];
  for (const name of names) {
    const c = byName.get(name);
    if (!c || c.labels[label] === undefined) continue;
    out.push(labelHook(c, phase, label));
  }
  return out;
}

function labelHook(c: ContainerInfo, phase: HookPhase, label: string): PlannedHook {
  const problems: string[] = [];
  const parsed = parseLabelCommand(c.labels[label]);
  if ("problem" in parsed) problems.push(`label ${label}: ${parsed.problem}`);
  const timeout = parseTimeoutLabel(c.labels[HOOK_TIMEOUT_LABEL]);
  if (typeof timeout === "string") problems.push(`label ${HOOK_TIMEOUT_LABEL}: ${timeout}`);
  const mode = parseModeLabel(c.labels[HOOK_MODE_LABEL]);
  if (mode === undefined) {
    problems.push(
      `label ${HOOK_MODE_LABEL}: expected essential or optional, got ${
        JSON.stringify(c.labels[HOOK_MODE_LABEL])
      }`,
    );
  }
  const user = c.labels[HOOK_USER_LABEL]?.trim();
  return {
    kind: "label",
    phase,
    name: `${label}@${c.name}`,
    source: `label ${label} on ${c.name}`,
    mode: mode ?? "essential",
    timeoutSeconds: typeof timeout === "number" ? timeout : DEFAULT_TIMEOUT_SECONDS,
    container: c.name,
    ...(c.service ? { service: c.service } : {}),
    label,
    argv: "argv" in parsed ? parsed.argv : [],
    ...(user ? { user } : {}),
    ...(problems.length ? { problem: problems.join("; ") } : {}),
  };
}

/**
 * A label value is a shell command line run with `sh -c` inside the container, or, for images
 * without a shell, a JSON list of strings (`["/app/cli", "maintenance", "on"]`) run as argv.
 */
export function parseLabelCommand(value: string): { argv: string[] } | { problem: string } {
  const v = value.trim();
  if (v === "") return { problem: "is empty; write a command, e.g. `touch /data/maintenance`" };
  if (!v.startsWith("[")) return { argv: ["sh", "-c", v] };
  let list: unknown;
  try {
    list = JSON.parse(v);
  } catch {
    return { problem: "starts with '[' but is not a JSON list of strings" };
  }
  if (
    !Array.isArray(list) || list.length === 0 ||
    !list.every((s) => typeof s === "string" && s !== "")
  ) {
    return { problem: "expected a non-empty JSON list of non-empty strings" };
  }
  return { argv: list as string[] };
}

function parseTimeoutLabel(v: string | undefined): number | string {
  if (v === undefined) return DEFAULT_TIMEOUT_SECONDS;
  const n = Number(v.trim());
  if (!Number.isInteger(n) || n < 1 || n > 86400) {
    return `expected seconds from 1 to 86400, got ${JSON.stringify(v)}`;
  }
  return n;
}

function parseModeLabel(v: string | undefined): HookMode | undefined {
  if (v === undefined) return "essential";
  const m = v.trim();
  return m === "essential" || m === "optional" ? m : undefined;
}

function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1) || path;
}

/** The program's base name: enough to recognise the hook, never its arguments. */
export function runName(run: string | string[]): string {
  const program = typeof run === "string" ? (run.trim().split(/\s+/)[0] ?? "") : run[0] ?? "";
  return baseName(program) || "(empty)";
}

/** A JSON-safe summary for dry-run and listings: no commands, which may hold tokens. */
export function describeHook(h: PlannedHook) {
  return {
    phase: h.phase,
    kind: h.kind,
    name: h.name,
    source: h.source,
    mode: h.mode,
    timeoutSeconds: h.timeoutSeconds,
    ...(h.problem ? { problem: h.problem } : {}),
  };
}
