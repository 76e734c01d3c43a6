import assert from "node:assert/strict";
import { retryWhileLocked } from "./restic.ts";
import { StowageError } from "../../core/errors.ts";

const locked = (by = "PID 1 on elsewhere by root") =>
  new StowageError("repo.locked", `Cannot prune: the repository at 'x' is locked by ${by}`);

Deno.test("a command locked out by another process is tried again until the lock is free", async () => {
  let calls = 0;
  const r = await retryWhileLocked(
    () => {
      calls++;
      if (calls < 3) return Promise.reject(locked());
      return Promise.resolve("done");
    },
    undefined,
    10_000,
  );
  assert.equal(r, "done");
  assert.equal(calls, 3);
});

Deno.test("other errors, a lock held past the wait, and a dead local holder fail at once", async () => {
  let calls = 0;
  await assert.rejects(
    retryWhileLocked(() => {
      calls++;
      return Promise.reject(new StowageError("repo.password", "wrong"));
    }),
    /wrong/,
  );
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(
    retryWhileLocked(
      () => {
        calls++;
        return Promise.reject(locked());
      },
      undefined,
      500,
    ),
    /locked/,
  );
  assert.equal(calls, 1, "no time left for a second try");
  calls = 0;
  // A PID that cannot exist, on this host: a lock left by a restic that died, waiting cannot help.
  await assert.rejects(
    retryWhileLocked(
      () => {
        calls++;
        return Promise.reject(locked(`PID 999999999 on ${Deno.hostname()} by root`));
      },
      undefined,
      60_000,
    ),
    /locked/,
  );
  assert.equal(calls, 1);
});

Deno.test("a lock held by a live process on this host is waited for (it is not taken for a dead one)", async () => {
  let calls = 0;
  const r = await retryWhileLocked(
    () => {
      calls++;
      if (calls < 2) return Promise.reject(locked(`PID ${Deno.pid} on ${Deno.hostname()} by root`));
      return Promise.resolve("done");
    },
    undefined,
    10_000,
  );
  assert.equal(r, "done");
  assert.equal(calls, 2);
});

Deno.test("an abort ends the wait for a lock at once", async () => {
  const ac = new AbortController();
  let calls = 0;
  const p = retryWhileLocked(
    () => {
      calls++;
      if (calls === 1) queueMicrotask(() => ac.abort());
      return Promise.reject(locked());
    },
    ac.signal,
    60_000,
  );
  await assert.rejects(p, /locked/);
  assert.equal(calls, 1);
});
