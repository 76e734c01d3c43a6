/**
 * `admin hooks init DIR`, `admin hooks check`, `admin hooks list`: write a typed starting point
 * for hook modules, load every configured hook without running it, and show which hooks run for
 * which unit in which order.
 */
import type { AdminCommand } from "./admin.ts";
import type { LoadedConfig, Runtime } from "../runtime.ts";
import { globals, setExitCode } from "../mod.ts";
import { printJson, table, tableWidth } from "../output.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { StowageError } from "../../core/errors.ts";
import { closestN } from "../../core/text.ts";
import type { Unit } from "../../core/model.ts";
import { hostUnits } from "../../app/host_units.ts";
import {
  checkHooks,
  configuredHooks,
  describeHook,
  HOOK_PHASES,
  type HookCheck,
  type HookPhase,
  type PlannedHook,
  plannedHooks,
} from "../../core/hooks/mod.ts";
import { SDK_VERSION } from "../../hooks-sdk/version.ts";
// Embedded as text so `init` works the same from the compiled binary.
import sdkText from "../../hooks-sdk/mod.ts" with { type: "text" };
import maintenanceText from "../../hooks-sdk/templates/maintenance.ts" with { type: "text" };
import pgDumpText from "../../hooks-sdk/templates/pg_dump.ts" with { type: "text" };

/** The files `admin hooks init` writes, by name. */
export const INIT_FILES: Record<string, string> = {
  "sdk.ts": sdkText,
  "deno.json":
    JSON.stringify({ imports: { "@stowage/hooks-sdk": "./sdk.ts" }, lock: false }, null, 2) + "\n",
  "maintenance.ts": maintenanceText,
  "pg_dump.ts": pgDumpText,
};

type HooksCommand = ReturnType<AdminCommand["command"]>;

export function registerAdminHooks(admin: AdminCommand, rt: Runtime) {
  const hooks = admin
    .command("hooks")
    .description(
      "Write example TypeScript hooks, check configured hooks, list which hooks run per unit.",
    );
  registerHooksInit(hooks, rt);
  registerHooksCheck(hooks, rt);
  registerHooksList(hooks, rt);
}

function registerHooksInit(hooks: HooksCommand, rt: Runtime) {
  hooks
    .command("init")
    .description(
      `Write the hooks SDK types (sdk.ts, SDK ${SDK_VERSION}), a deno.json mapping @stowage/hooks-sdk for editors and ` +
        "`deno check`, and two example hooks (maintenance mode via exec, a PostgreSQL-style dump) into DIR.",
    )
    .argument("<dir>", "directory for the hook modules, e.g. /etc/stowage/hooks")
    .option("--force", "overwrite files that already exist")
    .option("--json", "print one JSON document")
    .action(async (dir, opts) => {
      const target = dir.replace(/\/+$/, "") || "/";
      const files = await writeInitFiles(rt, target, !!opts.force);
      if (opts.json) {
        printJson(rt, { ok: true, dir: target, sdkVersion: SDK_VERSION, files });
        return;
      }
      renderInit(rt, target, files);
    });
}

/** Writes INIT_FILES into `target`, refusing to overwrite any without `force`. */
async function writeInitFiles(rt: Runtime, target: string, force: boolean): Promise<string[]> {
  const existing: string[] = [];
  for (const name of Object.keys(INIT_FILES)) {
    if (await rt.app.pathExists(`${target}/${name}`)) existing.push(name);
  }
  if (existing.length && !force) {
    throw new StowageError(
      "usage",
      `Cannot write hooks into '${target}': ${existing.join(", ")} already exist${
        existing.length === 1 ? "s" : ""
      }`,
      "Pick another directory, or add --force to overwrite them.",
    );
  }
  const files = [];
  for (const [name, text] of Object.entries(INIT_FILES)) {
    await rt.app.writeFile(`${target}/${name}`, text, 0o644);
    files.push(`${target}/${name}`);
  }
  return files;
}

function renderInit(rt: Runtime, target: string, files: string[]) {
  rt.write(
    `Wrote ${files.length} files to ${target}:\n${files.map((f) => `  ${f}\n`).join("")}`,
  );
  rt.write(
    `\nType-check them with:  cd ${target} && deno check *.ts\n` +
      `Use one in the config, e.g.:\n` +
      `  units:\n    myapp:\n      hooks:\n` +
      `        pre_backup:  [{ module: ${target}/maintenance.ts }]\n` +
      `        post_backup: [{ module: ${target}/maintenance.ts }]\n` +
      `Then run: stowage admin hooks check\n`,
  );
}

function registerHooksCheck(hooks: HooksCommand, rt: Runtime) {
  hooks
    .command("check")
    .description(
      "Load every configured hook without running it: import modules and validate their shape and SDK version, " +
        "check programs exist and are executable and shell lines parse, check container hook labels. " +
        `Exits ${EXIT_CODES["hook.failed"]} when any hook has a problem.`,
    )
    .option("--json", "print one JSON document")
    .action(async (opts, cmd) => {
      const loaded = await rt.loadConfig(globals(cmd));
      const { units, note } = await liveUnits(rt, loaded);
      const checks = await checkHooks(loaded.config, { env: rt.env, units, host: rt.app.hookHost });
      const bad = checks.filter((c) => !c.ok);
      if (bad.length) setExitCode(EXIT_CODES["hook.failed"]);
      if (opts.json) {
        printJson(rt, {
          ok: bad.length === 0,
          labelsChecked: units !== undefined,
          ...(note ? { note } : {}),
          hooks: checks,
        });
        return;
      }
      renderHookChecks(rt, checks, bad.length, note);
    });
}

