import type { Program } from "../mod.ts";
import { globals, setExitCode } from "../mod.ts";
import type { Runtime } from "../runtime.ts";
import { printJson } from "../output.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { runDoctor } from "../../app/doctor.ts";
import type { Check } from "../../core/doctor.ts";
import { startSpinner } from "../spinner.ts";
import { statusWord, type Style, style } from "../style.ts";

/** One check as doctor prints it: status, name, detail, and the hint when it is not ok. */
export function checkLines(c: Check, s: Style): string[] {
  const word = c.status === "ok" ? "ok  " : c.status === "warn" ? "warn" : "FAIL";
  const lines = [`${statusWord(s, c.status, word)}  ${c.name}: ${c.detail}`];
  if (c.hint && c.status !== "ok") lines.push(`      hint: ${c.hint}`);
  return lines;
}

export function registerDoctor(program: Program, rt: Runtime) {
  program
    .command("doctor")
    .description(
      "Check dependencies, config, password file, repository and leftovers of crashed runs. Exit 0 when healthy.",
    )
    .option("--json", "print the checks as one JSON document")
    .action(async (opts, cmd) => {
      const config = globals(cmd).config;
      const run = (progress?: Parameters<typeof runDoctor>[1]["progress"]) =>
        runDoctor(rt.app, {
          loadConfig: () => rt.loadConfig({ config }),
          defaultConfigFile: rt.paths.configFile,
          progress,
        });
      if (opts.json) {
        const report = await run();
        printJson(rt, report);
        setExitCode(report.healthy ? 0 : EXIT_CODES.unhealthy);
        return;
      }
      // Each check is printed as soon as it ends; on a terminal a spinner names the running one.
      const s = style(rt, "stdout");
      const spinner = startSpinner(rt);
      let report;
      try {
        report = await run({
          running: (name) => spinner.set(`checking ${name}...`),
          done: (c) => checkLines(c, s).forEach((l) => spinner.line(l)),
        });
      } finally {
        spinner.stop();
      }
      rt.write(report.healthy ? `\n${s.ok("healthy")}\n` : `\n${s.fail("NOT healthy")}\n`);
      setExitCode(report.healthy ? 0 : EXIT_CODES.unhealthy);
    });
}
