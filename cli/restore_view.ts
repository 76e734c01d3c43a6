/**
 * `stowage restore` as text and JSON: the restore points (`--list`), the plan, the report.
 */
import { PLAIN, type Style } from "./style.ts";
import type { Runtime } from "./runtime.ts";
import { fitted, formatBytes, formatDuration, printJson, table, tableWidth } from "./output.ts";
import { isInternalUnit } from "../core/backup/plan.ts";
import { isUsable, type RestorePoint, unitsIn } from "../core/restore/points.ts";
import { contentsOf, INCOMPLETE_NOTE, pointJson, sizeOf, statusOf, whenOf } from "./points_view.ts";
import type { RestorePlan } from "../core/restore/plan.ts";
import { pointsOf } from "../core/restore/load.ts";
import type { RestoreReport } from "../core/restore/run.ts";
import { invalidSnapshots } from "../core/restore/trust.ts";

/** Reads nothing more than the one snapshot listing the caller already made. */
export function listPoints(
  rt: Runtime,
  snapshots: Parameters<typeof unitsIn>[0],
  flags: { unit?: string; json?: boolean },
) {
  const now = rt.clock.now();
  if (!flags.unit) {
    const units = unitsIn(snapshots).filter((u) => !isInternalUnit(u)).map((u) => {
      const points = pointsOf(snapshots, u);
      const latest = points.find((p) => p.kind === "backup" && isUsable(p));
      return {
        unit: u,
        restorePoints: points.length,
        incomplete: points.filter((p) => p.status === "incomplete").length,
        latest: latest?.backupId ?? null,
        latestAgeSeconds: latest
          ? Math.round((now.getTime() - Date.parse(latest.time)) / 1000)
          : null,
        latestWhen: latest ? whenOf(latest, now) : null,
      };
    });
    if (flags.json) printJson(rt, { units });
    else if (units.length === 0) rt.write("No backups in the repository.\n");
    else {
      rt.write(table([
        ["UNIT", "POINTS", "INCOMPLETE", "LATEST COMPLETE"],
        ...units.map((u) => [
          u.unit,
          String(u.restorePoints),
          String(u.incomplete),
          u.latestWhen ?? "none",
        ]),
      ], tableWidth(rt)));
    }
    return;
  }
  const points = pointsOf(snapshots, flags.unit);
  const ignored = invalidSnapshots(snapshots, flags.unit).map((s) => ({
    snapshot: s.shortId,
    backupId: s.backupId ?? null,
    reason: s.invalid!,
  }));
  const refused = (p: RestorePoint) => ignored.some((i) => i.backupId === p.backupId);
  if (flags.json) {
    printJson(rt, {
      unit: flags.unit,
      restorePoints: points.map((p) => ({ ...pointJson(p, now), refused: refused(p) })),
      ignored,
    });
    return;
  }
  rt.write(table([
    ["WHEN (BACKUP ID)", "STATUS", "HOST", "SCOPE", "CONTENTS", "SIZE"],
    ...points.map((p) => [
      whenOf(p, now),
      refused(p) ? "REFUSED (invalid tags)" : statusOf(p),
      p.host,
      p.kind === "pre-restore" ? "-" : p.scope ?? "?",
      contentsOf(p),
      sizeOf(p),
    ]),
  ], tableWidth(rt)));
  if (points.some((p) => p.status === "incomplete")) rt.write(`\n${fitted(rt, INCOMPLETE_NOTE)}\n`);
  for (const i of ignored) {
    rt.write(
      `ignored snapshot ${i.snapshot}${
        i.backupId ? ` (backup id ${i.backupId})` : ""
      }: invalid tags: ${i.reason}\n`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** The plan without file contents or the container body (they may hold secrets). */
export function planSummary(plan: RestorePlan) {
  return {
    ...plan,
    files: plan.files.map(({ content: _c, ...f }) => f),
    container: plan.container
      ? {
        name: plan.container.name,
        image: plan.container.body.Image,
        replace: plan.container.replace,
        start: plan.container.start,
        networks: [
          ...Object.keys(
            (plan.container.body.NetworkingConfig as
              | { EndpointsConfig?: Record<string, unknown> }
              | undefined)?.EndpointsConfig ?? {},
          ),
          ...plan.container.connect.map((c) => c.network),
        ],
        missing: plan.container.missing,
      }
      : undefined,
  };
}

export function renderPlan(plan: RestorePlan, s: Style = PLAIN): string {
  const out: string[] = [];
  out.push(
    `Restore of '${plan.unit}' (${plan.kind}) from ${plan.backupId}  (${
      plan.time.replace(".000Z", "Z")
    }, host ${plan.host}, ${
      plan.pointKind === "pre-restore" ? "pre-restore snapshots" : `scope ${plan.scope ?? "?"}`
    })`,
  );
  if (plan.toDir) out.push(`  into ${plan.toDir} (files only; Docker is not touched)`);
  if (plan.stop.length) out.push(`  stop first: ${plan.stop.join(", ")}`);
  if (plan.data.length) {
    out.push("  data:");
    for (const d of plan.data) {
      const notes = [
        d.create ? `create volume (driver ${d.create.Driver})` : "",
        d.state === "data"
          ? (d.preRestore
            ? "has data: saved as a pre-restore snapshot, then replaced"
            : "has data: replaced")
          : d.state === "empty"
          ? "empty"
          : d.create
          ? ""
          : "absent",
        d.source === "archive" ? "from a tar archive" : "",
      ].filter(Boolean).join("; ");
      out.push(
        `    ${d.kind} ${d.name}  <- snapshot ${d.snapshotId.slice(0, 8)}  -> ${
          d.target ??
            (d.anonymous
              ? `(after up: the new anonymous volume of ${d.anonymous.service} at ${d.anonymous.destination})`
              : "(its new mountpoint)")
        }${notes ? `  (${notes})` : ""}`,
      );
    }
  }
  if (plan.networks.length) {
    out.push("  networks:");
    for (const n of plan.networks) {
      const subnet = (n.spec.IPAM?.Config ?? []).map((c) => c.Subnet).filter(Boolean).join(", ");
      out.push(
        `    ${n.name}  ${n.action}${subnet ? `  (${subnet})` : ""}${
          n.differences.length ? `: ${n.differences.join("; ")}` : ""
        }`,
      );
    }
  }
  if (plan.files.length) {
    out.push(
      `  files${
        plan.filesDir?.relocated && !plan.toDir
          ? ` (to a new directory ${plan.filesDir.dir}: ${plan.filesDir.reason})`
          : ""
      }:`,
    );
    for (const f of plan.files) {
      out.push(`    ${f.to}  ${f.action}${f.pinned ? " (images pinned)" : ""}`);
    }
  }
  const toLoad = (plan.images ?? []).filter((i) => i.load);
  if (toLoad.length) {
    out.push(
      `  images to load from the repository: ${
        toLoad.map((i) => `${i.reference}${i.size ? ` (${formatBytes(i.size)})` : ""}`).join(", ")
      }`,
    );
  }
  if (plan.pins.length) {
    out.push(`  pinned images: ${plan.pins.map((p) => `${p.image} -> ${p.pinned}`).join(", ")}`);
  }
  if (plan.container) {
    out.push(
      `  container ${plan.container.name}: ${
        plan.container.replace ? "remove and create again" : "create"
      } from the saved settings (image ${plan.container.body.Image})${
        plan.container.start ? ", then start" : ""
      }`,
    );
  }
  if (plan.compose) out.push(`  then: ${plan.compose.argv.join(" ")}  (in ${plan.compose.cwd})`);
  else if (plan.restart.length) out.push(`  start again: ${plan.restart.join(", ")}`);
  if (plan.overwrites.length) {
    out.push("  will overwrite:");
    for (const o of plan.overwrites) out.push(`    - ${o}`);
  } else out.push("  overwrites nothing");
  for (const w of plan.warnings) out.push(`  warning: ${w}`);
  for (const c of plan.conflicts) {
    out.push(
      `  ${s.fail("CONFLICT")}: ${c.message}${
        c.resolve ? ` (${c.resolve.replace("|", " or ")})` : ""
      }`,
    );
  }
  if (
    plan.data.length === 0 && plan.networks.length === 0 && plan.files.length === 0 &&
    !plan.container
  ) out.push("  nothing to restore");
  return out.join("\n") + "\n";
}

export function renderReport(r: RestoreReport, plan: RestorePlan, s: Style = PLAIN): string {
  const out: string[] = [];
  out.push(
    `${r.ok ? s.ok("Restored") : s.fail("Restore FAILED for")} '${r.unit}' from ${r.backupId} in ${
      formatDuration(r.durationMs)
    }`,
  );
  for (const d of r.data) {
    out.push(
      `  ${d.kind} ${d.name} -> ${d.target}${d.created ? " (created)" : ""}${
        d.preRestoreSnapshot
          ? `; previous content saved as pre-restore snapshot ${
            d.preRestoreSnapshot.slice(0, 8)
          } (undo: stowage restore --unit ${r.unit} --backup-id ${r.restoreId})`
          : ""
      }`,
    );
  }
  for (const n of r.networks) out.push(`  network ${n.name}: ${n.action}`);
  if (r.files.length) {
    out.push(
      `  files: ${r.files.filter((f) => f.action !== "identical").length} written, ${
        r.files.filter((f) => f.action === "identical").length
      } already identical${
        r.filesDir
          ? `, in the new directory ${r.filesDir}`
          : plan.filesDir
          ? ` in ${plan.filesDir.dir}`
          : ""
      }`,
    );
  }
  if (r.imagesLoaded?.length) {
    out.push(`  images loaded from the repository: ${r.imagesLoaded.join(", ")}`);
  }
  if (r.container) {
    out.push(`  container ${r.container.name} created (${r.container.id.slice(0, 12)})`);
  }
  if (r.stopped.length) out.push(`  stopped: ${r.stopped.join(", ")}`);
  if (r.started.length) out.push(`  started: ${r.started.join(", ")}`);
  if (r.running.length) {
    out.push(
      `  now: ${
        r.running.map((c) => `${c.name} ${c.state}${c.health ? ` (${c.health})` : ""}`).join(", ")
      }`,
    );
  }
  for (const w of r.warnings) out.push(`  warning: ${w}`);
  return out.join("\n") + "\n";
}
