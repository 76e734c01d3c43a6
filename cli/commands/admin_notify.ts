/**
 * `admin notify test [--target NAME]`: sends a test message to each notification target and
 * reports each result (exit 25, notify.failed, when one failed).
 */
import type { AdminCommand } from "./admin.ts";
import type { Runtime } from "../runtime.ts";
import { globals, setExitCode } from "../mod.ts";
import { printJson } from "../output.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { testNotifications } from "../../app/notify.ts";
import { nullSink } from "../../core/events.ts";

export function registerAdminNotify(admin: AdminCommand, rt: Runtime) {
  const notify = admin.command("notify").description("Notification targets (docs/notify.md).");
  notify
    .command("test")
    .description(
      "Send a test message to every notification target (or one) and report each result.",
    )
    .option("--target <name>", "only this target")
    .option("--json", "print one JSON document")
    .action(async (opts, cmd) => {
      const loaded = await rt.loadConfig(globals(cmd));
      const results = await testNotifications(rt.app, loaded, {
        only: opts.target,
        sink: nullSink,
      });
      const ok = results.every((r) => r.ok);
      if (!ok) setExitCode(EXIT_CODES["notify.failed"]);
      if (opts.json) return printJson(rt, { ok, targets: results });
      for (const r of results) {
        rt.write(
          `${r.ok ? "ok  " : "FAIL"}  ${r.target} (${r.kind}): ${r.ok ? "delivered" : r.error}${
            r.attempts > 1 ? ` [${r.attempts} attempts]` : ""
          }\n`,
        );
      }
      rt.write(
        ok
          ? `\nEvery target (${results.length}) accepted the test message.\n`
          : `\n${results.filter((r) => !r.ok).length} of ${results.length} targets failed.\n`,
      );
    });
}
