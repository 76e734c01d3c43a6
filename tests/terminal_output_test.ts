/**
 * What an operator sees of doctor: each check printed as soon as it ends (not all at once after
 * the slowest), a spinner naming the running check on a terminal and nothing left of it on the
 * screen afterwards, plain lines in a pipe; and colour only where a person looks at a terminal
 * that wants it (NO_COLOR, --no-color and TERM=dumb turn it off, the wizards' questions included;
 * pipes never get it).
 */
import assert from "node:assert/strict";
import { spawnStowage, stowage } from "./support/cli.ts";
import { gatedRestic } from "./support/restic_shim.ts";
import { testRepoEnv } from "./support/repo.ts";
import { onTerminal, screen, type TerminalRun } from "./support/terminal.ts";

// deno-lint-ignore no-control-regex -- colour is an escape sequence
const SGR = /\x1b\[[0-9;]*m/;
// deno-lint-ignore no-control-regex -- so is every cursor movement
const ANY_ESCAPE = /\x1b\[/;

const show = (r: TerminalRun) =>
  `exit ${r.code}${r.timedOut ? " (TIMED OUT: killed)" : ""}\n${JSON.stringify(r.output)}`;

Deno.test("doctor prints each check as it ends: the first lines arrive while restic's check still runs", async () => {
  const env = await testRepoEnv();
  try {
    const gate = await gatedRestic(env.dir);
    // NO_COLOR empty (allowed by no-color.org): only the pipe keeps colour away.
    const child = spawnStowage(["doctor"], { env: { ...env.env, ...gate.env, NO_COLOR: "" } });
    const stderr = new Response(child.stderr).text();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    // Should the lines never come before restic's (not streamed), the gate opens after a while so
    // the test fails on the assertions below instead of hanging.
    const deadline = setTimeout(() => gate.open(), 30_000);
    while (!out.includes("docker engine:")) {
      const { value, done } = await reader.read();
      assert.ok(!done, `doctor ended before printing the engine check:\n${out}`);
      out += value;
    }
    // restic is held at the gate: its line cannot be there, the earlier ones are.
    assert.match(out, /^ok {4}config: .* is valid$/m);
    assert.doesNotMatch(out, /restic:|repository:/);
    clearTimeout(deadline);
    await gate.open();
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const status = await child.status;
    assert.equal(status.code, 0, `${out}\n${await stderr}`);
    assert.match(out, /^ok {4}restic: restic 0\.\d+/m);
    assert.match(out, /\nhealthy\n$/);
    // Not a terminal: plain lines, no spinner, no colour, on either stream.
    assert.doesNotMatch(out, ANY_ESCAPE);
    assert.doesNotMatch(await stderr, ANY_ESCAPE);
  } finally {
    await env.cleanup();
  }
});

Deno.test("doctor on a terminal: a spinner names the running check, the screen keeps only the finished lines", async () => {
  const env = await testRepoEnv();
  try {
    const gate = await gatedRestic(env.dir);
    const r = await onTerminal(["doctor"], {
      env: { ...env.env, ...gate.env },
      columns: 80,
      // Released only once the spinner is seen naming the check restic holds up.
      answers: [[/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] checking compose tool and restic\.\.\./, gate.open]],
    });
    assert.equal(r.timedOut, false, show(r));
    assert.equal(r.answered, 1, `no spinner for the running check:\n${show(r)}`);
    assert.equal(r.code, 0, show(r));
    const lines = screen(r.output, 80).filter((l) => l !== "");
    assert.doesNotMatch(lines.join("\n"), /checking|[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/, lines.join("\n"));
    for (const name of ["config", "docker engine", "restic", "repository", "restart journal"]) {
      const found = lines.filter((l) => l.startsWith("ok    " + name + ":"));
      assert.equal(found.length, 1, `${name} once:\n${lines.join("\n")}`);
    }
    assert.equal(lines.at(-1), "healthy");
  } finally {
    await env.cleanup();
  }
});

Deno.test("colour on a terminal, and off with NO_COLOR, --no-color, TERM=dumb or a pipe", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-colour-" });
  // A config that is not there: doctor's first check fails at once, in red on a terminal.
  const args = ["doctor", "--config", `${dir}/missing.yaml`];
  // deno-lint-ignore no-control-regex -- with or without the colour's reset
  const failLine = /FAIL(\x1b\[0m)? {2}config: /;
  try {
    const cases: [string, string[], Record<string, string>, boolean][] = [
      ["a terminal", args, { NO_COLOR: "" }, true],
      ["NO_COLOR=1", args, { NO_COLOR: "1" }, false],
      ["--no-color", [...args, "--no-color"], { NO_COLOR: "" }, false],
      ["TERM=dumb", args, { NO_COLOR: "", TERM: "dumb" }, false],
    ];
    for (const [name, argv, env, coloured] of cases) {
      await t.step(name, async () => {
        const r = await onTerminal(argv, { env });
        assert.equal(r.timedOut, false, show(r));
        assert.equal(r.code, 19, show(r));
        assert.match(r.output, failLine, show(r));
        const red = "\x1b[1;31mFAIL\x1b[0m  config: ";
        if (coloured) assert.ok(r.output.includes(red), show(r));
        else assert.doesNotMatch(r.output, SGR, show(r));
        // A dumb terminal gets no cursor movement either (no spinner).
        if (env.TERM === "dumb") assert.doesNotMatch(r.output, ANY_ESCAPE, show(r));
      });
    }
    await t.step("the wizard's questions follow the same rule", async () => {
      // Without colour the questions carry no colour code. With colour on, whether the prompt
      // library colours them is its own decision (node's colour depth: NO_COLOR, TERM, CI), so
      // only the plain case is asserted.
      for (const noColor of ["", "1"]) {
        const r = await onTerminal(["admin", "config", "new", "--config", `${dir}/new.yaml`], {
          env: { NO_COLOR: noColor, STOWAGE_STATE_DIR: `${dir}/state` },
          answers: [["Where should backups go?", "\x03"]],
        });
        assert.equal(r.code, 130, show(r));
        if (noColor) assert.doesNotMatch(r.output, SGR, show(r));
      }
      // On a CI machine the library looks for each CI service's variable: the permission set must
      // let it (it failed as "NotCapable: Requires env access to APPVEYOR").
      const ci = await onTerminal(["admin", "config", "new", "--config", `${dir}/new.yaml`], {
        env: { NO_COLOR: "", CI: "true", STOWAGE_STATE_DIR: `${dir}/state` },
        answers: [["Where should backups go?", "\x03"]],
      });
      assert.equal(ci.code, 130, show(ci));
    });
    await t.step("a pipe", async () => {
      const r = await stowage(args, { env: { NO_COLOR: "" } });
      assert.equal(r.code, 19, r.stderr);
      assert.match(r.stdout, /^FAIL {2}config: /m);
      assert.doesNotMatch(r.stdout + r.stderr, ANY_ESCAPE);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stowage --help and backup --help: exit 0 with Usage and Examples, as a person runs them", async () => {
  for (const args of [["--help"], ["backup", "--help"]]) {
    const r = await stowage(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: stowage /);
    assert.match(r.stdout, /\nExamples:\n {2}# .+\n {2}stowage /);
  }
});

Deno.test("tables fit an 80-column terminal, broken between words; in a pipe each row stays on one line", async (t) => {
  const env = await testRepoEnv();
  try {
    // One saved unit of its own, so the snapshot table has a row whatever else runs on the host.
    await Deno.mkdir(`${env.dir}/data`);
    await Deno.writeTextFile(`${env.dir}/data/file`, "volume data\n");
    await env.restic(
      "backup",
      "--tag",
      "stowage,format=1,unit=terminal-table,type=volume,volume=terminal-table_data,backup_id=2025-01-31T02-00-00Z",
      `${env.dir}/data`,
    );
    const cases: [string, string[], RegExp][] = [
      [
        "admin system show-deps",
        ["admin", "system", "show-deps"],
        /\bdocker\.io\b|\bdocker-compose\b/,
      ],
      ["admin snapshot list", ["admin", "snapshot", "list"], /^UNIT +KIND/m],
    ];
    for (const [name, args, expected] of cases) {
      await t.step(name, async () => {
        const r = await onTerminal(args, { env: env.env, columns: 80 });
        assert.equal(r.code, 0, show(r));
        // Each line as the program wrote it (escape codes and carriage returns left out).
        // deno-lint-ignore no-control-regex -- escape sequences
        const lines = r.output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").split(/\r?\n/)
          .map((l) => l.replace(/.*\r/, ""));
        for (const l of lines) assert.ok(l.length <= 80, `${l.length} wide:\n${lines.join("\n")}`);
        assert.match(lines.join("\n"), expected);
        // A cell is never cut inside a word (as "docke/r.io" was).
        assert.doesNotMatch(lines.join("\n"), /\bdocke$|^\s*r\.io/m, lines.join("\n"));
        const piped = await stowage(args, { env: env.env });
        assert.equal(piped.code, 0, piped.stderr);
        // The same rows unwrapped: as many table lines as rows, one line each.
        assert.ok(piped.stdout.split("\n").length <= lines.length, piped.stdout);
      });
    }
  } finally {
    await env.cleanup();
  }
});
