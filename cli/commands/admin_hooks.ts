/**
 * `admin hooks init DIR`, `admin hooks check`, `admin hooks list`: write a typed starting point
 * for hook modules, load every configured hook without running it, and show which hooks run for
 * which unit in which order.
 */
import type { AdminCommand } from "./admin.ts";
import type { Runtime } from "../runtime.ts";
import { globals, setExitCode } from "../mod.ts";
import { printJson, table, tableWidth } from "../output.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { errorMessage, StowageError } from "../../core/errors.ts";
import { closestN } from "../../core/text.ts";
import type { Unit } from "../../core/model.ts";
import { discoverUnits } from "../../core/discovery.ts";
import {
  checkHooks,
  configuredHooks,
  describeHook,
  HOOK_PHASES,
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

export function registerAdminHooks(admin: AdminCommand, rt: Runtime) {
  const hooks = admin
    .command("hooks")
    .description(
      "Write example TypeScript hooks, check configured hooks, list which hooks run per unit.",
    );

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
      const existing: string[] = [];
      for (const name of Object.keys(INIT_FILES)) {
        if (await rt.app.pathExists(`${target}/${name}`)) existing.push(name);
      }
      if (existing.length && !opts.force) {
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
      if (opts.json) {
        printJson(rt, { ok: true, dir: target, sdkVersion: SDK_VERSION, files });
        return;
      }
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
    });

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
        `${checks.length} hook${
          checks.length === 1 ? "" : "s"
        } checked, ${bad.length} with problems.\n`,
      );
      if (bad.length) {
        rt.writeErr("hint: fix the hooks listed above; docs/hooks.md describes each kind.\n");
      }
    });

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
      let rows: { unit: string | null; hooks: PlannedHook[] }[];
      if (units === undefined) {
        // Without the Engine: config hooks only, as configured.
        rows = [{
          unit: null,
          hooks: configuredHooks(loaded.config).filter((h) =>
            phases.includes(h.phase) &&
            (!opts.unit || !h.source.startsWith("units.") ||
              h.source.startsWith(`units.${opts.unit}.`))
          ),
        }];
      } else {
        let selected = units;
        if (opts.unit) {
          selected = units.filter((u) => u.name === opts.unit);
          if (!selected.length) {
            const near = closestN(opts.unit, units.map((u) => u.name), 3);
            throw new StowageError(
              "unit.notfound",
              `Unknown unit '${opts.unit}'${
                near.length ? `; did you mean ${near.map((n) => `'${n}'`).join(", ")}?` : ""
              }`,
              "`stowage admin hooks list` without --unit shows every unit with hooks.",
            );
          }
        }
        rows = selected
          .map((u) => ({
            unit: u.name,
            hooks: phases.flatMap((p) => plannedHooks(u, loaded.config, p)),
          }))
          .filter((r) => opts.unit || r.hooks.length > 0);
      }
      if (opts.json) {
        printJson(rt, {
          ...(note ? { note } : {}),
          units: rows.map((r) => ({ unit: r.unit, hooks: r.hooks.map(describeHook) })),
        });
        return;
      }
      if (note) rt.writeErr(`note: ${note}\n`);
      if (rows.every((r) => r.hooks.length === 0)) {
        rt.write("No hooks run for any unit.\n");
        return;
      }
      for (const r of rows) {
        rt.write(
          `${
            r.unit ?? "configured hooks (Docker Engine not reachable: labels and units unknown)"
          }\n`,
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
    });
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
  loaded: Awaited<ReturnType<Runtime["loadConfig"]>>,
): Promise<{ units?: Unit[]; note?: string }> {
  try {
    const state = await rt.engine(loaded).gatherState();
    return { units: discoverUnits(state, { unsafePaths: loaded.config.backup.unsafe_paths }) };
  } catch (e) {
    return {
      note: `container hook labels not read: Docker Engine not reachable (${errorMessage(e)})`,
    };
  }
}
