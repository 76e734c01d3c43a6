import assert from "node:assert/strict";
import { realRuntime } from "../main.ts";
import { resolvePaths } from "../core/paths.ts";
import { defaultConfig } from "../core/config/schema.ts";
import type { LoadedConfig } from "../core/config/loaded.ts";
import { nullSink } from "../core/events.ts";
import { lockAndRecover } from "./host_lock.ts";

/** A state directory of its own, with the real lock, journal and engine client of main.ts. */
async function scene() {
  const stateDir = await Deno.makeTempDir({ prefix: "stowage-hostlock-" });
  const paths = resolvePaths({
    uid: Deno.uid(),
    env: (n) => (n === "STOWAGE_STATE_DIR" ? stateDir : Deno.env.get(n)),
  });
  const loaded: LoadedConfig = { config: defaultConfig(), paths };
  const svc = realRuntime().app;
  return {
    svc,
    loaded,
    engine: svc.engine(loaded),
    cleanup: () => Deno.remove(stateDir, { recursive: true }),
  };
}

Deno.test("lockAndRecover holds the host lock until disposed, naming the command", async () => {
  const s = await scene();
  try {
    {
      using host = await lockAndRecover(s.svc, s.loaded, s.engine, nullSink, {
        command: "restore",
      });
      assert.deepEqual(host.recovered, { started: [], failed: [], units: [] });
      const holder = await s.svc.locks.holder(s.loaded.paths.lockFile);
      assert.equal(holder?.command, "restore");
      assert.equal(holder?.pid, Deno.pid);
    }
    assert.equal(await s.svc.locks.holder(s.loaded.paths.lockFile), undefined);
  } finally {
    await s.cleanup();
  }
});

Deno.test("lockAndRecover releases the host lock when recovery fails", async () => {
  const s = await scene();
  try {
    // The real lock; a journal whose disk fails (an injected fault: nothing else makes it throw).
    const failing = {
      ...s.svc,
      journal: () => ({
        read: () => Promise.reject(new Error("read error on the journal's disk")),
        record: () => Promise.resolve(),
        clear: () => Promise.resolve(),
      }),
    };
    await assert.rejects(
      () => lockAndRecover(failing, s.loaded, s.engine, nullSink, { command: "backup" }),
      /read error on the journal's disk/,
    );
    assert.equal(await s.svc.locks.holder(s.loaded.paths.lockFile), undefined);
    // And the next run gets it at once (no wait).
    using again = await lockAndRecover(s.svc, s.loaded, s.engine, nullSink, {
      command: "backup",
      waitSeconds: 0,
    });
    assert.deepEqual(again.recovered.units, []);
  } finally {
    await s.cleanup();
  }
});
