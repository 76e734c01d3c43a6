/**
 * The judge's decisions over a scripted event stream. A stand-in Engine (labelled as such) gives
 * the containers and replays events, so timeouts and settle times can be short and exact; the
 * real Engine's events are exercised end to end in tests/verify_test.ts.
 */
import assert from "node:assert/strict";
import type { EngineContainer } from "../engine_types.ts";
import type { Clock, EngineEvent } from "../ports.ts";
import { type JudgeEngine, judgeSandbox } from "./judge.ts";

const clock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener("abort", () => {
        clearTimeout(t);
        reject(new Error("aborted"));
      }, { once: true });
    }),
};

function container(id: string, service: string, healthcheck: boolean): EngineContainer {
  return {
    Id: id,
    Name: `/sbx_${service}_1`,
    Image: "sha256:x",
    State: { Status: "running", Running: true },
    Config: {
      Image: "busybox",
      Labels: { "com.docker.compose.service": service },
      Healthcheck: healthcheck ? { Test: ["CMD", "true"] } : null,
    },
    HostConfig: {},
    Mounts: [],
    NetworkSettings: {},
  };
}

/** Stand-in Engine: these containers, and these events (each after `afterMs`), then silence. */
function engine(
  containers: EngineContainer[],
  script: { afterMs: number; id: string; action: string; exitCode?: string }[],
): JudgeEngine {
  return {
    listContainers: () => Promise.resolve(containers),
    events: async function* (_opts, signal) {
      for (const s of script) {
        await clock.sleep(s.afterMs, signal).catch(() => {});
        if (signal.aborted) return;
        const e: EngineEvent = {
          Type: "container",
          Action: s.action,
          Actor: { ID: s.id, Attributes: s.exitCode ? { exitCode: s.exitCode } : {} },
          timeNano: Date.now() * 1e6,
        };
        yield e;
      }
      await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
    },
  };
}

const judge = (e: JudgeEngine, o: { timeout?: number; settle?: number } = {}) => {
  const now = new Date();
  return judgeSandbox({ engine: e, clock }, "stowage.sandbox=abc", {
    since: now,
    startedAt: now,
    healthTimeoutSeconds: o.timeout ?? 2,
    settleSeconds: o.settle ?? 0.2,
  });
};

Deno.test("judge: healthy once the healthcheck says so, ready at that moment, then settled", async () => {
  const t0 = Date.now();
  const j = await judge(engine([container("a", "app", true), container("d", "db", false)], [
    { afterMs: 100, id: "a", action: "health_status: healthy" },
  ]));
  assert.equal(j.ok, true);
  assert.deepEqual(j.services.map((s) => [s.service, s.status]), [
    ["app", "healthy"],
    ["db", "running"],
  ]);
  assert.ok(j.readyAt!.getTime() >= t0 + 90, "ready when the healthy event came");
});

Deno.test("judge: an unhealthy report fails at once, naming the service", async () => {
  const t0 = Date.now();
  const j = await judge(
    engine([container("a", "app", true)], [
      { afterMs: 50, id: "a", action: "health_status: unhealthy" },
    ]),
    { timeout: 30 },
  );
  assert.equal(j.ok, false);
  assert.deepEqual(j.services.map((s) => [s.service, s.status]), [["app", "unhealthy"]]);
  assert.ok(Date.now() - t0 < 5000, "did not wait for the health timeout");
});

Deno.test("judge: a container that dies while settling fails with its exit code", async () => {
  const j = await judge(
    engine([container("a", "app", true), container("w", "worker", false)], [
      { afterMs: 20, id: "a", action: "health_status: healthy" },
      { afterMs: 50, id: "w", action: "die", exitCode: "3" },
    ]),
    { settle: 1 },
  );
  assert.equal(j.ok, false);
  const worker = j.services.find((s) => s.service === "worker")!;
  assert.equal(worker.status, "exited");
  assert.match(worker.detail!, /exit code 3/);
});

Deno.test("judge: no healthy report within the timeout is a failure of that service", async () => {
  const j = await judge(engine([container("a", "app", true)], []), { timeout: 0.3 });
  assert.equal(j.ok, false);
  assert.equal(j.services[0].status, "timeout");
  assert.equal(j.readyAt, undefined);
});

Deno.test("judge: without healthchecks, ready at the start and ok after the settle time", async () => {
  const now = new Date();
  const j = await judgeSandbox(
    { engine: engine([container("w", "web", false)], []), clock },
    "stowage.sandbox=abc",
    { since: now, startedAt: now, healthTimeoutSeconds: 5, settleSeconds: 0.2 },
  );
  assert.equal(j.ok, true);
  assert.equal(j.readyAt?.getTime(), now.getTime());
});

Deno.test("judge: events of other containers do not count", async () => {
  const j = await judge(
    engine([container("a", "app", true)], [
      { afterMs: 10, id: "zzz", action: "health_status: healthy" },
    ]),
    { timeout: 0.3 },
  );
  assert.equal(j.ok, false);
  assert.equal(j.services[0].status, "timeout");
});
