/** The dependency report as a table (`admin system show-deps`, `setup`). */
import { table } from "./output.ts";
import type { DepsReport } from "../app/deps.ts";

export function renderDeps(report: DepsReport, width?: number): string {
  const rows = [["dependency", "status", "version", "needs", "found", "package"]];
  for (const d of report.dependencies) {
    rows.push([
      d.name + (d.required ? "" : " (optional)"),
      d.state,
      d.version ?? "-",
      d.needs,
      d.found ?? "-",
      d.package ?? "-",
    ]);
  }
  let out = `System: ${report.system.name} (package family: ${report.system.family})\n`;
  if (report.configProblem) {
    out += `Config could not be read (${report.configProblem}); checked with the defaults.\n`;
  }
  out += table(rows, width);
  for (const d of report.dependencies) {
    if (d.state !== "ok" && d.detail) out += `  ${d.name}: ${d.detail}\n`;
  }
  return out;
}
