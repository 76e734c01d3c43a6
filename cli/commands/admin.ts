import type { Program } from "../mod.ts";
import type { Runtime } from "../runtime.ts";
import { registerAdminConfig } from "./admin_config.ts";
import { registerAdminRepo } from "./admin_repo.ts";
import { registerAdminService } from "./admin_service.ts";
import { registerAdminSystem } from "./admin_system.ts";
import { registerAdminSnapshot } from "./admin_snapshot.ts";
import { registerAdminHooks } from "./admin_hooks.ts";
import { registerAdminNotify } from "./admin_notify.ts";

export type AdminCommand = ReturnType<Program["command"]>;

export function registerAdmin(program: Program, rt: Runtime) {
  const admin = program.command("admin").description(
    "Configuration, repository, service, system, snapshot, hook and notification administration.",
  );
  registerAdminConfig(admin, rt);
  registerAdminRepo(admin, rt);
  registerAdminService(admin, rt);
  registerAdminSystem(admin, rt);
  registerAdminSnapshot(admin, rt);
  registerAdminHooks(admin, rt);
  registerAdminNotify(admin, rt);
}
