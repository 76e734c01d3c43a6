/**
 * Which targets hear of which event, and what each kind sends: a pure description of the HTTP
 * request, the mail or the program run (a `Delivery`), which app/notify.ts hands to the
 * `NotifySender` port. Nothing here performs I/O.
 */
import {
  NOTIFY_KINDS,
  type NotifyEventName,
  type NotifyKind,
  type NotifyTarget,
} from "../config/schema.ts";
import { redactArgv, redactUrl } from "../secrets.ts";
import { type NotifyEvent, type NotifySummary, summaryText, summaryTitle } from "./summary.ts";

export function kindOf(target: NotifyTarget): NotifyKind {
  const kind = NOTIFY_KINDS.find((k) => target[k] !== undefined);
  // The schema admits exactly one kind per target.
  if (!kind) throw new Error(`notify target '${target.name}' has no kind`);
  return kind;
}

/** The events a target hears of: its `on`, or failure and warning (healthchecks: all, a heartbeat). */
export function eventsOf(target: NotifyTarget): NotifyEventName[] {
  if (target.on) return target.on;
  return kindOf(target) === "healthchecks"
    ? ["start", "success", "warning", "failure"]
    : ["failure", "warning"];
}

/**
 * The targets told about an event; a test goes to every target (or the one named). A healthchecks
 * target is the heartbeat of backups: a restore's start or success must not count as one, so it
 * hears only of backups.
 */
export function targetsFor(
  targets: readonly NotifyTarget[],
  summary: Pick<NotifySummary, "event" | "operation">,
  only?: string,
): NotifyTarget[] {
  const { event, operation } = summary;
  if (event === "test") return targets.filter((t) => only === undefined || t.name === only);
  return targets.filter((t) =>
    eventsOf(t).includes(event) && (operation === "backup" || kindOf(t) !== "healthchecks")
  );
}

/** How a target may be named in logs and errors: its name, kind and a redacted address. */
export function describeTarget(target: NotifyTarget): string {
  const kind = kindOf(target);
  const where = kind === "email"
    ? `via ${target.email!.server}`
    : kind === "command"
    ? redactArgv(commandArgv(target.command!)).join(" ").slice(0, 80)
    : redactUrl(target[kind] as string);
  return `'${target.name}' (${kind} ${where})`;
}

export interface HttpDelivery {
  kind: "http";
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface MailDelivery {
  kind: "mail";
  host: string;
  port: number;
  security: "starttls" | "tls" | "none";
  from: string;
  to: string[];
  subject: string;
  text: string;
  caFile?: string;
  credentials?: { user: string; password: string };
}

export interface CommandDelivery {
  kind: "command";
  argv: string[];
  stdin: string;
  env: Record<string, string>;
}

export type Delivery = HttpDelivery | MailDelivery | CommandDelivery;

/** A command as written: a string runs through `sh -c`, a list runs directly. */
export function commandArgv(command: string | string[]): string[] {
  return typeof command === "string" ? ["sh", "-c", command] : command;
}

const NTFY_PRIORITY: Record<NotifyEvent, string> = {
  failure: "5",
  warning: "4",
  success: "3",
  start: "2",
  test: "3",
};
const NTFY_TAGS: Record<NotifyEvent, string> = {
  failure: "rotating_light,backup",
  warning: "warning,backup",
  success: "white_check_mark,backup",
  start: "hourglass_flowing_sand,backup",
  test: "test_tube,backup",
};

/** A header value must be one line of visible latin-1 text. */
const headerSafe = (s: string) => s.replace(/[^\x20-\x7e]/g, "?").slice(0, 250);

/**
 * The healthchecks ping URL for an event: `/start`, the base itself (success, warning), `/fail`,
 * and `/log` for a test (recorded without changing the check's state). The query stays.
 */
export function pingUrl(base: string, event: NotifyEvent): string {
  const suffix = event === "start"
    ? "/start"
    : event === "failure"
    ? "/fail"
    : event === "test"
    ? "/log"
    : "";
  if (suffix === "") return base;
  const u = new URL(base);
  u.pathname = u.pathname.replace(/\/+$/, "") + suffix;
  return u.href;
}

export interface ResolvedFiles {
  /** headers_file's headers. */
  headers?: Record<string, string>;
  /** email.credentials_file's user and password. */
  credentials?: { user: string; password: string };
}

/** What a target sends for a summary. */
export function buildDelivery(
  target: NotifyTarget,
  summary: NotifySummary,
  files: ResolvedFiles = {},
): Delivery {
  const kind = kindOf(target);
  const extra = files.headers ?? {};
  switch (kind) {
    case "webhook":
      return {
        kind: "http",
        url: target.webhook!,
        headers: {
          ...extra,
          "content-type": "application/json",
          "user-agent": `stowage/${summary.stowage_version}`,
        },
        body: JSON.stringify(summary),
      };
    case "ntfy":
      return {
        kind: "http",
        url: target.ntfy!,
        headers: {
          ...extra,
          "content-type": "text/plain; charset=utf-8",
          title: headerSafe(summaryTitle(summary)),
          priority: NTFY_PRIORITY[summary.event],
          tags: NTFY_TAGS[summary.event],
        },
        body: summaryText(summary),
      };
    case "healthchecks":
      return {
        kind: "http",
        url: pingUrl(target.healthchecks!, summary.event),
        headers: { "content-type": "text/plain; charset=utf-8" },
        body: summaryText(summary) + "\n" + JSON.stringify(summary) + "\n",
      };
    case "email": {
      const e = target.email!;
      const colon = e.server.lastIndexOf(":");
      const host = e.server.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
      return {
        kind: "mail",
        host,
        port: Number(e.server.slice(colon + 1)),
        security: e.security,
        from: e.from,
        to: e.to,
        subject: summaryTitle(summary),
        text: summaryText(summary) + "\n-- \nThe summary as JSON:\n" +
          JSON.stringify(summary, null, 2) + "\n",
        ...(e.ca_file ? { caFile: e.ca_file } : {}),
        ...(files.credentials ? { credentials: files.credentials } : {}),
      };
    }
    case "command":
      return {
        kind: "command",
        argv: commandArgv(target.command!),
        stdin: JSON.stringify(summary) + "\n",
        env: { STOWAGE_EVENT: summary.event, STOWAGE_OPERATION: summary.operation },
      };
  }
}

/**
 * `Name: value` lines of a headers file (blank lines and `#` comments skipped). Throws a plain
 * Error naming the line (never its value) when one is not a header.
 */
export function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    // deno-lint-ignore no-control-regex
    if (!m || /[\x00-\x08\x0a-\x1f\x7f]/.test(m[2])) {
      throw new Error(`line ${i + 1} is not a 'Name: value' header`);
    }
    out[m[1].toLowerCase()] = m[2];
  });
  return out;
}

/** `USER:PASSWORD` on the first line of a credentials file. */
export function parseCredentials(text: string): { user: string; password: string } {
  const line = text.split(/\r?\n/)[0] ?? "";
  const colon = line.indexOf(":");
  if (colon <= 0 || colon === line.length - 1) {
    throw new Error("its first line is not USER:PASSWORD");
  }
  return { user: line.slice(0, colon), password: line.slice(colon + 1) };
}
