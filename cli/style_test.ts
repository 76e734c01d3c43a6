import assert from "node:assert/strict";
import { colourEnabled, liveTerminal, setNoColorFlag, statusWord, style } from "./style.ts";

const rt = (env: Record<string, string>, tty = true) => ({
  env: (n: string) => env[n],
  stdoutIsTerminal: tty,
  stderrIsTerminal: tty,
});

Deno.test("colour: on a terminal by default, off in a pipe", () => {
  assert.equal(colourEnabled(rt({ TERM: "xterm" }), "stdout"), true);
  assert.equal(colourEnabled(rt({ TERM: "xterm" }, false), "stdout"), false);
  assert.equal(colourEnabled({ ...rt({}), stderrIsTerminal: false }, "stderr"), false);
});

Deno.test("colour: NO_COLOR with any value turns it off, an empty NO_COLOR does not (no-color.org)", () => {
  assert.equal(colourEnabled(rt({ NO_COLOR: "1" }), "stdout"), false);
  assert.equal(colourEnabled(rt({ NO_COLOR: "false" }), "stderr"), false);
  assert.equal(colourEnabled(rt({ NO_COLOR: "" }), "stdout"), true);
});

Deno.test("colour: TERM=dumb and --no-color turn it off; TERM=dumb also stops redrawing", () => {
  assert.equal(colourEnabled(rt({ TERM: "dumb" }), "stdout"), false);
  assert.equal(liveTerminal(rt({ TERM: "dumb" })), false);
  assert.equal(liveTerminal(rt({ NO_COLOR: "1" })), true, "NO_COLOR is about colour only");
  setNoColorFlag(true);
  try {
    assert.equal(colourEnabled(rt({}), "stdout"), false);
  } finally {
    setNoColorFlag(false);
  }
});

Deno.test("status words: green ok, yellow warn, red FAIL; untouched without colour", () => {
  const on = style(rt({}), "stdout");
  assert.equal(statusWord(on, "ok", "ok"), "\x1b[32mok\x1b[0m");
  assert.equal(statusWord(on, "warn", "warn"), "\x1b[33mwarn\x1b[0m");
  assert.equal(statusWord(on, "fail", "FAIL"), "\x1b[1;31mFAIL\x1b[0m");
  assert.equal(statusWord(style(rt({}, false), "stdout"), "fail", "FAIL"), "FAIL");
});
