import type { AdminCommand } from "./admin.ts";
import type { Runtime } from "../runtime.ts";

export function registerAdminRepo(admin: AdminCommand, _rt: Runtime) {
  admin.command("repo").description("TODO");
}
