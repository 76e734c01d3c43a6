/**
 * The command line: builds the commander program, runs it, and turns every failure into one line
 * plus a hint and a documented exit code. Commands live one per file in cli/commands/.
 */
import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { isStowageError, StowageError } from "../core/errors.ts";
import { redactText } from "../core/secrets.ts";
import { EXIT_CODES } from "./exit_codes.ts";
import type { Runtime } from "./runtime.ts";
import { configureLogging } from "./log.ts";
import { addExamples } from "./help.ts";
import { colourEnabled, setNoColorFlag } from "./style.ts";
import { VERSION } from "../core/version.ts";

export type Program = Command<[], { config?: string; logLevel?: string }>;

type Register = (program: Program, rt: Runtime) => void;

/**
 * The top-level commands in help order, each loaded only when it is needed: a run loads the code
 * of the one command its argv names (`stowage backup` never loads the restore command, the
 * wizards or the daemon command's code; main.ts still wires every adapter, which measured no
 * difference). Literal specifiers, so `deno compile` includes every one.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  version: async () => (await import("./commands/version.ts")).registerVersion,
  setup: async () => (await import("./commands/setup.ts")).registerSetup,
  backup: async () => (await import("./commands/backup.ts")).registerBackup,
  restore: async () => (await import("./commands/restore.ts")).registerRestore,
  verify: async () => (await import("./commands/verify.ts")).registerVerify,
  "disaster-recovery": async () =>
    (await import("./commands/disaster_recovery.ts")).registerDisasterRecovery,
  "dry-run": async () => (await import("./commands/dry_run.ts")).registerDryRun,
  doctor: async () => (await import("./commands/doctor.ts")).registerDoctor,
  admin: async () => (await import("./commands/admin.ts")).registerAdmin,
};

/** stowage's own options that take a value (a value is never the command's name). */
const GLOBAL_VALUE_FLAGS = new Set(["-c", "--config", "--log-level"]);
/** Before a command, --help and --version answer for stowage itself: the whole program. */
const GLOBAL_FLAGS = new Set(["--no-color"]);

/**
 * The top-level command `argv` names, when that is certain: only stowage's own options come
 * before it. Anything else (no command, `help`, an unknown word or option, `--`) gives undefined,
 * and every command is loaded, so commander answers exactly as with the whole program.
 */
export function commandNamed(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (GLOBAL_VALUE_FLAGS.has(a)) {
      i++;
      continue;
    }
    if (GLOBAL_FLAGS.has(a) || /^(--config=|--log-level=|-c.)/.test(a)) continue;
    if (a.startsWith("-")) return undefined;
    return Object.hasOwn(COMMANDS, a) ? a : undefined;
  }
  return undefined;
}

/**
 * The program with every command (`only`: with just that top-level command, for a run that
 * names it; its parsing, help and errors are the same as in the whole program).
 */
export async function buildProgram(rt: Runtime, only?: string): Promise<Program> {
  const program = new Command("stowage")
    .description("Cold, stack-aware backups of Docker hosts into a restic repository.")
    .version(VERSION, "-V, --version", "print the version and exit")
    .option(
      "-c, --config <path>",
      "config file (default: /etc/stowage/config.yaml as root; env STOWAGE_CONFIG)",
    )
    .option("--log-level <level>", "debug, info, warning or error (env STOWAGE_LOG_LEVEL)")
    .showHelpAfterError("hint: run the command with --help for its usage")
    .configureOutput({
      writeOut: (s) => rt.write(s),
      writeErr: (s) => rt.writeErr(s),
      getOutHasColors: () => colourEnabled(rt, "stdout"),
      getErrHasColors: () => colourEnabled(rt, "stderr"),
      // Flag errors read like every other error: `stowage: ...` on one line, then the hint.
      outputError: (s, write) =>
        write(
          s.replace(/^error: /, "stowage: ").replace(/\n\((Did you mean [^\n]*)\)/, (_, m) =>
            ` (${m[0].toLowerCase()}${m.slice(1)})`),
        ),
    })
    .exitOverride();
  // Read by runCli before parsing (cli/style.ts); declared so commander accepts and lists it.
  program.addOption(
    new Option(
      "--no-color",
      "no colour (also NO_COLOR=1 or TERM=dumb; colour only ever reaches a terminal)",
    ),
  );
  program.hook("preAction", (cmd) => {
    const level = cmd.opts().logLevel ?? rt.env("STOWAGE_LOG_LEVEL");
    configureLogging(rt, level);
  });
  const names = only ? [only] : Object.keys(COMMANDS);
  const registers = await Promise.all(names.map((name) => COMMANDS[name]()));
  for (const register of registers) register(program, rt);
  addExamples(program);
  return program;
}

