import type { Program } from "../mod.ts";
import type { Runtime } from "../runtime.ts";

export function registerDryRun(_program: Program, _rt: Runtime) {
  // TODO
}
