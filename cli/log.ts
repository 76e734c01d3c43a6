/**
 * Logging through @logtape/logtape to stderr. Callers log names and paths, not values; as a last
 * guard every record's text goes through core/secrets.ts's redactText before any sink (stderr,
 * journald) sees it. (The journald sink for the service issue plugs in here.)
 */
import { configureSync, getLogger, type LogLevel, type LogRecord } from "@logtape/logtape";
import type { Runtime } from "./runtime.ts";
import { StowageError } from "../core/errors.ts";
import { redactText } from "../core/secrets.ts";

const LEVELS: Record<string, LogLevel> = {
  debug: "debug",
  info: "info",
  warning: "warning",
  warn: "warning",
  error: "error",
};

export function parseLevel(level: string | undefined): LogLevel {
  if (level === undefined || level === "") return "info";
  const l = LEVELS[level.toLowerCase()];
  if (!l) {
    throw new StowageError(
      "usage",
      `Unknown log level '${level}'`,
      "Use one of: debug, info, warning, error.",
    );
  }
  return l;
}

let extraSinks: ((r: LogRecord) => void)[] = [];

let stderrReplaced = false;

/**
 * Lets the daemon add a journald sink before logging is configured. With `replacesStderr` (the
 * journald sink, when stderr is the journal) log records no longer go to stderr as well.
 */
export function addLogSink(sink: (r: LogRecord) => void, opts: { replacesStderr?: boolean } = {}) {
  extraSinks.push(sink);
  if (opts.replacesStderr) stderrReplaced = true;
}

/** The record with credentials hidden in its message parts and string properties. */
export function redactRecord(r: LogRecord): LogRecord {
  const hide = (v: unknown) => (typeof v === "string" ? redactText(v) : v);
  return {
    ...r,
    message: r.message.map(hide),
    properties: Object.fromEntries(Object.entries(r.properties).map(([k, v]) => [k, hide(v)])),
  };
}

export function configureLogging(rt: Runtime, level: string | undefined) {
  const lowest = parseLevel(level);
  const stderrSink = (r: LogRecord) => {
    if (stderrReplaced) return;
    const msg = r.message.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join("");
    const unit = r.properties.unit ? `[${r.properties.unit}] ` : "";
    rt.writeErr(`${r.level === "info" ? "" : r.level + ": "}${unit}${msg}\n`);
  };
  configureSync({
    reset: true,
    sinks: {
      stderr: (r) => stderrSink(redactRecord(r)),
      extra: (r) => {
        const safe = redactRecord(r);
        extraSinks.forEach((s) => s(safe));
      },
    },
    loggers: [
      { category: ["stowage"], lowestLevel: lowest, sinks: ["stderr", "extra"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
}

/** True when records go to the journal instead of stderr (stowage runs under systemd). */
export function journalIsStderr(): boolean {
  return stderrReplaced;
}

export function resetLogSinks() {
  extraSinks = [];
  stderrReplaced = false;
}

export const log = getLogger(["stowage"]);
