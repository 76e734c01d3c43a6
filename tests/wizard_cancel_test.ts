/**
 * Ctrl-C at any wizard question is a cancel, typed on a real pseudo-terminal: "nothing was
 * changed", exit 130, and indeed nothing written. Never an internal error.
 */
import assert from "node:assert/strict";
import { isolatedEnv } from "./support/cli.ts";
import { KEY, onTerminal, type TerminalRun } from "./support/terminal.ts";
import { EXIT_CODES } from "../cli/exit_codes.ts";

const show = (r: TerminalRun) =>
  `exit ${r.code}${r.timedOut ? " (TIMED OUT: killed)" : ""}\n${r.output}`;

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

function assertCancelled(r: TerminalRun) {
  assert.equal(r.timedOut, false, `hung:\n${show(r)}`);
  assert.equal(r.answered, 1, `the question was reached:\n${show(r)}`);
  assert.equal(r.code, EXIT_CODES.interrupted, show(r));
  assert.match(r.output, /Cancelled: nothing was changed/, show(r));
  assert.doesNotMatch(r.output, /internal error|ExitPromptError|this is a bug/, show(r));
}

Deno.test("Ctrl-C at setup's first question: nothing was changed, exit 130", async () => {
  const e = await isolatedEnv();
  try {
    const r = await onTerminal(["setup", "--config", e.configPath], {
      env: e.env,
      answers: [["Where should backups go?", KEY.ctrlC]],
    });
    assertCancelled(r);
    assert.equal(await exists(e.configPath), false, "no config");
    assert.equal(await exists(`${e.stateDir}/repository.password`), false, "no password file");
    assert.equal(await exists(`${e.stateDir}/repository`), false, "no repository");
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
});

Deno.test("Ctrl-C in the config new wizard (at the scope question): no config written, exit 130", async () => {
  const e = await isolatedEnv();
  try {
    const r = await onTerminal(["admin", "config", "new", "--config", e.configPath], {
      env: e.env,
      answers: [
        ["Where should backups go?", KEY.enter],
        ["Repository folder", `${e.dir}/repo${KEY.enter}`],
        ["Password file", KEY.enter],
        ["Backup scope", KEY.ctrlC],
      ],
    });
    assert.equal(r.answered, 4, show(r));
    assert.equal(r.code, EXIT_CODES.interrupted, show(r));
    assert.match(r.output, /Cancelled: nothing was changed/, show(r));
    assert.doesNotMatch(r.output, /internal error|ExitPromptError/, show(r));
    assert.equal(await exists(e.configPath), false, "no config");
    assert.equal(await exists(`${e.stateDir}/repository.password`), false, "no password file");
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
});

Deno.test("Ctrl-C at config edit's 'Edit again?' after an invalid edit: the config is left as it was", async () => {
  const original = "backup:\n  scope: minimal\n";
  const e = await isolatedEnv(original);
  try {
    // An "editor" that writes an invalid config, as a typo would.
    const editor = `${e.dir}/bad-editor.sh`;
    await Deno.writeTextFile(
      editor,
      "#!/bin/sh\nprintf 'backup:\\n  stop_timeout: abc\\n' > \"$1\"\n",
    );
    await Deno.chmod(editor, 0o755);
    const r = await onTerminal(["admin", "config", "edit"], {
      env: { ...e.env, EDITOR: editor, VISUAL: editor },
      answers: [["Edit again?", KEY.ctrlC]],
    });
    assertCancelled(r);
    assert.equal(await Deno.readTextFile(e.configPath), original);
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
});
