/**
 * Every command and subcommand answers `--help` with exit 0, a Usage line, and an Examples
 * section whose lines are real: each names its own command and only options that command (or
 * stowage itself) has.
 */
import assert from "node:assert/strict";
import type { Command } from "@commander-js/extra-typings";
import { buildProgram, runCli } from "./mod.ts";
import type { Runtime } from "./runtime.ts";
import { EXAMPLES } from "./help.ts";

type AnyCommand = Command<unknown[], Record<string, unknown>>;

function captureRuntime(): { rt: Runtime; out: () => string } {
  let out = "";
  const rt = {
    env: () => undefined,
    uid: 0,
    hostname: "test",
    paths: {},
    stdinIsTerminal: false,
    stdoutIsTerminal: false,
    stderrIsTerminal: false,
    write: (s: string) => void (out += s),
    writeErr: (s: string) => void (out += s),
  } as unknown as Runtime;
  return { rt, out: () => out };
}

function* walk(cmd: AnyCommand, path: string[] = []): Generator<[string[], AnyCommand]> {
  yield [path, cmd];
  for (const sub of cmd.commands) yield* walk(sub as AnyCommand, [...path, sub.name()]);
}

/** The command an example's words lead to (the deepest subcommand they name). */
function resolve(program: AnyCommand, words: string[]): AnyCommand[] {
  const chain = [program];
  for (const w of words) {
    const next = chain.at(-1)!.commands.find((c) => c.name() === w);
    if (!next) break;
    chain.push(next as AnyCommand);
  }
  return chain;
}

const program = (await buildProgram(captureRuntime().rt)) as unknown as AnyCommand;
const commands = [...walk(program)];

Deno.test("the help walk reaches every command (and each has an examples entry)", () => {
  assert.ok(commands.length > 30, `only ${commands.length} commands found`);
  const paths = commands.map(([p]) => p.join(" "));
  assert.deepEqual(paths.filter((p) => !(p in EXAMPLES)), [], "commands without examples");
  assert.deepEqual(Object.keys(EXAMPLES).filter((p) => !paths.includes(p)), [], "stale entries");
});

for (const [path, _] of commands) {
  const name = ["stowage", ...path].join(" ");
  Deno.test(`${name} --help: exit 0, Usage, and examples of that command`, async () => {
    const { rt, out } = captureRuntime();
    const code = await runCli(rt, [...path, "--help"]);
    const help = out();
    assert.equal(code, 0, help);
    assert.match(help, new RegExp(`^Usage: ${name} `), help);
    const section = help.split("\nExamples:\n")[1];
    assert.ok(section, `no Examples section:\n${help}`);
    const lines = section.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("stowage"));
    assert.ok(lines.length > 0, `no example command lines:\n${section}`);
    for (const line of lines) {
      // Up to a pipe or redirection: the stowage part of the line.
      const words = line.split(/\s+[|>]/)[0].split(/\s+/).slice(1);
      assert.ok(line.startsWith(name), `'${line}' is not an example of ${name}`);
      const chain = resolve(program, words);
      const known = new Set(
        chain.flatMap((c) => c.options.flatMap((o) => [o.long, o.short])).concat(["--help"]),
      );
      for (const flag of words.filter((w) => w.startsWith("-"))) {
        assert.ok(known.has(flag), `'${line}': ${flag} is not an option of it`);
      }
    }
  });
}
