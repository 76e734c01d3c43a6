import assert from "node:assert/strict";
import { forgetResultsUnit, readResults, recordRun } from "./results_store.ts";
import { runReport } from "../core/service/test_helpers.ts";

Deno.test("results store: missing file is empty; runs are recorded with mode 0600", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state/results.json`;
    assert.deepEqual((await readResults(path)).runs, []);
    await recordRun(path, runReport("2025-01-01T02:00:00Z", [["wp", "ok"]]));
    await recordRun(path, runReport("2025-01-02T02:00:00Z", [["wp", "failed"]]));
    const doc = await readResults(path);
    assert.equal(doc.runs.length, 2);
    assert.equal(doc.units.wp.failuresTotal, 1);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal(await forgetResultsUnit(path, "wp"), true);
    assert.equal(await forgetResultsUnit(path, "wp"), false);
    assert.deepEqual((await readResults(path)).units, {});
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("results store: concurrent writers lose no run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/results.json`;
    await Promise.all(
      Array.from(
        { length: 12 },
        (_, i) =>
          recordRun(
            path,
            runReport(new Date(Date.UTC(2025, 0, 1, i)).toISOString(), [["wp", "ok"]]),
          ),
      ),
    );
    const doc = await readResults(path);
    assert.equal(doc.runs.length, 12);
    assert.equal(doc.units.wp.successesTotal, 12);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("results store: a damaged file is reported on read and set aside on write", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/results.json`;
    await Deno.writeTextFile(path, "{garbage");
    await assert.rejects(() => readResults(path), /not a stowage results file/);
    await recordRun(path, runReport("2025-01-01T02:00:00Z", [["wp", "ok"]]));
    assert.equal((await readResults(path)).runs.length, 1);
    assert.equal(
      [...Deno.readDirSync(dir)].some((e) => e.name.startsWith("results.json.damaged-")),
      true,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
