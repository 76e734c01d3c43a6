/**
 * Ctrl-C at any wizard question is a cancel, typed on a real pseudo-terminal: "nothing was
 * changed", exit 130, and indeed nothing written, stopped or restored. Never an internal error.
 */
import assert from "node:assert/strict";
import { isolatedEnv, stowage } from "./support/cli.ts";
import { KEY, onTerminal, screen, type TerminalRun } from "./support/terminal.ts";
import { docker, ensureTestImage, TEST_LABEL, testName } from "./support/docker.ts";
import { testRepoEnv } from "./support/repo.ts";
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

Deno.test("Ctrl-C in the restore wizard, at the restore point question and at the final confirmation: nothing changed, exit 130, one line", async (t) => {
  const env = await testRepoEnv();
  const name = testName("wizard-cancel");
  const volume = testName("wizard-cancel-data");
  const image = await ensureTestImage();
  const inspect = async () =>
    JSON.parse((await docker("inspect", name)).stdout)[0] as {
      State: { Running: boolean; StartedAt: string };
    };
  const content = async () => (await docker("exec", name, "cat", "/data/f")).stdout;
  const snapshotCount = async () => JSON.parse(await env.restic("snapshots", "--json")).length;
  try {
    await docker("volume", "create", "--label", TEST_LABEL, volume);
    await docker(
      "run",
      "-d",
      "--init",
      "--label",
      TEST_LABEL,
      "--name",
      name,
      "-v",
      `${volume}:/data`,
      image,
      "sleep",
      "1d",
    );
    await docker("exec", name, "sh", "-c", "echo saved > /data/f");
    const backup = await stowage(["backup", "--unit", name, "--scope", "minimal"], {
      env: env.env,
    });
    assert.equal(backup.code, 0, backup.stderr);
    // Changed since the backup: a restore that ran would bring "saved" back.
    await docker("exec", name, "sh", "-c", "echo changed-after > /data/f");
    const before = { state: await inspect(), snapshots: await snapshotCount() };

    const assertUntouched = async (r: TerminalRun) => {
      assert.equal(r.timedOut, false, `hung:\n${show(r)}`);
      assert.equal(r.code, EXIT_CODES.interrupted, show(r));
      // What the terminal shows after the Ctrl-C (the last key typed): exactly one line.
      const after = screen(r.output.slice(r.typedAt.at(-1)), 120).filter((l) => l.trim() !== "");
      assert.deepEqual(after, ["stowage: Restore cancelled; nothing was changed"], show(r));
      const now = await inspect();
      assert.equal(now.State.Running, true, "the container still runs");
      assert.equal(now.State.StartedAt, before.state.State.StartedAt, "never stopped or restarted");
      assert.equal(await content(), "changed-after\n", "the volume is as it was");
      assert.equal(await snapshotCount(), before.snapshots, "no pre-restore snapshot");
      assert.equal(await exists(`${env.stateDir}/restart-journal.json`), false, "no journal left");
    };

    await t.step("at 'Which restore point?'", async () => {
      const r = await onTerminal(["restore"], {
        env: env.env,
        answers: [["Which unit?", KEY.enter], ["Which restore point?", KEY.ctrlC]],
      });
      assert.equal(r.answered, 2, show(r));
      await assertUntouched(r);
    });

    await t.step("at the final confirmation, after the plan was shown", async () => {
      const r = await onTerminal(["restore"], {
        env: env.env,
        answers: [
          ["Which unit?", KEY.enter],
          ["Which restore point?", KEY.enter],
          ["What to restore?", KEY.enter], // everything
          ["Where to?", KEY.enter], // their original places
          ["Start the unit after the restore?", KEY.enter],
          ["Stop the unit's running containers", KEY.enter], // the volume is in use
          [/Overwrite the \d+ item\(s\) listed above and restore\?/, KEY.ctrlC],
        ],
        timeoutMs: 90_000,
      });
      assert.equal(r.answered, 7, show(r));
      assert.match(r.output, new RegExp(`will overwrite:[\\s\\S]*${volume}`), show(r));
      await assertUntouched(r);
    });
  } finally {
    await docker("rm", "-f", name).catch(() => {});
    await docker("volume", "rm", "-f", volume).catch(() => {});
    await env.cleanup();
  }
});
