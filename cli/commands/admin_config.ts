import type { AdminCommand } from "./admin.ts";
import type { Runtime } from "../runtime.ts";

export function registerAdminConfig(admin: AdminCommand, _rt: Runtime) {
  admin.command("config").description("TODO");
}
