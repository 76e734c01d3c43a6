import type { Program } from "../mod.ts";
import { PLAIN, type Style, style } from "../style.ts";
import { globals, setExitCode } from "../mod.ts";
import type { Runtime } from "../runtime.ts";
import { formatBytes, formatDuration, printJson, table, tableWidth } from "../output.ts";
import { eventRenderer } from "../render.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { parseScope, parseSeconds } from "../parse.ts";
import { renderDryRun } from "../dry_run_view.ts";
import type { RunReport } from "../../core/report.ts";
import { backup } from "../../app/backup.ts";
import { buildDryRun } from "../../app/dry_run.ts";

export function registerBackup(program: Program, rt: Runtime) {
  program
    .command("backup")
    .description(
      "Back up units (compose stacks and standalone containers): stop, save, start again.",
    )
    .option("-u, --unit <name...>", "only these units (repeatable); default: every unit")
    .option(
      "-s, --scope <scope>",
      "minimal (volumes), standard (+ binds, recipe, networks) or full (+ Docker daemon config); default: the config's backup.scope, standard unless set",
    )
    .option("-n, --dry-run", "show the plan and change nothing (same as `stowage dry-run`)")
    .option(
      "-w, --wait <seconds>",
      "wait up to this long for another running backup to finish (default: 0, fail at once with exit 11)",
    )
    .option("--json", "print one JSON summary document on stdout")
    .addHelpText(
      "after",
      "\nExit codes: 0 every unit ok, 12 a unit failed, 11 another backup is running, 130 interrupted.\nSee docs/exit-codes.md.",
    )
    .action(async (opts, cmd) => {
      const scope = parseScope(opts.scope);
      const waitSeconds = parseSeconds(opts.wait, "--wait");
      const loaded = await rt.loadConfig(globals(cmd));
      if (opts.dryRun) {
        const doc = await buildDryRun(rt.app, loaded, { units: opts.unit, scope });
        if (opts.json) printJson(rt, doc);
        else rt.write(renderDryRun(doc));
        return;
      }
      const sink = eventRenderer(rt, { json: !!opts.json });
      const report = await backup(rt.app, loaded, {
        units: opts.unit,
        scope,
        signal: rt.signal,
        sink,
        waitSeconds,
      });
      if (opts.json) printJson(rt, report);
      else rt.write(renderReport(report, style(rt, "stdout"), tableWidth(rt)));
      setExitCode(
        report.interrupted ? EXIT_CODES.interrupted : report.ok ? 0 : EXIT_CODES["backup.failed"],
      );
    });
}

export function renderReport(r: RunReport, s: Style = PLAIN, width?: number): string {
  const rows = [["UNIT", "RESULT", "DOWNTIME", "READ", "ADDED", "SNAPSHOTS", "DURATION"]];
  for (const u of r.units) {
    rows.push([
      u.unit,
      u.outcome === "failed" ? "FAILED" : u.outcome,
      u.downtimeMs === undefined ? "-" : formatDuration(u.downtimeMs),
      formatBytes(u.bytesRead),
      formatBytes(u.bytesAdded),
      String(u.snapshots.length),
      formatDuration(u.durationMs),
    ]);
  }
  let out = `\nBackup ${r.backupId} (${r.scope}) on ${r.host}: ${
    r.interrupted ? s.warn("INTERRUPTED") : r.ok ? s.ok("ok") : s.fail("FAILED")
  } in ${formatDuration(r.durationMs)}\n\n${table(rows, width)}`;
  for (const u of r.units) {
    if (u.error) out += `\n${u.unit}: ${u.error}`;
    for (const w of u.warnings) out += `\n${u.unit}: warning: ${w}`;
    for (const v of u.volumes ?? []) out += `\n${u.unit}: volume ${v.name} (${v.kind}): ${v.how}`;
    for (const d of u.reads ?? []) {
      out += `\n${u.unit}: ${d.type} ${d.item}: ${
        d.read === "cold"
          ? `read while stopped${d.reason ? ` (no snapshot: ${d.reason})` : ""}`
          : `read from a ${d.read} snapshot after the start`
      }`;
    }
    for (const d of u.snapshots.filter((d) => d.files)) {
      out += `\n${u.unit}: ${d.type} ${d.item}: ${
        d.parent ? `compared with ${d.parent}` : "no parent, read in full"
      }, ${d.files!.unmodified} unchanged, ${d.files!.changed} changed, ${
        d.files!.new
      } new file(s)${
        d.shared ? " (counts of the pass that saved it with the unit's other folders)" : ""
      }`;
    }
    for (const n of u.notes ?? []) out += `\n${u.unit}: retention: ${n}`;
    for (const g of u.gaps) out += `\n${u.unit}: not backed up: ${g.item} (${g.reason})`;
  }
  if (r.recoveryBundle?.path) out += `\nrecovery bundle: ${r.recoveryBundle.path}`;
  if (r.recoveryBundle?.error) out += `\nrecovery bundle NOT written: ${r.recoveryBundle.error}`;
  for (const c of r.copies ?? []) {
    out += c.ok
      ? `\ncopy ${c.name}: ${c.copied.length} restore point(s) copied${
        c.newest ? `, newest there ${c.newest.backupId}` : ""
      }${c.forgotten ? `, ${c.forgotten} snapshot(s) forgotten there` : ""}`
      : `\ncopy ${c.name} FAILED (the backup is not affected; the next run catches up): ${c.error}`;
    for (const w of c.warnings) out += `\ncopy ${c.name}: warning: ${w}`;
  }
  return out + "\n";
}
