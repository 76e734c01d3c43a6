import assert from "node:assert/strict";
import { systemClock } from "../../adapters/clock.ts";
import { StowageError } from "../errors.ts";
import type { StowageEvent } from "../events.ts";
import type { RunReport } from "../report.ts";
import { Daemon, type DaemonDeps, nextRunAt, type Notifier } from "./daemon.ts";
import { applyRun, emptyResults, type ResultsDoc } from "./results.ts";
import { runReport } from "./test_helpers.ts";

/** Test double of the sd_notify port (the real one is tested in tests/service_daemon_test.ts). */
class RecordingNotifier implements Notifier {
  messages: string[] = [];
  send(message: string) {
    this.messages.push(message);
    return Promise.resolve();
  }
  index(prefix: string) {
    return this.messages.findIndex((m) => m.startsWith(prefix) || m.includes(`\n${prefix}`));
  }
}

/** A real slow workload: a `sleep` child process the abort signal kills. */
async function slowWork(seconds: number, signal: AbortSignal) {
  const out = await new Deno.Command("sleep", {
    args: [String(seconds)],
    signal,
    stdout: "null",
    stderr: "null",
  }).output();
  if (!out.success) throw new StowageError("interrupted", "backup interrupted");
}

function setup(overrides: Partial<DaemonDeps> & { results?: ResultsDoc } = {}) {
  const notifier = new RecordingNotifier();
  const ctl = new AbortController();
  let store = overrides.results ?? emptyResults();
  const recorded: RunReport[] = [];
  const logs: string[] = [];
  const deps: DaemonDeps = {
    clock: systemClock,
    notifier,
    signal: ctl.signal,
    log: (level, message) => logs.push(`${level}: ${message}`),
    readResults: () => Promise.resolve(store),
    recordRun: (r) => {
      recorded.push(r);
      store = applyRun(store, r);
      return Promise.resolve();
    },
    runBackup: () => Promise.reject(new Error("not used")),
    pollMs: 50,
    ...overrides,
  };
  return {
    daemon: new Daemon(deps),
    notifier,
    ctl,
    recorded,
    logs,
    setStore: (d: ResultsDoc) => (store = d),
  };
}

Deno.test("nextRunAt: one interval after the last run, never in the past", () => {
  const now = new Date("2025-01-01T12:00:00Z");
  assert.equal(nextRunAt(undefined, 3600_000, now).toISOString(), now.toISOString());
  assert.equal(
    nextRunAt("2025-01-01T11:30:00Z", 3600_000, now).toISOString(),
    "2025-01-01T12:30:00.000Z",
  );
  assert.equal(nextRunAt("2025-01-01T09:00:00Z", 3600_000, now).toISOString(), now.toISOString());
});

Deno.test("interval run: READY, STATUS per unit, WATCHDOG beats during a slow backup, STOPPING last", async () => {
  const events: StowageEvent[] = [];
  let refreshes = 0;
  const t: ReturnType<typeof setup> = setup({
    intervalMs: 3600_000,
    watchdogMs: 100,
    refreshRepository: () => {
      refreshes++;
      return Promise.resolve({ checkedAt: "now", sizeBytes: refreshes });
    },
    onEvent: (e) => events.push(e),
    runBackup: async (signal, onEvent) => {
      onEvent({
        type: "run.start",
        operation: "backup",
        backupId: "2025-01-01T02-00-00Z",
        units: ["a", "b"],
      });
      onEvent({ type: "unit.start", unit: "a", index: 1, total: 2, operation: "backup" });
      assert.equal(t.daemon.running, true);
      await slowWork(0.6, signal);
      onEvent({ type: "unit.start", unit: "b", index: 2, total: 2, operation: "backup" });
      await slowWork(0.6, signal);
      setTimeout(() => t.ctl.abort(), 200);
      return runReport("2025-01-01T02:00:00Z", [["a", "ok"], ["b", "ok"]]);
    },
  });
  await t.daemon.run();
  const m = t.notifier.messages;
  assert.ok(m[0].startsWith("READY=1\nSTATUS="), m[0]);
  const a = t.notifier.index("STATUS=Running backup: a (1/2)");
  const b = t.notifier.index("STATUS=Running backup: b (2/2)");
  const stop = t.notifier.index("STOPPING=1");
  assert.ok(a > 0 && b > a && stop > b, m.join(" | "));
  const beatsDuringRun = m.slice(a, b).filter((x) => x === "WATCHDOG=1").length +
    m.slice(b, stop).filter((x) => x === "WATCHDOG=1").length;
  assert.ok(beatsDuringRun >= 2, `expected beats during the 1.2 s run, got ${m.join(" | ")}`);
  assert.equal(stop, m.length - 1, "nothing after STOPPING=1");
  assert.ok(
    m.some((x) => x.startsWith("STATUS=Last backup: ") && x.includes(", ok; next at ")),
    m.join(" | "),
  );
  assert.equal(t.recorded.length, 1);
  assert.equal(events.filter((e) => e.type === "unit.start").length, 2);
  assert.equal(t.daemon.running, false);
  // once at start, once after the recorded run
  assert.equal(refreshes, 2);
  assert.equal(t.daemon.state.repository?.sizeBytes, 2);
});

