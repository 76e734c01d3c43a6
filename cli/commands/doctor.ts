import type { Program } from "../mod.ts";
import { globals, setExitCode } from "../mod.ts";
import type { Runtime } from "../runtime.ts";
import { printJson } from "../output.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { runDoctor } from "../../app/doctor.ts";

export function registerDoctor(program: Program, rt: Runtime) {
  program
    .command("doctor")
    .description(
      "Check dependencies, config, password file, repository and leftovers of crashed runs. Exit 0 when healthy.",
    )
    .option("--json", "print the checks as one JSON document")
    .action(async (opts, cmd) => {
      const config = globals(cmd).config;
      const report = await runDoctor(rt.app, {
        loadConfig: () => rt.loadConfig({ config }),
        defaultConfigFile: rt.paths.configFile,
      });
      if (opts.json) printJson(rt, report);
      else {
        for (const c of report.checks) {
          rt.write(
            `${
              c.status === "ok" ? "ok  " : c.status === "warn" ? "warn" : "FAIL"
            }  ${c.name}: ${c.detail}\n`,
          );
          if (c.hint && c.status !== "ok") rt.write(`      hint: ${c.hint}\n`);
        }
        rt.write(report.healthy ? "\nhealthy\n" : "\nNOT healthy\n");
      }
      setExitCode(report.healthy ? 0 : EXIT_CODES.unhealthy);
    });
}
