/**
 * The status endpoint over real HTTP on 127.0.0.1, served by the daemon as a real process: /health
 * flips to 503 when a unit's backup fails or goes stale, /metrics parses as Prometheus text,
 * non-loopback addresses need --allow-remote-status and a token. Runs are recorded through the
 * results store exactly as the backup command records them (timer-started runs included).
 */
import assert from "node:assert/strict";
import { isolatedEnv, stowage } from "./support/cli.ts";
import { sh } from "./support/docker.ts";
import { parsePrometheusText, promValue } from "./support/prometheus.ts";
import { spawnService, waitFor } from "./support/service.ts";
import { recordRun } from "../adapters/results_store.ts";
import { runReport } from "../core/service/test_helpers.ts";

async function startDaemon(config: string, extraArgs: string[] = []) {
  const e = await isolatedEnv(config);
  const d = spawnService(["admin", "service", "daemon", ...extraArgs], {
    env: e.env,
    extraNet: [],
  });
  await waitFor(
    "the status endpoint",
    () => /status endpoint on (http:\/\/\S+?) /.test(d.stderr()) || d.stderr().includes("stowage:"),
    30_000,
  );
  const m = /status endpoint on (http:\/\/\S+?) /.exec(d.stderr());
  if (!m) {
    await d.stop();
    throw new Error(`daemon did not serve: ${d.stderr()}`);
  }
  return { e, d, url: m[1], results: `${e.stateDir}/results.json` };
}

const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();

Deno.test("health follows recorded runs: none, ok, failed, stale; metrics and status show them", async () => {
  const { e, d, url, results } = await startDaemon(
    "status:\n  listen: 127.0.0.1:0\n  freshness_hours: 2\n",
  );
  try {
    let res = await fetch(`${url}/health`);
    assert.equal(res.status, 503);
    assert.equal((await res.json()).reason, "no backup has been recorded yet");

    await recordRun(results, runReport(iso(60_000), [["wordpress", "ok"], ["nextcloud", "ok"]]));
    res = await fetch(`${url}/health`);
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await res.json()).healthy, true);

    // curl, as the README shows it
    const curl = await sh("curl", ["-fsS", `${url}/metrics`]);
    const metrics = parsePrometheusText(curl.stdout);
    assert.equal(promValue(metrics, "stowage_healthy"), 1);
    assert.ok(
      promValue(metrics, "stowage_unit_last_success_timestamp_seconds", { unit: "wordpress" })! >
        Date.now() / 1000 - 3600,
    );
    assert.equal(promValue(metrics, "stowage_unit_last_snapshots", { unit: "nextcloud" }), 2);
    assert.equal(promValue(metrics, "stowage_backup_running"), 0);

    await recordRun(
      results,
      runReport(iso(30_000), [["wordpress", "failed"], ["nextcloud", "ok"]]),
    );
    res = await fetch(`${url}/health`);
    assert.equal(res.status, 503);
    assert.match(
      (await res.json()).reason,
      /last backup of 'wordpress' failed .*: wordpress exploded/,
    );
    const m2 = parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
    assert.equal(promValue(m2, "stowage_unit_failures_total", { unit: "wordpress" }), 1);
    assert.equal(promValue(m2, "stowage_unit_last_run_success", { unit: "wordpress" }), 0);

    const status = await (await fetch(`${url}/status`)).json();
    assert.equal(status.mode, "timer");
    assert.equal(status.inProgress, null);
    assert.equal(status.lastRun.outcome, "failed (wordpress)");
    const wp = status.units.find((u: { unit: string }) => u.unit === "wordpress");
    assert.equal(wp.last.outcome, "failed");
    assert.equal(wp.last.error, "wordpress exploded");
    const nc = status.units.find((u: { unit: string }) => u.unit === "nextcloud");
    assert.deepEqual(nc.last.snapshotIds, ["nextcloud-snap-1", "nextcloud-snap-2"]);
    assert.equal(nc.last.downtimeMs, 3000);

    // Both succeed again, but three hours ago: stale with a 2 h window.
    await Deno.remove(results);
    await recordRun(
      results,
      runReport(iso(3 * 3600_000), [["wordpress", "ok"], ["nextcloud", "ok"]]),
    );
    res = await fetch(`${url}/health`);
    assert.equal(res.status, 503);
    assert.match(
      (await res.json()).reason,
      /last good backup of '\w+' is 3\.0 h old .* older than 2 h/,
    );

    assert.equal((await fetch(`${url}/nope`)).status, 404);
  } finally {
    const code = await d.stop();
    assert.equal(code, 0, d.stderr());
    await Deno.remove(e.dir, { recursive: true });
  }
});

