/**
 * A spinner for the step that is running, on stderr and only when stderr is a terminal: a sign
 * of life while a check or a wait takes seconds. Lines printed meanwhile go through `line`, which
 * clears the spinner first and draws it again after, so nothing is left behind.
 */
import type { Runtime } from "./runtime.ts";
import { middleTruncate } from "./progress.ts";
import { liveTerminal } from "./style.ts";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const INTERVAL_MS = 100;

export interface Spinner {
  /** Shows `text` next to the spinner (the running step). */
  set(text: string): void;
  /** Prints a finished line (to stdout by default) without leaving a spinner copy behind. */
  line(text: string, stream?: "stdout" | "stderr"): void;
  /** Clears the spinner and stops its timer; safe to call twice. */
  stop(): void;
}

export function startSpinner(
  rt: Pick<Runtime, "env" | "stderrIsTerminal" | "write" | "writeErr" | "terminalColumns">,
): Spinner {
  const write = (text: string, stream: "stdout" | "stderr") =>
    stream === "stdout" ? rt.write(text) : rt.writeErr(text);
  if (!liveTerminal(rt)) {
    return { set() {}, line: (text, stream = "stdout") => write(text + "\n", stream), stop() {} };
  }
  let text: string | undefined;
  let frame = 0;
  let shown = false;
  const clear = () => {
    if (shown) rt.writeErr("\r\x1b[2K");
    shown = false;
  };
  const draw = () => {
    if (text === undefined) return;
    // Never as wide as the terminal: a wrapped line cannot be redrawn in place.
    const width = Math.max(10, (rt.terminalColumns?.() ?? 80) - 1);
    rt.writeErr(`\r\x1b[2K${FRAMES[frame % FRAMES.length]} ${middleTruncate(text, width - 2)}`);
    shown = true;
  };
  const timer = setInterval(() => {
    frame++;
    draw();
  }, INTERVAL_MS);
  return {
    set(t) {
      text = t;
      draw();
    },
    line(t, stream = "stdout") {
      clear();
      write(t + "\n", stream);
      draw();
    },
    stop() {
      clearInterval(timer);
      text = undefined;
      clear();
    },
  };
}
