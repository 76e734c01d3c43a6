import type { Program } from "../mod.ts";
import type { Runtime } from "../runtime.ts";
import { printJson } from "../output.ts";
import { FORMAT_VERSION, VERSION } from "../../core/version.ts";
import { SDK_VERSION } from "../../hooks-sdk/version.ts";

export function registerVersion(program: Program, rt: Runtime) {
  program
    .command("version")
    .description("Print stowage's version (and, with --json, the format and hooks SDK versions).")
    .option("--json", "print a JSON document")
    .action((opts) => {
      const info = {
        version: VERSION,
        format: FORMAT_VERSION,
        hooks_sdk: SDK_VERSION,
        deno: Deno.version.deno,
      };
      if (opts.json) printJson(rt, info);
      else {rt.write(
          `stowage ${VERSION} (format ${FORMAT_VERSION}, hooks SDK ${SDK_VERSION}, deno ${Deno.version.deno})\n`,
        );}
    });
}
