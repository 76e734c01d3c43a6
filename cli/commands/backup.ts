import type { Program } from "../mod.ts";
import type { Runtime } from "../runtime.ts";

export function registerBackup(_program: Program, _rt: Runtime) {
  // TODO
}
