/**
 * runCli loads only the top-level command argv names (cli/mod.ts COMMANDS); commandNamed decides
 * which, and gives undefined (every command loaded) whenever that is not certain.
 */
import assert from "node:assert/strict";
import { buildProgram, commandNamed } from "./mod.ts";
import type { Runtime } from "./runtime.ts";

Deno.test("commandNamed finds the command after stowage's own options, in every spelling", () => {
  assert.equal(commandNamed(["backup", "--unit", "x"]), "backup");
  assert.equal(commandNamed(["-c", "/etc/x.yaml", "restore", "--list"]), "restore");
  assert.equal(commandNamed(["--config", "backup", "doctor"]), "doctor");
  assert.equal(commandNamed(["--config=/x", "--log-level", "debug", "admin", "repo"]), "admin");
  assert.equal(commandNamed(["-c/x", "--log-level=info", "--no-color", "verify"]), "verify");
  assert.equal(commandNamed(["disaster-recovery", "open"]), "disaster-recovery");
  assert.equal(commandNamed(["dry-run"]), "dry-run");
});

Deno.test("commandNamed gives undefined (load every command) when argv names none for sure", () => {
  for (
    const argv of [
      [],
      ["--version"],
      ["--help"],
      ["--help", "backup"],
      ["-h", "restore"],
      ["-V", "backup"],
      ["help", "backup"],
      ["bakup"],
      ["--unknown", "backup"],
      ["-Vc", "x", "backup"],
      ["--", "backup"],
      ["constructor"],
      ["-c"],
    ]
  ) {
    assert.equal(commandNamed(argv), undefined, JSON.stringify(argv));
  }
});

Deno.test("a program built for one command has that command as the whole program has it", async () => {
  const rt = { env: () => undefined, write: () => {}, writeErr: () => {} } as unknown as Runtime;
  const whole = await buildProgram(rt);
  const names = whole.commands.map((c) => c.name());
  assert.deepEqual(names, [
    "version",
    "setup",
    "backup",
    "restore",
    "verify",
    "disaster-recovery",
    "dry-run",
    "doctor",
    "admin",
  ]);
  for (const name of names) {
    const one = await buildProgram(rt, name);
    assert.deepEqual(one.commands.map((c) => c.name()), [name]);
    const a = whole.commands.find((c) => c.name() === name)!;
    const b = one.commands[0];
    assert.equal(b.helpInformation(), a.helpInformation(), name);
  }
});
