/**
 * Renders engine events for people: one line per step, and on a terminal a live progress line per
 * snapshot. With --json only warnings and errors reach stderr; the document goes to stdout.
 */
import { liveTerminal, style } from "./style.ts";
import type { StowageEvent } from "../core/events.ts";
import type { EventSink } from "../core/ports.ts";
import type { Runtime } from "./runtime.ts";
import { formatBytes, formatDuration } from "./output.ts";
import { progressLine } from "./progress.ts";
import { journalIsStderr, log } from "./log.ts";
import { describeEvent } from "../core/service/event_log.ts";

/**
 * Under systemd (stderr is the journal) events become structured journal records with UNIT,
 * OPERATION and BACKUP_ID fields, so `journalctl UNIT=wordpress OPERATION=backup` finds them.
 */
function journalRenderer(): EventSink {
  let backupId: string | undefined;
  let operation = "backup";
  return {
    emit(e: StowageEvent) {
      if (e.type === "run.start") {
        backupId = e.backupId;
        operation = e.operation;
      }
      const rec = describeEvent(e, operation);
      if (!rec) return;
      log[rec.level](rec.message, { unit: rec.unit, operation: rec.operation, backupId });
    },
  };
}

export function eventRenderer(rt: Runtime, opts: { json: boolean; verbose?: boolean }): EventSink {
  if (journalIsStderr()) return journalRenderer();
  const live = liveTerminal(rt) && !opts.json;
  const paint = style(rt, "stderr");
  let progressShown = false;
  const startedAt = new Map<string, number>();
  const line = (s: string) => {
    if (progressShown) {
      rt.writeErr("\r\x1b[2K");
      progressShown = false;
    }
    rt.writeErr(s + "\n");
  };
  return {
    emit(e: StowageEvent) {
      if (opts.json) {
        if (e.type === "log" && (e.level === "warning" || e.level === "error")) {
          line(`${e.level}: ${e.message}`);
        }
        if (e.type === "journal.recovered") {
          line(
            `recovered: started ${
              e.containers.join(", ") || "nothing"
            } left stopped by a crashed run`,
          );
        }
        return;
      }
      switch (e.type) {
        case "log":
          if (e.level !== "debug" || opts.verbose) {
            line(
              `${e.level === "info" ? "" : e.level + ": "}${
                e.unit ? `[${e.unit}] ` : ""
              }${e.message}`,
            );
          }
          break;
        case "run.start":
          line(`${e.operation} ${e.backupId}: ${e.units.length} unit(s)`);
          break;
        case "unit.start":
          line(`[${e.unit}] (${e.index}/${e.total}) starting ${e.operation}`);
          break;
        case "unit.skip":
          line(`[${e.unit}] skipped: ${e.reason}`);
          break;
        case "container.stop":
          line(`[${e.unit}] stopped ${e.container}`);
          break;
        case "container.start":
          line(`[${e.unit}] started ${e.container}`);
          break;
        case "snapshot.start":
          startedAt.set(`${e.unit}\0${e.item}`, rt.clock.now().getTime());
          line(`[${e.unit}] saving ${e.kind} ${e.item}`);
          break;
        case "snapshot.progress":
          if (live) {
            const started = startedAt.get(`${e.unit}\0${e.item}`) ?? rt.clock.now().getTime();
            const line = progressLine({
              unit: e.unit,
              item: e.item,
              progress: e.progress,
              elapsedSeconds: (rt.clock.now().getTime() - started) / 1000,
            }, rt.terminalColumns?.() ?? 80);
            // Redrawn in place: the line never reaches the last column, so it never wraps.
            rt.writeErr(`\r\x1b[2K${line}`);
            progressShown = true;
          }
          break;
        case "snapshot.done":
          line(
            `[${e.unit}] saved ${e.kind} ${e.item} as ${e.snapshotId.slice(0, 8)} (+${
              formatBytes(e.dataAdded)
            })`,
          );
          break;
        case "unit.done":
          line(
            `[${e.unit}] ${e.ok ? paint.ok("done") : paint.fail("FAILED") + ": " + e.error}${
              e.downtimeMs !== undefined ? `, downtime ${formatDuration(e.downtimeMs)}` : ""
            }`,
          );
          break;
        case "journal.recovered":
          line(
            `recovered: started ${
              e.containers.join(", ") || "nothing"
            } left stopped by a crashed run (found by ${e.startedBy})`,
          );
          break;
        case "hook":
          line(
            `${e.unit ? `[${e.unit}] ` : ""}hook ${e.hook} (${e.phase}): ${e.outcome}${
              e.message ? ` - ${e.message}` : ""
            }`,
          );
          break;
        case "run.done":
          if (progressShown) {
            rt.writeErr("\r\x1b[2K");
            progressShown = false;
          }
          break;
      }
    },
  };
}
