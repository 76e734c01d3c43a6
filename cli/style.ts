/**
 * The one place that decides whether output is coloured, and the few colours stowage uses
 * (ok / warn / FAILED, as systemctl and docker compose mark them). Colour only reaches a
 * terminal: never a pipe or a file, never with NO_COLOR set to anything but "" (no-color.org),
 * `--no-color` or `TERM=dumb`.
 */
import type { Runtime } from "./runtime.ts";

/** Set by the CLI when `--no-color` is on the command line. */
const flags = { noColor: false };

export function setNoColorFlag(on: boolean) {
  flags.noColor = on;
}

export type Stream = "stdout" | "stderr";

/** Whether `stream` may carry colour now: the whole decision, in one place. */
export function colourEnabled(
  rt: Pick<Runtime, "env" | "stdoutIsTerminal" | "stderrIsTerminal">,
  stream: Stream,
): boolean {
  if (flags.noColor) return false;
  const noColor = rt.env("NO_COLOR");
  if (noColor !== undefined && noColor !== "") return false;
  if (rt.env("TERM") === "dumb") return false;
  return stream === "stdout" ? rt.stdoutIsTerminal : rt.stderrIsTerminal;
}

/**
 * Whether stderr may be redrawn in place (spinner, progress line): a terminal that understands
 * cursor movement, so not `TERM=dumb`. Not a matter of colour: NO_COLOR leaves it on.
 */
export function liveTerminal(rt: Pick<Runtime, "env" | "stderrIsTerminal">): boolean {
  return rt.stderrIsTerminal && rt.env("TERM") !== "dumb";
}

export interface Style {
  ok(text: string): string;
  warn(text: string): string;
  fail(text: string): string;
  dim(text: string): string;
}

const sgr = (open: string) => (text: string) => `\x1b[${open}m${text}\x1b[0m`;
const plain = (text: string) => text;

const COLOURED: Style = {
  ok: sgr("32"),
  warn: sgr("33"),
  fail: sgr("1;31"),
  dim: sgr("2"),
};
export const PLAIN: Style = { ok: plain, warn: plain, fail: plain, dim: plain };

/** The colours for text written to `stream`: identity functions when colour is off. */
export function style(
  rt: Pick<Runtime, "env" | "stdoutIsTerminal" | "stderrIsTerminal">,
  stream: Stream,
): Style {
  return colourEnabled(rt, stream) ? COLOURED : PLAIN;
}

/** Marks a status word: ok green, warnings yellow, failures red. */
export function statusWord(s: Style, status: "ok" | "warn" | "fail", text: string): string {
  return status === "ok" ? s.ok(text) : status === "warn" ? s.warn(text) : s.fail(text);
}
