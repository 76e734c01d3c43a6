import assert from "node:assert/strict";
import { notifierFromEnv, silentNotifier, watchdogPeriodMs } from "./notify.ts";

Deno.test("watchdog period is half of WATCHDOG_USEC, for this process only", () => {
  assert.equal(watchdogPeriodMs(undefined, undefined, 10), undefined);
  assert.equal(watchdogPeriodMs("300000000", undefined, 10), 150_000);
  assert.equal(watchdogPeriodMs("400000", "10", 10), 200);
  assert.equal(watchdogPeriodMs("400000", "11", 10), undefined);
  assert.equal(watchdogPeriodMs("0", undefined, 10), undefined);
  assert.equal(watchdogPeriodMs("soon", undefined, 10), undefined);
});

Deno.test("without NOTIFY_SOCKET the notifier is silent", async () => {
  const { notifier, problem } = notifierFromEnv(() => undefined);
  assert.equal(notifier, silentNotifier);
  assert.equal(problem, undefined);
  await notifier.send("READY=1");
});
