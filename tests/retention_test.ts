/**
 * Retention through the real orchestrator, engine and restic, with a controlled clock: three days of
 * twice-daily backups under `latest: 2, daily: 2` leave exactly the expected restore points, each whole
(both volumes and the completion marker).
 */
import assert from "node:assert/strict";
import { createFixtureStack } from "./support/fixture.ts";
import { cleanupDocker } from "./support/docker.ts";
import { ManualClock } from "../adapters/clock.ts";
import { EngineClient } from "../adapters/docker/engine.ts";
import { Restic } from "../adapters/restic/restic.ts";
import { FileRestartJournal } from "../adapters/journal.ts";
import { LocalHostFiles } from "../adapters/host_files.ts";
import { DenoProcessRunner } from "../adapters/process.ts";
import { runBackup } from "../core/backup/run.ts";
import { configSchema } from "../core/config/schema.ts";
import { MemorySink } from "../core/events.ts";
import { parseSnapshot } from "../core/tags.ts";
import { createTestRepository } from "./support/restic_repo.ts";
import { waitFor } from "./support/service.ts";

Deno.test("retention keeps exactly latest 2 + one per day for 2 days, as whole points", async (t) => {
  const s = await createFixtureStack({ name: "ret" });
  const dir = await Deno.makeTempDir({ prefix: "stowage-ret-" });
  using engine = EngineClient.fromConfig(undefined);
  try {
    await s.up();
    await Deno.writeTextFile(`${dir}/pw`, "retention-test", { mode: 0o600 });
    await createTestRepository(`${dir}/repo`, "retention-test");
    const repo = new Restic({ location: `${dir}/repo`, passwordFile: `${dir}/pw` });
    const config = configSchema.parse({
      backup: { stop_timeout: 5, scope: "minimal" },
      retention: { latest: 2, daily: 2 },
    });
    const clock = new ManualClock("2025-03-01T02:00:00Z");
    // The real repository, each method call noted: every call is one restic process.
    let calls: string[] = [];
    const counted = new Proxy(repo, {
      get(target, name) {
        const v = Reflect.get(target, name);
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          calls.push(String(name));
          return v.apply(target, args);
        };
      },
    });
    const forgotten: number[] = [];
    // Three days, two runs a day (02:00 and 14:00).
    for (let i = 0; i < 6; i++) {
      calls = [];
      // Before the fourth run a restic killed hard leaves its lock, which blocks `forget`.
      const staleLock = i === 3;
      if (staleLock) await leaveStaleLock(`${dir}/repo`, `${dir}/pw`);
      const report = await runBackup(
        {
          engine,
          repo: counted,
          clock,
          sink: new MemorySink(),
          files: new LocalHostFiles(new DenoProcessRunner()),
          journal: new FileRestartJournal(`${dir}/journal.json`),
          host: "retention-host",
          pid: Deno.pid,
        },
        { config, units: [s.project], signal: new AbortController().signal },
      );
      assert.equal(report.ok, true, JSON.stringify(report.units[0].error));
      assert.deepEqual(report.units[0].warnings, []);
      // The warm snapshot and what retention lets go leave in one `forget`, after one listing.
      // No lock listing at every run: a stale lock is removed when the forget fails on it, and
      // the forget runs once more.
      assert.equal(
        calls.filter((c) => c === "forget").length,
        staleLock ? 2 : 1,
        calls.join(" "),
      );
      assert.equal(calls.filter((c) => c === "unlock").length, staleLock ? 1 : 0, calls.join(" "));
      assert.ok(!calls.includes("locks") && !calls.includes("exists"), calls.join(" "));
      assert.equal(calls.filter((c) => c === "snapshots").length, 2, calls.join(" "));
      forgotten.push(report.units[0].forgotten ?? 0);
      clock.advance(12 * 3600_000);
    }
    // Each run's retention counts its own new point as complete (its marker is written beside
    // the listing retention reads): run 3 forgets day 1's 02:00, run 5 day 1's 14:00 and day 2's
    // 02:00. Counted in snapshots, the same number per point.
    assert.ok(forgotten[2] > 0, `retention forgot nothing: ${forgotten}`);
    assert.deepEqual(forgotten.map((n) => n / forgotten[2]), [0, 0, 1, 0, 2, 0], `${forgotten}`);
    assert.equal(await repo.locks().then((l) => l.length), 0);
    const snaps = (await repo.snapshots({ tags: [`unit=${s.project}`] })).map(parseSnapshot);
    // Format 3: each run is one data snapshot (both volumes) and its completion marker.
    const byVolume = Object.groupBy(snaps, (x) => x.type ?? "");
    assert.deepEqual(Object.keys(byVolume).sort(), ["complete", "data"]);
    for (const d of byVolume.data!) {
      assert.deepEqual(
        d.items!.map((i) => i.name).sort(),
        [s.volume("app_data"), s.volume("db_data")].sort(),
      );
    }
    for (const group of Object.values(byVolume)) {
      const kept = group!.map((x) => new Date(x.time).toISOString()).sort();
      // latest 2: day 3 at 14:00 and 02:00; daily 2: the newest of days 3 and 2 (14:00 each).
      assert.deepEqual(kept, [
        "2025-03-02T14:00:00.000Z",
        "2025-03-03T02:00:00.000Z",
        "2025-03-03T14:00:00.000Z",
      ]);
    }

    await t.step(
      "a recipe that cannot be saved fails the unit before any stop, and leaves no snapshot of the warm pass that ran beside it",
      async () => {
        calls = [];
        // The real repository, except that saving the recipe fails (restic cannot be made to
        // refuse one snapshot and not the next).
        const failingRecipe = new Proxy(counted, {
          get(target, name) {
            const v = Reflect.get(target, name);
            if (name !== "backupStream") return v;
            return (file: string, ...rest: unknown[]) =>
              file === "recipe.json"
                ? Promise.reject(new Error("the repository refused the recipe"))
                : v.apply(target, [file, ...rest]);
          },
        });
        const sink = new MemorySink();
        const report = await runBackup(
          {
            engine,
            repo: failingRecipe,
            clock,
            sink,
            files: new LocalHostFiles(new DenoProcessRunner()),
            journal: new FileRestartJournal(`${dir}/journal.json`),
            host: "retention-host",
            pid: Deno.pid,
          },
          {
            // The default scope: a recipe is saved (the minimal scope above saves none).
            config: configSchema.parse({ backup: { stop_timeout: 5 } }),
            units: [s.project],
            signal: new AbortController().signal,
          },
        );
        const unit = report.units[0];
        assert.equal(unit.outcome, "failed");
        assert.match(unit.error ?? "", /refused the recipe/);
        assert.deepEqual(unit.containersStopped, []);
        assert.ok(!sink.events.some((e) => e.type === "container.stop"));
        assert.ok(calls.includes("backupPaths"), `the warm pass ran: ${calls.join(" ")}`);
        const warm = await repo.snapshots({ tags: ["stowage-warm"] });
        assert.deepEqual(warm, [], "the warm snapshot was forgotten");
        const points = (await repo.snapshots({ tags: [`unit=${s.project}`] })).map(parseSnapshot);
        assert.equal(points.filter((p) => p.type === "complete").length, 3, "no new point");
      },
    );
  } finally {
    await s.down();
    await cleanupDocker();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(s.dir, { recursive: true }).catch(() => {});
  }
});

/** A restic backup killed with SIGKILL once it holds its (non-exclusive) lock. */
async function leaveStaleLock(repo: string, passwordFile: string) {
  // Its own cache beside the repository, not the shared ~/.cache/restic.
  const env = { RESTIC_CACHE_DIR: `${repo}.cache` };
  const restic = (args: string[]) =>
    new Deno.Command("restic", {
      args: ["-r", repo, "--password-file", passwordFile, ...args],
      env,
    });
  const child = new Deno.Command("restic", {
    args: ["-r", repo, "--password-file", passwordFile, "backup", "--stdin"],
    env,
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const feed = child.stdin.getWriter();
  await feed.write(new TextEncoder().encode("some bytes, and then SIGKILL"));
  await waitFor("the killed restic's lock", async () => {
    const out = await restic(["list", "locks", "--no-lock"]).output();
    return new TextDecoder().decode(out.stdout).trim() !== "";
  });
  child.kill("SIGKILL");
  await child.status;
  await feed.abort().catch(() => {});
}
