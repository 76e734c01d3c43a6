/**
 * Where the questions of every wizard are drawn: stderr (stdout stays for output), without
 * colour when cli/style.ts says so. @inquirer/prompts colours its prompts whatever NO_COLOR
 * says, so without colour its output passes through a filter that drops the colour codes and
 * keeps the cursor movements.
 */
import process from "node:process";
import { Writable } from "node:stream";
import type { Runtime } from "./runtime.ts";
import { colourEnabled } from "./style.ts";

// deno-lint-ignore no-control-regex -- colour codes are escape sequences
const SGR = /\x1b\[[0-9;]*m/g;

class PlainStderr extends Writable {
  override _write(chunk: unknown, _enc: string, done: (e?: Error | null) => void) {
    process.stderr.write(String(chunk).replace(SGR, ""), (e) => done(e ?? null));
  }
  // A prompt ends its output stream when it is answered; stderr itself stays open (as
  // process.stderr ignores end()), so the next prompt can draw through the same filter.
  override end(...args: unknown[]): this {
    const done = args.find((a) => typeof a === "function") as (() => void) | undefined;
    done?.();
    return this;
  }
  // What the prompts read to lay themselves out: the real terminal's.
  get isTTY() {
    return process.stderr.isTTY;
  }
  get columns() {
    return process.stderr.columns;
  }
  get rows() {
    return process.stderr.rows;
  }
}

/** The `context` to give each prompt: `{ output }`. */
export function promptContext(rt: Pick<Runtime, "env" | "stdoutIsTerminal" | "stderrIsTerminal">) {
  return { output: colourEnabled(rt, "stderr") ? process.stderr : new PlainStderr() };
}
