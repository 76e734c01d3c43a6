import type { Program } from "../mod.ts";
import { globals } from "../mod.ts";
import type { Runtime } from "../runtime.ts";
import { printJson } from "../output.ts";
import { parseScope } from "../parse.ts";
import { renderDryRun } from "../dry_run_view.ts";
import { buildDryRun } from "../../app/dry_run.ts";

export function registerDryRun(program: Program, rt: Runtime) {
  program
    .command("dry-run")
    .description(
      "Show what a backup would do per unit: stop/start order, what is saved with sizes, gaps, hooks, downtime estimate. No side effects.",
    )
    .option("-u, --unit <name...>", "only these units")
    .option(
      "-s, --scope <scope>",
      "minimal, standard or full (default: the config's backup.scope, standard unless set)",
    )
    .option("--json", "print the plan as one JSON document")
    .action(async (opts, cmd) => {
      const scope = parseScope(opts.scope);
      const loaded = await rt.loadConfig(globals(cmd));
      const doc = await buildDryRun(rt.app, loaded, { units: opts.unit, scope });
      if (opts.json) printJson(rt, doc);
      else rt.write(renderDryRun(doc));
    });
}