function renderHookChecks(
  rt: Runtime,
  checks: HookCheck[],
  problems: number,
  note: string | undefined,
) {
  if (checks.length === 0) {
    rt.write("No hooks configured (and no container carries a stowage hook label).\n");
  } else {
    rt.write(
      table(
        checks.map((c) => [c.ok ? "ok" : "PROBLEM", c.source, c.kind, c.name]),
        tableWidth(rt),
      ),
    );
    for (const c of checks) {
      for (const p of c.problems) rt.writeErr(`problem: ${c.source}: ${p}\n`);
      for (const w of c.warnings) rt.writeErr(`warning: ${c.source}: ${w}\n`);
    }
  }
  if (note) rt.writeErr(`note: ${note}\n`);
  rt.write(
    `${checks.length} hook${checks.length === 1 ? "" : "s"} checked, ${problems} with problems.\n`,
  );
  if (problems) {
    rt.writeErr("hint: fix the hooks listed above; docs/hooks.md describes each kind.\n");
  }
}

/** The hooks of one unit in run order; `unit` null when the Engine could not be asked. */
interface HookRow {
  unit: string | null;
  hooks: PlannedHook[];
}

function registerHooksList(hooks: HooksCommand, rt: Runtime) {
  hooks
    .command("list")
    .description(
      "Show, per unit and phase, the hooks that run, in order: config hooks, then container label hooks. Runs none.",
    )
    .option("-u, --unit <name>", "only this unit")
    .option("-p, --phase <phase>", `only this phase (${HOOK_PHASES.join(", ")})`)
    .option("--json", "print one JSON document")
    .action(async (opts, cmd) => {
      const phases = opts.phase ? [parsePhase(opts.phase)] : [...HOOK_PHASES];
      const loaded = await rt.loadConfig(globals(cmd));
      const { units, note } = await liveUnits(rt, loaded);
      const rows = units === undefined
        ? configuredHookRows(loaded, phases, opts.unit)
        : unitHookRows(loaded, units, phases, opts.unit);
      if (opts.json) {
        printJson(rt, {
          ...(note ? { note } : {}),
          units: rows.map((r) => ({ unit: r.unit, hooks: r.hooks.map(describeHook) })),
        });
        return;
      }
      renderHookRows(rt, rows, note);
    });
}

/** Without the Engine: config hooks only, as configured. */
function configuredHookRows(
  loaded: LoadedConfig,
  phases: HookPhase[],
  unit: string | undefined,
): HookRow[] {
  return [{
    unit: null,
    hooks: configuredHooks(loaded.config).filter((h) =>
      phases.includes(h.phase) &&
      (!unit || !h.source.startsWith("units.") || h.source.startsWith(`units.${unit}.`))
    ),
  }];
}

/** Per unit on this host, the hooks planned for each phase (every unit with hooks, or the one asked). */
function unitHookRows(
  loaded: LoadedConfig,
  units: Unit[],
  phases: HookPhase[],
  unit: string | undefined,
): HookRow[] {
  let selected = units;
  if (unit) {
    selected = units.filter((u) => u.name === unit);
    if (!selected.length) {
      const near = closestN(unit, units.map((u) => u.name), 3);
      throw new StowageError(
        "unit.notfound",
        `Unknown unit '${unit}'${
          near.length ? `; did you mean ${near.map((n) => `'${n}'`).join(", ")}?` : ""
        }`,
        "`stowage admin hooks list` without --unit shows every unit with hooks.",
      );
    }
  }
  return selected
    .map((u) => ({
      unit: u.name,
      hooks: phases.flatMap((p) => plannedHooks(u, loaded.config, p)),
    }))
    .filter((r) => unit || r.hooks.length > 0);
}

function renderHookRows(rt: Runtime, rows: HookRow[], note: string | undefined) {
  if (note) rt.writeErr(`note: ${note}\n`);
  if (rows.every((r) => r.hooks.length === 0)) {
    rt.write("No hooks run for any unit.\n");
    return;
  }
  for (const r of rows) {
    rt.write(
      `${r.unit ?? "configured hooks (Docker Engine not reachable: labels and units unknown)"}\n`,
    );
    if (!r.hooks.length) rt.write("  (no hooks)\n");
    else {
      rt.write(table(
        r.hooks.map((h) => [
          "",
          h.phase,
          h.name,
          h.kind,
          h.mode,
          `${h.timeoutSeconds} s`,
          h.source + (h.problem ? `  PROBLEM: ${h.problem}` : ""),
        ]),
        tableWidth(rt),
      ));
    }
  }
}

function parsePhase(p: string): HookPhase {
  const phase = p.replace(/-/g, "_") as HookPhase;
  if (!HOOK_PHASES.includes(phase)) {
    throw new StowageError(
      "usage",
      `Unknown hook phase '${p}'`,
      `Use one of: ${HOOK_PHASES.join(", ")}.`,
    );
  }
  return phase;
}

/** The units on this host, or undefined with a note when the Engine cannot be asked. */
async function liveUnits(
  rt: Runtime,
  loaded: LoadedConfig,
): Promise<{ units?: Unit[]; note?: string }> {
  const onHost = await hostUnits(rt.app, loaded);
  return "units" in onHost ? onHost : {
    note: `container hook labels not read: Docker Engine not reachable (${onHost.unreachable})`,
  };
}
