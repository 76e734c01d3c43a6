/**
 * Sends a run's notifications: every target that listens for the event, in parallel, each with
 * its own timeout and a few retries. A failing target never fails the run: it is logged (by name,
 * with its address redacted), and its result is returned for the run report, which the results
 * store counts (`stowage_notify_failures_total`) and doctor shows.
 */
import type { NotifyTarget } from "../core/config/schema.ts";
import type { LoadedConfig } from "../core/config/loaded.ts";
import { errorMessage, StowageError } from "../core/errors.ts";
import { closestN, shownName } from "../core/text.ts";
import type { EventSink } from "../core/ports.ts";
import {
  buildDelivery,
  describeTarget,
  kindOf,
  type NotifyEvent,
  type NotifySummary,
  parseCredentials,
  parseHeaders,
  type ResolvedFiles,
  startSummary,
  targetsFor,
} from "../core/notify/mod.ts";
import type { NotifyResult } from "../core/report.ts";
import { scrubUrl } from "../core/secrets.ts";
import type { Services } from "./services.ts";

export type NotifyServices = Pick<Services, "clock" | "notifySender" | "secretFile" | "hostname">;

export interface NotifyRequest {
  sink: EventSink;
  /** `admin notify test --target`: only this target. */
  only?: string;
  /** Once set (SIGTERM), no retries: each target gets one attempt. */
  signal?: AbortSignal;
}

/** First retry after 1 s, then 2 s, 4 s... */
const BACKOFF_MS = 1000;

export async function sendNotifications(
  svc: NotifyServices,
  targets: readonly NotifyTarget[],
  summary: NotifySummary,
  req: NotifyRequest,
): Promise<NotifyResult[]> {
  const chosen = targetsFor(targets, summary, req.only);
  return await Promise.all(chosen.map((t) => notifyOne(svc, t, summary, req)));
}

async function notifyOne(
  svc: NotifyServices,
  target: NotifyTarget,
  summary: NotifySummary,
  req: NotifyRequest,
): Promise<NotifyResult> {
  const kind = kindOf(target);
  const url = kind === "webhook" || kind === "ntfy" || kind === "healthchecks"
    ? target[kind]!
    : undefined;
  const safe = (m: string) => url ? scrubUrl(m, url) : scrubUrl(m, "");
  const result = (ok: boolean, attempts: number, error?: string): NotifyResult => ({
    target: target.name,
    kind,
    event: summary.event,
    ok,
    attempts,
    at: svc.clock.now().toISOString(),
    ...(error !== undefined ? { error } : {}),
  });
  let files: ResolvedFiles;
  try {
    files = await resolveFiles(svc, target);
  } catch (e) {
    const error = safe(errorMessage(e));
    logFailure(req.sink, target, summary.event, 0, error);
    return result(false, 0, error);
  }
  const delivery = buildDelivery(target, summary, files);
  let error = "";
  let attempts = 0;
  for (let attempt = 0; attempt <= target.retries; attempt++) {
    attempts++;
    try {
      await svc.notifySender.send(delivery, {
        timeoutMs: target.timeout * 1000,
        helo: svc.hostname,
      });
      req.sink.emit({
        type: "log",
        level: "info",
        message: `notified ${describeTarget(target)} of ${summary.event}${
          attempts > 1 ? ` (attempt ${attempts})` : ""
        }`,
      });
      return result(true, attempts);
    } catch (e) {
      error = safe(errorMessage(e));
    }
    if (req.signal?.aborted || attempt === target.retries) break;
    await svc.clock.sleep(BACKOFF_MS * 2 ** attempt);
  }
  logFailure(req.sink, target, summary.event, attempts, error);
  return result(false, attempts, error);
}

function logFailure(
  sink: EventSink,
  target: NotifyTarget,
  event: NotifyEvent,
  attempts: number,
  error: string,
) {
  sink.emit({
    type: "log",
    level: "warning",
    message: `could not notify ${describeTarget(target)} of ${event}${
      attempts > 0 ? ` (${attempts} attempt${attempts === 1 ? "" : "s"})` : ""
    }: ${error}`,
  });
}

/** headers_file and credentials_file: read, refused when others may read them, parsed. */
async function resolveFiles(svc: NotifyServices, target: NotifyTarget): Promise<ResolvedFiles> {
  const read = async (path: string, what: string) => {
    const f = await svc.secretFile(path, what);
    const mode = (await f.mode()) ?? 0;
    if (mode & 0o077) {
      throw new Error(
        `the ${what} '${path}' has mode ${
          (mode & 0o777).toString(8).padStart(4, "0")
        }: others may read it (chmod 600 ${path})`,
      );
    }
    return f.text;
  };
  const out: ResolvedFiles = {};
  if (target.headers_file) {
    const text = await read(target.headers_file, "notify headers file");
    try {
      out.headers = parseHeaders(text);
    } catch (e) {
      throw new Error(`the notify headers file '${target.headers_file}': ${errorMessage(e)}`);
    }
  }
  if (target.email?.credentials_file) {
    const path = target.email.credentials_file;
    const text = await read(path, "SMTP credentials file");
    try {
      out.credentials = parseCredentials(text);
    } catch (e) {
      throw new Error(`the SMTP credentials file '${path}': ${errorMessage(e)}`);
    }
  }
  return out;
}

/**
 * `admin notify test`: a test message to every target (or the one named), whatever its `on`;
 * healthchecks get `/log`, which records without changing the check's state. Never retried
 * silently: the result of each target, with its attempts, is the answer.
 */
export async function testNotifications(
  svc: NotifyServices,
  loaded: LoadedConfig,
  req: { only?: string; sink: EventSink },
): Promise<NotifyResult[]> {
  const targets = loaded.config.notify;
  if (targets.length === 0) {
    throw new StowageError(
      "usage",
      `No notification targets in ${loaded.path ?? "the embedded default config"}`,
      "Add a `notify:` list to the config (docs/notify.md), e.g. - { name: ops, webhook: https://... }",
    );
  }
  if (req.only !== undefined && !targets.some((t) => t.name === req.only)) {
    const near = closestN(req.only, targets.map((t) => t.name), 3);
    throw new StowageError(
      "usage",
      `Unknown notification target '${shownName(req.only)}'${
        near.length ? `; did you mean ${near.map((n) => `'${n}'`).join(", ")}?` : ""
      }`,
      `Targets in the config: ${targets.map((t) => t.name).join(", ")}`,
    );
  }
  const summary = startSummary({
    operation: "test",
    host: svc.hostname,
    at: svc.clock.now(),
    event: "test",
  });
  return await sendNotifications(svc, targets, summary, { sink: req.sink, only: req.only });
}
