/**
 * The one effect notifications need: deliver what core/notify/route.ts built. The real sender
 * (adapters/notify/) posts over HTTP(S), speaks SMTP, or runs a program.
 */
import type { Delivery } from "./route.ts";

export interface NotifySender {
  /**
   * Delivers once. Resolves when the receiver accepted it: an HTTP 2xx answer (redirects are not
   * followed), SMTP 250 after the message, exit status 0. Rejects otherwise, or when `timeoutMs`
   * passed, with an Error whose message says what happened; it may quote the URL, which callers
   * redact before showing it.
   */
  send(delivery: Delivery, opts: { timeoutMs: number; helo: string }): Promise<void>;
}