Deno.test("SIGTERM during a backup: the run is interrupted, STOPPING is sent, run() returns", async () => {
  let aborted = false;
  const t = setup({
    intervalMs: 3600_000,
    runBackup: async (signal) => {
      setTimeout(() => t.ctl.abort(), 100);
      try {
        await slowWork(30, signal);
      } finally {
        aborted = signal.aborted;
      }
      throw new Error("unreachable");
    },
  });
  await t.daemon.run();
  assert.equal(aborted, true);
  const stopMsg = t.notifier.messages.find((x) => x.startsWith("STOPPING=1"));
  assert.match(stopMsg ?? "", /STATUS=Stopping: interrupting the running backup/);
  assert.ok(t.logs.some((l) => l === "info: backup interrupted by shutdown"), t.logs.join("\n"));
  assert.equal(t.recorded.length, 0);
});

Deno.test("a held lock skips the run with a notice and waits a whole interval", async () => {
  const t = setup({
    intervalMs: 3600_000,
    runBackup: () => {
      setTimeout(() => t.ctl.abort(), 50);
      return Promise.reject(
        new StowageError("lock.held", "Cannot start: another backup is running (pid 1)"),
      );
    },
  });
  const before = Date.now();
  await t.daemon.run();
  assert.match(
    t.daemon.state.lastNotice ?? "",
    /skipped a scheduled backup .* another backup is running/,
  );
  assert.ok(new Date(t.daemon.state.nextRunAt!).getTime() >= before + 3600_000 - 1000);
  assert.ok(t.logs.some((l) => l.startsWith("warning: backup skipped")));
});

Deno.test("timer mode: runs recorded by others update STATUS; no backup is started", async () => {
  let started = 0;
  const t = setup({
    runBackup: () => {
      started++;
      return Promise.reject(new Error("must not run"));
    },
  });
  const done = t.daemon.run();
  await systemClock.sleep(120);
  t.setStore(applyRun(emptyResults(), runReport("2025-01-01T02:00:00Z", [["wp", "failed"]])));
  await systemClock.sleep(200);
  t.ctl.abort();
  await done;
  assert.equal(started, 0);
  assert.equal(t.notifier.messages[0], "READY=1\nSTATUS=No backup recorded yet");
  assert.ok(
    t.notifier.messages.includes("STATUS=Last backup: 2025-01-01T02:00:06.000Z, failed (wp)"),
    t.notifier.messages.join(" | "),
  );
  assert.equal(t.daemon.state.mode, "timer");
});

Deno.test("an abort before READY sends only STOPPING", async () => {
  const t = setup();
  t.ctl.abort();
  await t.daemon.run();
  assert.equal(t.notifier.messages.length, 1);
  assert.match(t.notifier.messages[0], /^STOPPING=1/);
});
