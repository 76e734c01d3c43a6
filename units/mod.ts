/**
 * The systemd unit templates, embedded at build time (text imports), so the compiled binary carries
 * them. core/service/units.ts fills them in; `admin service write-units` writes the result.
 */
import service from "./stowage.service.in" with { type: "text" };
import backupService from "./stowage-backup.service.in" with { type: "text" };
import timer from "./stowage.timer.in" with { type: "text" };
import hardening from "./hardening.conf.in" with { type: "text" };
import verifyService from "./stowage-verify.service.in" with { type: "text" };
import verifyTimer from "./stowage-verify.timer.in" with { type: "text" };
import type { UnitTemplates } from "../core/service/units.ts";

export const UNIT_TEMPLATES: UnitTemplates = {
  service,
  backupService,
  timer,
  hardening,
  verifyService,
  verifyTimer,
};
