/**
 * What the engine reports while it works. The CLI renders these as lines, progress bars or JSON,
 * the daemon turns them into sd_notify STATUS and journal records. Add a variant rather than
 * printing.
 */
import type { BackupProgress } from "./ports.ts";

export type StowageEvent =
  | {
    type: "log";
    level: "debug" | "info" | "warning" | "error";
    message: string;
    unit?: string;
    operation?: string;
  }
  | { type: "run.start"; operation: "backup" | "restore"; backupId: string; units: string[] }
  | {
    type: "unit.start";
    unit: string;
    index: number;
    total: number;
    operation: "backup" | "restore";
  }
  | { type: "unit.skip"; unit: string; reason: string }
  | { type: "container.stop"; unit: string; container: string }
  | { type: "container.start"; unit: string; container: string }
  | { type: "snapshot.start"; unit: string; kind: string; item: string }
  | {
    type: "snapshot.progress";
    unit: string;
    kind: string;
    item: string;
    progress: BackupProgress;
  }
  | {
    type: "snapshot.done";
    unit: string;
    kind: string;
    item: string;
    snapshotId: string;
    dataAdded: number;
  }
  | { type: "unit.done"; unit: string; ok: boolean; error?: string; downtimeMs?: number }
  | { type: "journal.recovered"; containers: string[]; startedBy: string }
  | {
    type: "hook";
    unit?: string;
    hook: string;
    phase: string;
    outcome: "ok" | "failed" | "skipped";
    message?: string;
  }
  | { type: "run.done"; operation: "backup" | "restore"; ok: boolean };

/** A sink that drops everything: for callers that only want the result. */
export const nullSink = { emit(_e: StowageEvent) {} };

/** Collects events in memory: used by tests and by --json rendering. */
export class MemorySink {
  readonly events: StowageEvent[] = [];
  emit(e: StowageEvent) {
    this.events.push(e);
  }
}
