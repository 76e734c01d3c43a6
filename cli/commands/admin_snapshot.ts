import type { AdminCommand } from "./admin.ts";
import type { Runtime } from "../runtime.ts";

export function registerAdminSnapshot(admin: AdminCommand, _rt: Runtime) {
  admin.command("snapshot").description("TODO");
}
