import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
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

Deno.test("a failing route answers a generic 500 and logs the detail, credentials hidden", async () => {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { mem: (r) => records.push(r) },
    loggers: [
      { category: ["stowage"], lowestLevel: "debug", sinks: ["mem"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
  try {
    const failing: StatusSource = {
      health: () =>
        Promise.reject(
          new Error("cannot read /var/lib/stowage/results.json via rest:https://u:Pw-S3cret@nas/"),
        ),
      status: () => Promise.reject(new Error("boom")),
      metrics: () => Promise.reject(new Error("boom")),
    };
    const app = createStatusApp(failing);
    const res = await app.request("/health");
    assert.equal(res.status, 500);
    const body = await res.text();
    assert.deepEqual(JSON.parse(body), {
      error: "internal error",
      hint: "the stowage service log has the details",
    });
    assert.ok(!body.includes("results.json") && !body.includes("S3cret"), body);
    const logged = records.map((r) => JSON.stringify(r.properties)).join("\n");
    assert.match(logged, /results\.json/);
    assert.match(logged, /"path":"\/health"/);
    assert.ok(!logged.includes("Pw-S3cret"), logged);
  } finally {
    await reset();
  }
});
