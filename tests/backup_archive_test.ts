/**
 * The archive-API fallback for volumes whose host folder cannot be read (a rootless or remote
 * engine). As root on this machine every folder is readable, so the HostFiles below says "not
 * readable" — the one stand-in in this test; the engine, the archive stream and restic are real.
 */
import assert from "node:assert/strict";
import { type FixtureStack, withFixtureStack } from "./support/fixture.ts";
import { docker, sh } from "./support/docker.ts";
import { systemClock } from "../adapters/clock.ts";
import { EngineClient } from "../adapters/docker/engine.ts";
import { Restic } from "../adapters/restic/restic.ts";
import { FileRestartJournal } from "../adapters/journal.ts";
import { LocalHostFiles } from "../adapters/host_files.ts";
import { DenoProcessRunner } from "../adapters/process.ts";
import { runBackup } from "../core/backup/run.ts";
import { configSchema } from "../core/config/schema.ts";
import { MemorySink } from "../core/events.ts";
import { parseSnapshot } from "../core/tags.ts";
import { restorePoints, selectPoint } from "../core/restore/points.ts";
import type { DockerEngine } from "../core/ports.ts";
import { createTestRepository } from "./support/restic_repo.ts";

/** Stands in for a rootless/remote engine: volume folders are not readable from this process. */
class UnreadableVolumes extends LocalHostFiles {
  override canReadDir(path: string) {
    return path.startsWith("/var/lib/docker/volumes/")
      ? Promise.resolve(false)
      : super.canReadDir(path);
  }
}

async function unreadableFolderViaArchive(s: FixtureStack) {
  const dir = await Deno.makeTempDir({ prefix: "stowage-arch-" });
  using engine = EngineClient.fromConfig(undefined);
  try {
    await docker(
      "exec",
      s.container("app"),
      "sh",
      "-c",
      "mkdir -p /data/sub && echo via-archive > /data/sub/note && chown 1000:1000 /data/sub/note",
    );
    await Deno.writeTextFile(`${dir}/pw`, "archive-test", { mode: 0o600 });
    await createTestRepository(`${dir}/repo`, "archive-test");
    const repo = new Restic({ location: `${dir}/repo`, passwordFile: `${dir}/pw` });
    const runner = new DenoProcessRunner();
    const report = await runBackup(
      {
        engine,
        repo,
        clock: systemClock,
        sink: new MemorySink(),
        files: new UnreadableVolumes(runner),
        journal: new FileRestartJournal(`${dir}/journal.json`),
        host: "archive-host",
        pid: Deno.pid,
      },
      {
        config: configSchema.parse({ backup: { stop_timeout: 5, scope: "minimal" } }),
        units: [s.project],
        signal: new AbortController().signal,
      },
    );
    assert.equal(report.ok, true, report.units[0].error);
    const snaps = (await repo.snapshots({ tags: [`unit=${s.project}`] })).map(parseSnapshot);
    const app = snaps.find((x) => x.volume === s.volume("app_data"))!;
    assert.ok(app.tags.includes("source=archive"), app.tags.join(","));
    assert.deepEqual(app.paths, [`/${s.volume("app_data")}.tar`]);
    const tar = await repo.dump(app.id, `/${s.volume("app_data")}.tar`);
    await Deno.writeFile(`${dir}/v.tar`, tar);
    const listing = (await sh("tar", ["--numeric-owner", "-tvf", `${dir}/v.tar`])).stdout;
    assert.match(listing, /1000\/1000 .* data\/sub\/note/);
    assert.deepEqual(await running(s), [true, true, true]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The Engine's archive stream for one volume breaks after its first chunk: what a dropped Engine
 * connection looks like to stowage (the read rejects). The second stand-in here, because a real
 * connection cannot be dropped on cue; the engine calls, the stream's first bytes and restic are
 * real.
 */
function droppingArchive(engine: DockerEngine, volumeDest: string): DockerEngine {
  return new Proxy(engine, {
    get(target, prop, receiver) {
      if (prop !== "getArchive") {
        const v = Reflect.get(target, prop, receiver);
        return typeof v === "function" ? v.bind(target) : v;
      }
      return async (id: string, path: string, signal?: AbortSignal) => {
        const real = await target.getArchive(id, path, signal);
        if (path !== volumeDest) return real;
        const reader = real.getReader();
        let sent = false;
        return new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (sent) {
              await reader.cancel();
              controller.error(new Error("connection reset by peer (stand-in)"));
              return;
            }
            const { value, done } = await reader.read();
            if (done) controller.close();
            else {
              sent = true;
              controller.enqueue(value);
            }
          },
          cancel: (r) => reader.cancel(r),
        });
      };
    },
  });
}

