import type { AdminCommand } from "./admin.ts";
import type { Runtime } from "../runtime.ts";

export function registerAdminService(admin: AdminCommand, _rt: Runtime) {
  admin.command("service").description("TODO");
}