/** Runs the CLI and returns the exit code. Never throws for expected failures. */
export async function runCli(rt: Runtime, argv: string[]): Promise<number> {
  exitState.code = 0;
  // Read before parsing so that even a usage error or --help obeys it.
  setNoColorFlag(argv.includes("--no-color"));
  const program = await buildProgram(rt, commandNamed(argv));
  for (const cmd of allCommands(program)) {
    cmd.exitOverride().configureOutput(program.configureOutput());
  }
  const wantsJson = argv.includes("--json");
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitState.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      if (e.exitCode === 0) return 0;
      return EXIT_CODES.usage;
    }
    return reportError(rt, e, wantsJson);
  }
}

export function reportError(rt: Runtime, e: unknown, json: boolean): number {
  if (isStowageError(e)) return reportExpected(rt, redactedError(e), json);
  if (isPromptCancel(e)) {
    // Every wizard asks before it changes anything, so a cancel leaves everything as it was.
    rt.writeErr("\n");
    return reportExpected(
      rt,
      new StowageError(
        "interrupted",
        "Cancelled: nothing was changed",
        "Run the command again to start over, or pass its flags to skip the questions.",
      ),
      json,
    );
  }
  // A bug: keep the stack so it can be reported (credentials in it hidden).
  rt.writeErr(
    `stowage: internal error: ${
      redactText(e instanceof Error ? (e.stack ?? e.message) : String(e))
    }\n`,
  );
  rt.writeErr("hint: this is a bug in stowage; please report it with the lines above.\n");
  return EXIT_CODES.bug;
}

/** Ctrl-C (or Ctrl-D) at a question: @inquirer/prompts rejects with an ExitPromptError. */
function isPromptCancel(e: unknown): boolean {
  return e instanceof Error && e.name === "ExitPromptError";
}

/** The error as it may be printed: credentials in message, hint and details hidden. */
function redactedError(e: StowageError): StowageError {
  const hint = e.hint === undefined ? undefined : redactText(e.hint);
  return new StowageError(e.code, redactText(e.message), hint, {
    details: e.details.map((d) => redactText(d)),
  });
}

function reportExpected(rt: Runtime, e: StowageError, json: boolean): number {
  if (json) {
    rt.write(
      JSON.stringify(
        {
          ok: false,
          error: { code: e.code, message: e.message, hint: e.hint, details: e.details },
        },
        null,
        2,
      ) + "\n",
    );
  }
  rt.writeErr(`stowage: ${e.message}\n`);
  for (const d of e.details) rt.writeErr(`  ${d}\n`);
  if (e.hint) rt.writeErr(`hint: ${e.hint}\n`);
  return EXIT_CODES[e.code];
}

function* allCommands(
  cmd: Command<unknown[], Record<string, unknown>>,
): Generator<Command<unknown[], Record<string, unknown>>> {
  for (const c of cmd.commands) {
    yield c as Command<unknown[], Record<string, unknown>>;
    yield* allCommands(c as Command<unknown[], Record<string, unknown>>);
  }
}

/** Global options as seen from a subcommand. */
export function globals(cmd: { optsWithGlobals(): Record<string, unknown> }) {
  const o = cmd.optsWithGlobals() as { config?: string; logLevel?: string };
  return { config: o.config, logLevel: o.logLevel };
}

/** Sets the exit code for a command that reports rather than throws (doctor, backup). */
export function setExitCode(code: number) {
  exitState.code = code;
}

const exitState = { code: 0 };

export function usageError(message: string, hint: string): StowageError {
  return new StowageError("usage", message, hint);
}
