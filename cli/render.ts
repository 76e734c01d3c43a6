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
  const clearProgress = () => {
    if (progressShown) {
      rt.writeErr("\r\x1b[2K");
      progressShown = false;
    }
  };
  const line = (s: string) => {
    clearProgress();
    rt.writeErr(s + "\n");
  };
  return {
    emit(e: StowageEvent) {
      if (opts.json) {
        const text = jsonModeLine(e);
        if (text !== undefined) line(text);
        return;
      }
      if (e.type === "snapshot.start") {
        startedAt.set(`${e.unit}\0${e.item}`, rt.clock.now().getTime());
      }
      if (e.type === "snapshot.progress") {
        if (!live) return;
        const started = startedAt.get(`${e.unit}\0${e.item}`) ?? rt.clock.now().getTime();
        const text = progressLine({
          unit: e.unit,
          item: e.item,
          progress: e.progress,
          elapsedSeconds: (rt.clock.now().getTime() - started) / 1000,
        }, rt.terminalColumns?.() ?? 80);
        // Redrawn in place: the line never reaches the last column, so it never wraps.
        rt.writeErr(`\r\x1b[2K${text}`);
        progressShown = true;
        return;
      }
      if (e.type === "run.done") return clearProgress();
      const text = eventLine(e, paint, !!opts.verbose);
      if (text !== undefined) line(text);
    },
  };
}

/** With --json, stdout is the document: stderr keeps only warnings, errors and recoveries. */
function jsonModeLine(e: StowageEvent): string | undefined {
  if (e.type === "log" && (e.level === "warning" || e.level === "error")) {
    return `${e.level}: ${e.message}`;
  }
  if (e.type === "journal.recovered") {
    return `recovered: started ${
      e.containers.join(", ") || "nothing"
    } left stopped by a crashed run`;
  }
  return undefined;
}

/** The line a person reads for one event; undefined for events with no line of their own. */
function eventLine(
  e: StowageEvent,
  paint: ReturnType<typeof style>,
  verbose: boolean,
): string | undefined {
  switch (e.type) {
    case "log":
      if (e.level === "debug" && !verbose) return undefined;
      return `${e.level === "info" ? "" : e.level + ": "}${
        e.unit ? `[${e.unit}] ` : ""
      }${e.message}`;
    case "run.start":
      return `${e.operation} ${e.backupId}: ${e.units.length} unit(s)`;
    case "unit.start":
      return `[${e.unit}] (${e.index}/${e.total}) starting ${e.operation}`;
    case "unit.skip":
      return `[${e.unit}] skipped: ${e.reason}`;
    case "container.stop":
      return `[${e.unit}] stopped ${e.container}`;
    case "container.start":
      return `[${e.unit}] started ${e.container}`;
    case "snapshot.start":
      return `[${e.unit}] saving ${e.kind} ${e.item}`;
    case "snapshot.done":
      return `[${e.unit}] saved ${e.kind} ${e.item} as ${e.snapshotId.slice(0, 8)} (+${
        formatBytes(e.dataAdded)
      })`;
    case "unit.done":
      return `[${e.unit}] ${e.ok ? paint.ok("done") : paint.fail("FAILED") + ": " + e.error}${
        e.downtimeMs !== undefined ? `, downtime ${formatDuration(e.downtimeMs)}` : ""
      }`;
    case "journal.recovered":
      return `recovered: started ${
        e.containers.join(", ") || "nothing"
      } left stopped by a crashed run (found by ${e.startedBy})`;
    case "hook":
      return `${e.unit ? `[${e.unit}] ` : ""}hook ${e.hook} (${e.phase}): ${e.outcome}${
        e.message ? ` - ${e.message}` : ""
      }`;
    default:
      return undefined;
  }
}
