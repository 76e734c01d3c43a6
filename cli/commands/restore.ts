import type { Program } from "../mod.ts";
import type { Runtime } from "../runtime.ts";

export function registerRestore(_program: Program, _rt: Runtime) {
  // TODO
}
