/**
 * The archive-API fallback for volumes whose host folder cannot be read (a rootless or remote
 * engine). As root on this machine every folder is readable, so the HostFiles below says "not
 * readable" — the one stand-in in this test; the engine, the archive stream and restic are real.
 */
import assert from "node:assert/strict";
import { createFixtureStack } from "./support/fixture.ts";
import { cleanupDocker, docker, sh } from "./support/docker.ts";
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

/** Stands in for a rootless/remote engine: volume folders are not readable from this process. */
class UnreadableVolumes extends LocalHostFiles {
  override canReadDir(path: string) {
    return path.startsWith("/var/lib/docker/volumes/")
      ? Promise.resolve(false)
      : super.canReadDir(path);
  }
}

Deno.test("a volume whose folder cannot be read is saved as a tar stream from the Engine's archive API", async () => {
  const s = await createFixtureStack({ name: "arch" });
  const dir = await Deno.makeTempDir({ prefix: "stowage-arch-" });
  using engine = EngineClient.fromConfig(undefined);
  try {
    await s.up();
    await docker(
      "exec",
      s.container("app"),
      "sh",
      "-c",
      "mkdir -p /data/sub && echo via-archive > /data/sub/note && chown 1000:1000 /data/sub/note",
    );
    await Deno.writeTextFile(`${dir}/pw`, "archive-test", { mode: 0o600 });
    const repo = new Restic({ location: `${dir}/repo`, passwordFile: `${dir}/pw` });
    await repo.init();
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
    await s.down();
    await cleanupDocker();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(s.dir, { recursive: true }).catch(() => {});
  }
});

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
