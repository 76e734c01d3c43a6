import assert from "node:assert/strict";
import { createStatusApp, readTokenFile, type StatusSource } from "./status_server.ts";
import type { HealthVerdict } from "../core/service/health.ts";

function source(healthy: boolean): StatusSource {
  const verdict: HealthVerdict = {
    healthy,
    reason: healthy ? "ok" : "last backup of 'wp' failed",
    checkedAt: "x",
    freshnessHours: 26,
    units: [],
  };
  return {
    health: () => Promise.resolve(verdict),
    status: () => Promise.resolve({ version: "1" }),
    metrics: () => Promise.resolve("stowage_healthy 1\n"),
  };
}

Deno.test("routes in-process: /health 200/503 with the reason, /status JSON, /metrics text", async () => {
  const ok = createStatusApp(source(true));
  assert.equal((await ok.request("/health")).status, 200);
  const bad = createStatusApp(source(false));
  const res = await bad.request("/health");
  assert.equal(res.status, 503);
  assert.equal((await res.json()).reason, "last backup of 'wp' failed");
  const status = await ok.request("/status");
  assert.equal(status.headers.get("content-type")?.startsWith("application/json"), true);
  assert.deepEqual(await status.json(), { version: "1" });
  const metrics = await ok.request("/metrics");
  assert.equal(metrics.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  assert.equal(await metrics.text(), "stowage_healthy 1\n");
  assert.equal((await ok.request("/nope")).status, 404);
});

Deno.test("with a token every route needs the bearer token", async () => {
  const app = createStatusApp(source(true), { token: "s3cr3t-token-0123456789" });
  const none = await app.request("/metrics");
  assert.equal(none.status, 401);
  assert.match(none.headers.get("www-authenticate") ?? "", /Bearer/);
  assert.equal(
    (await app.request("/health", { headers: { authorization: "Bearer wrong" } })).status,
    401,
  );
  assert.equal(
    (await app.request("/health", { headers: { authorization: "Bearer s3cr3t-token-0123456789" } }))
      .status,
    200,
  );
});

Deno.test("token files must be private and hold a real token", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/token`;
    await Deno.writeTextFile(f, "0123456789abcdef0123\n", { mode: 0o600 });
    await Deno.chmod(f, 0o600);
    assert.equal(await readTokenFile(f), "0123456789abcdef0123");
    await Deno.chmod(f, 0o644);
    await assert.rejects(() => readTokenFile(f), /mode 644 lets other users read it/);
    await Deno.chmod(f, 0o600);
    await Deno.writeTextFile(f, "short");
    await assert.rejects(() => readTokenFile(f), /16 or more characters/);
    await assert.rejects(() => readTokenFile(`${dir}/missing`), /Cannot read status token file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
