/**
 * The status endpoint: a Hono app (GET /health, /status, /metrics) served with Deno.serve. The
 * answers are built by pure functions in core/service/; this file only routes, checks the bearer
 * token and listens. Routes are testable in-process with `app.request()`.
 */
import { Hono } from "hono";
import { getLogger } from "@logtape/logtape";
import { StowageError } from "../core/errors.ts";
import type { HealthVerdict } from "../core/service/health.ts";
import { hostForUrl, type ListenAddress } from "../core/service/listen.ts";
import { METRICS_CONTENT_TYPE } from "../core/service/metrics.ts";
import { ioError } from "./files.ts";
import { redactText } from "../core/secrets.ts";

const log = getLogger(["stowage", "status"]);

export interface StatusSource {
  health(): Promise<HealthVerdict>;
  status(): Promise<unknown>;
  metrics(): Promise<string>;
}

function sameToken(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0;
}

export function createStatusApp(source: StatusSource, opts: { token?: string } = {}): Hono {
  const app = new Hono();
  if (opts.token) {
    const token = opts.token;
    app.use("*", async (c, next) => {
      const auth = c.req.header("authorization") ?? "";
      const m = /^Bearer\s+(.+)$/i.exec(auth);
      if (!m || !sameToken(m[1].trim(), token)) {
        c.header("WWW-Authenticate", 'Bearer realm="stowage"');
        return c.json({
          error: "unauthorized",
          hint: "send Authorization: Bearer <token from status.token_file>",
        }, 401);
      }
      await next();
    });
  }
  app.get("/health", async (c) => {
    const h = await source.health();
    return c.json(h, h.healthy ? 200 : 503);
  });
  app.get("/status", async (c) => c.json(await source.status()));
  app.get("/metrics", async (c) => {
    const body = await source.metrics();
    return c.body(body, 200, { "content-type": METRICS_CONTENT_TYPE });
  });
  app.notFound((c) =>
    c.json({ error: "not found", routes: ["/health", "/status", "/metrics"] }, 404)
  );
  // A failure's message may name paths, hosts or worse: the client gets a generic body, the
  // detail goes to the log (where the daemon's operator reads it), credentials hidden.
  app.onError((e, c) => {
    log.error("Status endpoint {path} failed: {detail}", {
      path: c.req.path,
      detail: redactText(e instanceof Error ? e.message : String(e)),
    });
    return c.json({
      error: "internal error",
      hint: "the stowage service log has the details",
    }, 500);
  });
  return app;
}

export interface RunningServer {
  hostname: string;
  port: number;
  url: string;
  shutdown(): Promise<void>;
}

export function serveStatus(app: Hono, addr: ListenAddress): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        hostname: addr.hostname,
        port: addr.port,
        onListen: (local) => {
          const url = `http://${hostForUrl(local.hostname)}:${local.port}`;
          resolve({
            hostname: local.hostname,
            port: local.port,
            url,
            shutdown: () => server.shutdown(),
          });
        },
      }, app.fetch);
    } catch (e) {
      const where = `${hostForUrl(addr.hostname)}:${addr.port}`;
      if (e instanceof Deno.errors.AddrInUse) {
        reject(
          new StowageError(
            "usage",
            `Cannot serve status on ${where}: the address is in use`,
            "Pick another port with --status-listen or status.listen.",
          ),
        );
      } else if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        reject(
          new StowageError(
            "usage",
            `Cannot serve status on ${where}: the permission set does not allow that address`,
            "The stowage permission set allows loopback, 0.0.0.0 and [::]; to listen on one interface's address, add it to deno.json permissions.stowage.net.",
          ),
        );
      } else {
        reject(
          new StowageError(
            "io",
            `Cannot serve status on ${where}: ${e instanceof Error ? e.message : e}`,
            "Check the address belongs to this host.",
          ),
        );
      }
    }
  });
}

/** Reads the bearer token: a private file (no group/other access) with one non-empty line. */
export async function readTokenFile(path: string): Promise<string> {
  let info: Deno.FileInfo;
  let text: string;
  try {
    info = await Deno.stat(path);
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw ioError(`read status token file '${path}'`, e);
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new StowageError(
      "usage",
      `Refusing status token file '${path}': mode ${
        (info.mode & 0o777).toString(8)
      } lets other users read it`,
      `Run: chmod 600 '${path}'`,
    );
  }
  const token = text.trim();
  if (token.length < 16 || /\s/.test(token)) {
    throw new StowageError(
      "usage",
      `Refusing status token file '${path}': expected one token of 16 or more characters without spaces`,
      "Write a long random token into it, e.g. `openssl rand -hex 32 > FILE`.",
    );
  }
  return token;
}
