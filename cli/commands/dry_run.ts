import type { Program } from "../mod.ts";
import { globals } from "../mod.ts";
import type { LoadedConfig, Runtime } from "../runtime.ts";
import { formatBytes, formatDuration, printJson } from "../output.ts";
import type { Scope } from "../../core/model.ts";
import { discoverUnits } from "../../core/discovery.ts";
import { planUnit } from "../../core/backup/plan.ts";
import { describePlans, type DryRunDocument } from "../../core/backup/dry_run.ts";
import { selectUnits } from "../../core/backup/run.ts";
import { LocalHostFiles } from "../../adapters/host_files.ts";
import { parseScope } from "./backup.ts";
import { plannedHooks } from "../../core/hooks/mod.ts";
import { orderPlan } from "../../core/order.ts";
import {
  describeLayerWrites,
  findLayerWrites,
  LAYER_WRITES_HINT,
} from "../../core/layer_writes.ts";

/** Reads the Engine and the file system only: no repository, no lock, no files written. */
export async function buildDryRun(
  rt: Runtime,
  loaded: LoadedConfig,
  opts: { units?: string[]; scope?: Scope },
): Promise<DryRunDocument> {
  const engine = rt.engine(loaded);
  const state = await engine.gatherState();
  const units = selectUnits(
    discoverUnits(state, { unsafePaths: loaded.config.backup.unsafe_paths }),
    opts.units,
  );
  const plans = units.map((u) => planUnit(u, loaded.config, opts.scope));
  const files = new LocalHostFiles(rt.runner);
  const sizes: Record<string, number | undefined> = {};
  const mountPoints = new Set<string>();
  for (const item of plans.flatMap((p) => p.items)) {
    if (item.paths.length > 0) sizes[item.item] = await files.size(item.paths[0]);
    else if (item.type === "image") sizes[item.item] = item.image?.size;
    for (const p of item.paths) if (await files.isMountPoint(p)) mountPoints.add(p);
  }
  const doc = describePlans(
    rt.hostname,
    plans,
    sizes,
    (p) =>
      (["pre_backup", "post_backup"] as const).flatMap((phase) =>
        plannedHooks(p.unit, loaded.config, phase).map((h) => ({
          phase,
          name: `${h.name} [${h.source}]`,
          mode: h.mode,
        }))
      ),
    mountPoints,
  );
  // Dependency cycles are broken deterministically; say so where the order is shown.
  const layers = await findLayerWrites(engine, units);
  for (const u of doc.units) {
    const plan = plans.find((p) => p.unit.name === u.unit)!;
    u.notes = [...(plan.unit.notes ?? []), ...orderPlan(plan.unit).notes];
    const l = layers.get(u.unit);
    u.layerWrites = l?.writes ?? [];
    u.layerUnknown = l?.unreadable ?? [];
  }
  return doc;
}

export function renderDryRun(doc: DryRunDocument): string {
  const out: string[] = [
    `Dry run on ${doc.host}: ${doc.units.length} unit(s). Nothing was changed.`,
  ];
  for (const u of doc.units) {
    out.push("", `${u.unit} (${u.kind}, scope ${u.scope})`);
    if (u.skip) {
      out.push(`  skipped: ${u.skip}`);
      continue;
    }
    out.push(`  stop order:  ${u.stopOrder.join(" -> ") || "(nothing running)"}`);
    out.push(`  start order: ${u.startOrder.join(" -> ") || "-"}`);
    if (u.untouched.length) out.push(`  left as they are (not running): ${u.untouched.join(", ")}`);
    for (const h of u.hooks) out.push(`  hook ${h.phase}: ${h.name} (${h.mode})`);
    for (const i of u.items) {
      const size = i.sizeBytes === undefined ? "" : ` ${formatBytes(i.sizeBytes)}`;
      const ex = i.excludes.length ? ` excluding ${i.excludes.join(", ")}` : "";
      out.push(`  save ${i.type.padEnd(7)} ${i.item}${size}${ex}`);
      if (i.how) out.push(`      ${i.how}`);
      if (i.read === "archive") {
        out.push("      size unknown until read: the data is only there while mounted");
      }
      if (i.mountPoint) {
        out.push(
          `      ${
            i.paths.join(", ")
          } is a mount point: its content is saved, read through the mount`,
        );
      }
    }
    for (const n of u.networks) {
      out.push(
        `  network ${n.name} (${n.driver}${n.subnets.length ? ", " + n.subnets.join(", ") : ""})`,
      );
    }
    for (const f of u.files) {
      out.push(`  ${f.kind} file ${f.path}${f.exists ? "" : " (MISSING on this host)"}`);
    }
    for (const g of u.gaps) out.push(`  NOT backed up: ${g.item}: ${g.reason}`);
    for (const w of u.layerWrites ?? []) {
      out.push(`  warning: ${describeLayerWrites(w)}`);
      out.push(`      ${LAYER_WRITES_HINT}`);
    }
    for (const c of u.layerUnknown ?? []) {
      out.push(`  warning: could not check for data outside volumes in ${c}`);
    }
    for (const n of u.notes ?? []) out.push(`  note: ${n}`);
    out.push(
      `  estimated downtime: ${formatDuration(u.estimatedDowntimeMs)} for ${
        formatBytes(u.totalBytes)
      }`,
    );
  }
  return out.join("\n") + "\n";
}

export function registerDryRun(program: Program, rt: Runtime) {
  program
    .command("dry-run")
    .description(
      "Show what a backup would do per unit: stop/start order, what is saved with sizes, gaps, hooks, downtime estimate. No side effects.",
    )
    .option("-u, --unit <name...>", "only these units")
    .option("-s, --scope <scope>", "minimal, standard or full")
    .option("--json", "print the plan as one JSON document")
    .action(async (opts, cmd) => {
      const scope = parseScope(opts.scope);
      const loaded = await rt.loadConfig(globals(cmd));
      const doc = await buildDryRun(rt, loaded, { units: opts.unit, scope });
      if (opts.json) printJson(rt, doc);
      else rt.write(renderDryRun(doc));
    });
}
