/** Doctor's view of the notification targets: the last delivery of each, from the results store. */
import type { NotifyTarget } from "../config/schema.ts";
import type { Check } from "../doctor.ts";
import type { NotifyRecord } from "../service/results.ts";

export function notifyCheck(
  targets: readonly NotifyTarget[],
  records: Record<string, NotifyRecord> | undefined,
): Check | undefined {
  if (targets.length === 0) return undefined;
  const failing = targets.flatMap((t) => {
    const r = records?.[t.name];
    return r && !r.last.ok ? [{ t, r }] : [];
  });
  if (failing.length === 0) {
    const never = targets.filter((t) => !records?.[t.name]).map((t) => t.name);
    return {
      name: "notifications",
      status: "ok",
      detail: `${targets.length} target(s); the last message to each was accepted` +
        (never.length ? ` (none sent yet to ${never.join(", ")})` : ""),
    };
  }
  return {
    name: "notifications",
    status: "warn",
    detail: failing.map(({ t, r }) =>
      `'${t.name}': the last message (${r.last.event}, ${r.last.at}) failed: ${
        r.last.error ?? "unknown error"
      } (${r.failuresTotal} failure(s) in total)`
    ).join("; "),
    hint: `Check the target, then \`stowage admin notify test --target ${failing[0].t.name}\`.`,
  };
}