Deno.test("admin service status reads the same results and --check says unhealthy", async () => {
  const e = await isolatedEnv("status:\n  freshness_hours: 2\n");
  try {
    let r = await stowage(["admin", "service", "status"], { env: e.env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /No backup has been recorded yet/);
    await recordRun(
      `${e.stateDir}/results.json`,
      runReport(iso(60_000), [["wordpress", "failed"]]),
    );
    r = await stowage(["admin", "service", "status", "--check"], { env: e.env });
    assert.equal(r.code, 19, r.stderr);
    assert.match(r.stdout, /wordpress\s+FAILED/);
    assert.match(r.stdout, /Health: FAILING: last backup of 'wordpress' failed/);
    r = await stowage(["admin", "service", "status", "--json"], { env: e.env });
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.health.healthy, false);
    assert.equal(doc.units[0].failuresTotal, 1);
    r = await stowage(["admin", "service", "forget-unit", "wordpress"], { env: e.env });
    assert.equal(r.code, 0, r.stderr);
    r = await stowage(["admin", "service", "forget-unit", "wordpress"], { env: e.env });
    assert.equal(r.code, 6);
    assert.match(r.stderr, /Cannot forget unit 'wordpress': it has no recorded results/);
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
});

Deno.test("a non-loopback status address is refused without the flag, and without a token", async () => {
  const e = await isolatedEnv("");
  try {
    let r = await stowage(["admin", "service", "daemon", "--status-listen", "0.0.0.0:0"], {
      env: e.env,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /Refusing to serve status on '0\.0\.0\.0:0': it is not a loopback address/,
    );
    assert.match(r.stderr, /^hint: .*--allow-remote-status/m);
    r = await stowage([
      "admin",
      "service",
      "daemon",
      "--status-listen",
      "0.0.0.0:0",
      "--allow-remote-status",
    ], { env: e.env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Refusing to serve status on '0\.0\.0\.0:0' without a bearer token/);
    r = await stowage(["admin", "service", "daemon", "--status-listen", "nonsense"], {
      env: e.env,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /expected HOST:PORT/);
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
});

Deno.test("with --allow-remote-status and a token file, every route needs the bearer token", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-token-" });
  const token = crypto.randomUUID().replaceAll("-", "");
  await Deno.writeTextFile(`${dir}/token`, token + "\n", { mode: 0o600 });
  const { e, d, url } = await startDaemon(
    `status:\n  listen: 0.0.0.0:0\n  token_file: ${dir}/token\n`,
    ["--allow-remote-status"],
  );
  try {
    const local = url.replace("0.0.0.0", "127.0.0.1");
    for (const route of ["/health", "/status", "/metrics"]) {
      const res = await fetch(`${local}${route}`);
      await res.body?.cancel();
      assert.equal(res.status, 401, route);
    }
    const ok = await fetch(`${local}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    parsePrometheusText(await ok.text());
    assert.doesNotMatch(d.stderr(), new RegExp(token), "the token is never logged");
  } finally {
    assert.equal(await d.stop(), 0, d.stderr());
    await Deno.remove(e.dir, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});
