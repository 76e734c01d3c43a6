/**
 * The real NotifySender (core/notify/ports.ts): HTTP(S) with fetch, mail with ./smtp.ts, programs
 * through adapters/hooks/process.ts's process-group runner (only `sh` needs run permission, and a
 * timeout kills the program and its children).
 */
import type { NotifySender } from "../../core/notify/ports.ts";
import type { CommandDelivery, HttpDelivery } from "../../core/notify/route.ts";
import { runInGroup } from "../hooks/process.ts";
import { redactText } from "../../core/secrets.ts";
import { sendMail } from "./smtp.ts";

export const notifySender: NotifySender = {
  send(delivery, opts) {
    switch (delivery.kind) {
      case "http":
        return postHttp(delivery, opts.timeoutMs);
      case "mail":
        return sendMail(delivery, opts);
      case "command":
        return runCommand(delivery, opts.timeoutMs);
    }
  },
};

async function postHttp(d: HttpDelivery, timeoutMs: number): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(d.url, {
      method: "POST",
      headers: d.headers,
      body: d.body,
      // A redirect would carry the summary (and any Authorization header) somewhere else.
      redirect: "manual",
      signal,
    });
  } catch (e) {
    if (signal.aborted) throw new Error(`no answer within ${timeoutMs / 1000} s`);
    throw new Error(e instanceof Error ? e.message : String(e));
  }
  const text = await res.text().catch(() => "");
  if (res.status >= 200 && res.status < 300) return;
  const body = redactText(text.replace(/\s+/g, " ").trim()).slice(0, 200);
  throw new Error(
    `${
      res.status >= 300 && res.status < 400 ? "redirected (not followed)" : "answered"
    } HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}${body ? `: ${body}` : ""}`,
  );
}

async function runCommand(d: CommandDelivery, timeoutMs: number): Promise<void> {
  const r = await runInGroup(d.argv, { stdin: d.stdin, env: d.env, timeoutMs, graceMs: 1000 });
  if (r.timedOut) throw new Error(`did not finish within ${timeoutMs / 1000} s (killed)`);
  if (r.exitCode !== 0 || r.signal) {
    const tail = redactText(r.stderr.trim().split("\n").slice(-3).join(" ")).slice(0, 300);
    throw new Error(
      `exited ${r.signal ? `on ${r.signal}` : r.exitCode}${tail ? `: ${tail}` : ""}`,
    );
  }
}
