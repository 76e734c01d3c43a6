/**
 * Engine events as log records for the daemon, pure: one line each, with the unit, operation and
 * backup id as separate fields (they become journal fields). Progress events are dropped: the
 * status endpoint shows progress, the journal keeps what happened.
 */
import type { StowageEvent } from "../events.ts";

export interface EventLogRecord {
  level: "debug" | "info" | "warning" | "error";
  message: string;
  unit?: string;
  operation?: string;
}

export function describeEvent(e: StowageEvent, operation = "backup"): EventLogRecord | undefined {
  switch (e.type) {
    case "log":
      return {
        level: e.level,
        message: e.message,
        unit: e.unit,
        operation: e.operation ?? operation,
      };
    case "run.start":
      return {
        level: "info",
        message: `${e.operation} ${e.backupId} started: ${e.units.length} unit(s)`,
        operation: e.operation,
      };
    case "unit.start":
      return {
        level: "info",
        message: `${e.operation} of ${e.unit} (${e.index}/${e.total})`,
        unit: e.unit,
        operation: e.operation,
      };
    case "unit.skip":
      return { level: "info", message: `skipped ${e.unit}: ${e.reason}`, unit: e.unit, operation };
    case "container.stop":
      return { level: "info", message: `stopped ${e.container}`, unit: e.unit, operation };
    case "container.start":
      return { level: "info", message: `started ${e.container}`, unit: e.unit, operation };
    case "snapshot.start":
      return { level: "debug", message: `saving ${e.kind} ${e.item}`, unit: e.unit, operation };
    case "snapshot.progress":
      return undefined;
    case "snapshot.done":
      return {
        level: "info",
        message: `saved ${e.kind} ${e.item} as ${e.snapshotId.slice(0, 8)} (+${e.dataAdded} bytes)`,
        unit: e.unit,
        operation,
      };
    case "unit.done":
      return e.ok
        ? {
          level: "info",
          message: `${e.unit} done${
            e.downtimeMs !== undefined ? `, down ${(e.downtimeMs / 1000).toFixed(1)} s` : ""
          }`,
          unit: e.unit,
          operation,
        }
        : {
          level: "error",
          message: `${e.unit} failed: ${e.error ?? "unknown error"}`,
          unit: e.unit,
          operation,
        };
    case "journal.recovered":
      return {
        level: "warning",
        message: `restart journal: started ${
          e.containers.join(", ")
        } left stopped by ${e.startedBy}`,
        operation: "recover",
      };
    case "hook":
      return {
        level: e.outcome === "failed" ? "warning" : "info",
        message: `hook ${e.hook} (${e.phase}): ${e.outcome}${e.message ? `: ${e.message}` : ""}`,
        unit: e.unit,
        operation: "hook",
      };
    case "run.done":
      return {
        level: e.ok ? "info" : "error",
        message: `${e.operation} ${e.ok ? "finished" : "finished with failures"}`,
        operation: e.operation,
      };
    default:
      return undefined;
  }
}
