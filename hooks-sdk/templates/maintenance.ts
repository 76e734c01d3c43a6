/**
 * Maintenance mode around a backup, for a Nextcloud-like stack: the `app` service gets a flag
 * file before its containers stop, so the saved data says "in maintenance", and loses it once the
 * containers run again, whatever the backup's outcome.
 *
 * For a real Nextcloud, replace the two commands with
 *   ["php", "occ", "maintenance:mode", "--on"]  /  ["php", "occ", "maintenance:mode", "--off"]
 * and pass { user: "www-data" }.
 *
 * Config:
 *   units:
 *     nextcloud:
 *       hooks:
 *         pre_backup:  [{ module: /etc/stowage/hooks/maintenance.ts }]
 *         post_backup: [{ module: /etc/stowage/hooks/maintenance.ts }]
 */
import type { Hook, HookContext } from "@stowage/hooks-sdk";

const SERVICE = "app";
const FLAG = "/data/maintenance";

function appRunning(ctx: HookContext): boolean {
  return ctx.containers.some((c) => c.service === SERVICE && c.state === "running");
}

export default {
  sdk: 1,
  name: "maintenance-mode",

  async preBackup(ctx) {
    if (!appRunning(ctx)) {
      ctx.log.info(`service '${SERVICE}' is not running; nothing to put into maintenance mode`);
      return;
    }
    await ctx.exec(SERVICE, ["touch", FLAG], { check: true });
    ctx.log.info(`maintenance mode on (${FLAG})`);
  },

  async postBackup(ctx) {
    if (!appRunning(ctx)) return;
    await ctx.exec(SERVICE, ["rm", "-f", FLAG], { check: true });
    ctx.log.info(`maintenance mode off; backup ${ctx.outcome.backupId} ${ctx.outcome.status}`);
  },
} satisfies Hook;