async function brokenArchiveStream(s: FixtureStack) {
  const dir = await Deno.makeTempDir({ prefix: "stowage-brk-" });
  using engine = EngineClient.fromConfig(undefined);
  try {
    await docker("exec", s.container("app"), "sh", "-c", "echo first > /data/note");
    await Deno.writeTextFile(`${dir}/pw`, "archive-test", { mode: 0o600 });
    await createTestRepository(`${dir}/repo`, "archive-test");
    const repo = new Restic({ location: `${dir}/repo`, passwordFile: `${dir}/pw` });
    const runner = new DenoProcessRunner();
    const deps = (e: DockerEngine, clock = systemClock) => ({
      engine: e,
      repo,
      clock,
      sink: new MemorySink(),
      files: new UnreadableVolumes(runner),
      journal: new FileRestartJournal(`${dir}/journal.json`),
      host: "archive-host",
      pid: Deno.pid,
    });
    const req = {
      // Standard scope: recipe and networks are saved before the stop, so the broken run does
      // leave snapshots behind that an unaware `--latest` would take.
      config: configSchema.parse({ backup: { stop_timeout: 5, scope: "standard" } }),
      units: [s.project],
      signal: new AbortController().signal,
    };
    const first = await runBackup(deps(engine), req);
    assert.equal(first.ok, true, first.units[0].error);

    // An hour later (a distinct backup id), the app volume's stream breaks after its first chunk.
    const later = { ...systemClock, now: () => new Date(Date.now() + 3600_000) };
    const second = await runBackup(deps(droppingArchive(engine, "/data"), later), req);
    assert.equal(second.ok, false);
    assert.match(second.units[0].error ?? "", /reset by peer|incomplete/);
    assert.deepEqual(await running(s), [true, true, true], "containers started again");

    const snaps = (await repo.snapshots({ tags: [`unit=${s.project}`] })).map(parseSnapshot);
    const points = restorePoints(snaps, s.project);
    assert.equal(points.length, 2, points.map((p) => p.backupId).join(", "));
    assert.equal(points[0].backupId, second.backupId);
    assert.equal(points[0].status, "incomplete");
    assert.equal(points[0].marker, undefined);
    const latest = selectPoint(points, s.project, { latest: true }, "archive-host");
    assert.equal(latest.backupId, first.backupId);
    assert.equal(latest.status, "complete");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function running(s: { container(x: string): string }) {
  const out = [];
  for (const svc of ["db", "app", "web"]) {
    out.push(
      (await docker("inspect", "-f", "{{.State.Running}}", s.container(svc))).stdout.trim() ===
        "true",
    );
  }
  return out;
}

Deno.test("volumes saved through the Engine's archive API, on one fixture stack", async (t) => {
  // One fixture stack for every step (a stack costs docker-compose, three containers and a
  // network); each step keeps its own repository and leaves the containers running.
  await withFixtureStack({ name: "arch" }, async (s) => {
    await t.step(
      "a volume whose folder cannot be read is saved as a tar stream from the Engine's archive API",
      () => unreadableFolderViaArchive(s),
    );
    await t.step(
      "an archive stream that breaks mid-volume leaves an incomplete point; --latest picks the previous complete one",
      () => brokenArchiveStream(s),
    );
  });
});
