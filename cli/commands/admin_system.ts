import type { AdminCommand } from "./admin.ts";
import type { Runtime } from "../runtime.ts";

export function registerAdminSystem(admin: AdminCommand, _rt: Runtime) {
  admin.command("system").description("TODO");
}
