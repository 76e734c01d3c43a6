import type { AdminCommand } from "./admin.ts";
import type { Runtime } from "../runtime.ts";

export function registerAdminHooks(admin: AdminCommand, _rt: Runtime) {
  admin.command("hooks").description("TODO");
}
