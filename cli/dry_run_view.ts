/** `stowage dry-run` (and `backup --dry-run`) as text. */
import { formatBytes, formatDuration } from "./output.ts";
import type { DryRunDocument } from "../core/backup/dry_run.ts";
import { describeLayerWrites, LAYER_WRITES_HINT } from "../core/layer_writes.ts";

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
      if (i.fsSnapshot) out.push(`      ${i.fsSnapshot.detail}`);
      if (i.mountPoint) {
        out.push(
          `      ${
            i.paths.join(", ")
          } is a mount point: its content is saved, read through the mount`,
        );
      }
    }
    for (const d of u.dumps ?? []) {
      out.push(
        `  dump    ${d.engine} in ${d.container} (service ${d.service}, mode ${d.mode}, ${d.source}): every database, while it runs${
          d.mode === "dump" ? "; not stopped, its data volumes not copied" : ", then copied cold"
        }`,
      );
    }
    for (const p of u.dumpProblems ?? []) out.push(`  error: ${p}`);
    for (const p of u.dumpProposals ?? []) out.push(`  note: ${p}`);
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
