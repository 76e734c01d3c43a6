/**
 * Benchmark (not a test), issue 18: downtime of stop, btrfs snapshot, start, back up from the
 * snapshot, at two data sizes, against the unit's own stop + start, stowage's cold read
 * (`fs_snapshots: off`, warm pass on) and the naive stop, tar into restic, start. A one-service
 * compose stack whose bind-type volume is a btrfs subvolume on a loop device.
 * `deno run -P=test bench/fs_snapshot.ts [--sizes 400,2000]`; writes bench/FS_SNAPSHOTS.md.
 */
import { parseArgs } from "node:util";
import {
  cleanupDocker,
  ensureTestImage,
  sh,
  TEST_LABEL,
  testName,
} from "../tests/support/docker.ts";
import { testRepoEnv } from "../tests/support/repo.ts";
import { systemClock } from "../adapters/clock.ts";
import { EngineClient } from "../adapters/docker/engine.ts";
import { Restic } from "../adapters/restic/restic.ts";
import { FileRestartJournal } from "../adapters/journal.ts";
import { LocalHostFiles } from "../adapters/host_files.ts";
import { DenoProcessRunner } from "../adapters/process.ts";
import { HostFsSnapshots } from "../adapters/fs_snapshot.ts";
import { runBackup } from "../core/backup/run.ts";
import { configSchema } from "../core/config/schema.ts";
import { nullSink } from "../core/events.ts";
import { writeReport } from "./write_report.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sizes: { type: "string", default: "400,2000" },
    out: { type: "string", default: "bench/FS_SNAPSHOTS.md" },
  },
});
const sizes = values.sizes!.split(",").map(Number);
const REPEAT = 3;
const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const image = await ensureTestImage();
const base = await Deno.makeTempDir({ prefix: "stowage-bench-fs-" });
// A fresh restic cache, as on a user's machine (bench/run.ts says why).
Deno.env.set("RESTIC_CACHE_DIR", `${base}/restic-cache`);
const pool = `${base}/pool`;
const vol = `${pool}/vol`;
await Deno.mkdir(pool);
await sh("truncate", ["-s", `${Math.max(...sizes) * 3 + 1024}M`, `${base}/img`]);
await sh("mkfs.btrfs", ["-q", `${base}/img`]);
const loop = (await sh("losetup", ["-f", "--show", `${base}/img`])).stdout.trim();
const project = testName("benchfs");
const container = `${project}_app_1`;
// restic init calibrates the key as for a user (the raw restic rows pay the same); no test key.
const env = await testRepoEnv("", { repository: "absent" });
using engine = EngineClient.fromConfig(undefined);
const compose = (...args: string[]) =>
  sh("docker-compose", ["-p", project, "-f", `${base}/docker-compose.yml`, ...args], { cwd: base });
const rows: string[][] = [];
const loadBefore = (await sh("uptime", [])).stdout.trim().replace(/^.*load/, "load");
try {
  await sh("mount", [loop, pool]);
  await sh("btrfs", ["subvolume", "create", vol]);
  const [label, value] = TEST_LABEL.split("=");
  await Deno.writeTextFile(
    `${base}/docker-compose.yml`,
    `version: "2.4"
services:
  app:
    image: ${image}
    init: true
    command: ["sleep", "1000000"]
    labels:
      ${label}: "${value}"
    volumes:
      - data:/v
volumes:
  data:
    labels:
      ${label}: "${value}"
    driver_opts: { type: none, o: bind, device: ${vol} }
`,
  );
  await compose("up", "-d");
  const repo = new Restic({ location: env.repo, passwordFile: env.passwordFile });
  await repo.init();
  const runner = new DenoProcessRunner();
  const deps = {
    engine,
    repo,
    clock: systemClock,
    sink: nullSink,
    files: new LocalHostFiles(runner),
    journal: new FileRestartJournal(`${base}/journal.json`),
    fsSnapshots: new HostFsSnapshots(runner, `${base}/fs-snapshots.json`),
    host: "bench",
    pid: Deno.pid,
  };
  const backup = async (mode: "auto" | "off") => {
    const config = configSchema.parse({ backup: { stop_timeout: 5, fs_snapshots: mode } });
    const t = performance.now();
    const r = await runBackup(deps, {
      config,
      units: [project],
      signal: new AbortController().signal,
    });
    const u = r.units[0];
    if (u.outcome !== "ok") throw new Error(u.error);
    const read = u.reads?.find((x) => x.type === "volume")?.read ?? "cold";
    return { wall: performance.now() - t, down: u.downtimeMs!, read };
  };
  let written = 0;
  for (const mib of sizes) {
    await sh("dd", [
      "if=/dev/urandom",
      `of=${vol}/blob${mib}`,
      "bs=1M",
      `count=${mib - written}`,
      "status=none",
    ]);
    await sh("sync", []);
    written = mib;
    const stopStarts = [];
    for (let i = 0; i < REPEAT; i++) {
      stopStarts.push(
        await timed(async () => {
          await engine.stopContainer(container, 5);
          await engine.startContainer(container);
        }),
      );
    }
    const stopStart = median(stopStarts);
    const naiveRepo = ["-r", `${base}/naive${mib}`, "--password-file", env.passwordFile];
    await sh("restic", [...naiveRepo, "init"]);
    const naive = await timed(async () => {
      await engine.stopContainer(container, 5);
      await sh("bash", [
        "-c",
        `set -o pipefail; tar -C '${vol}' -c . | restic ${
          naiveRepo.join(" ")
        } backup -q --host bench --stdin --stdin-filename v.tar`,
      ]);
      await engine.startContainer(container);
    });
    await backup("auto"); // reads the new data once
    const snap = [];
    for (let i = 0; i < REPEAT; i++) snap.push(await backup("auto"));
    const cold = await backup("off");
    const down = median(snap.map((x) => x.down));
    rows.push([
      `${mib} MiB`,
      sec(stopStart),
      sec(naive),
      sec(cold.down),
      `${sec(down)} (${snap[0].read})`,
      sec(median(snap.map((x) => x.wall))),
      `${sec(Math.max(0, down - stopStart))}; ${(down / naive).toFixed(3)}x naive`,
    ]);
    console.log(rows.at(-1)!.join(" | "));
  }
} finally {
  await compose("down", "-v", "--timeout", "1").catch(() => {});
  await cleanupDocker();
  await env.cleanup();
  await sh("umount", [pool], { check: false });
  await sh("losetup", ["-d", loop], { check: false });
  await Deno.remove(base, { recursive: true }).catch(() => {});
}
const loadAfter = (await sh("uptime", [])).stdout.trim().replace(/^.*load/, "load");
const restic = (await sh("restic", ["version"])).stdout.trim();
const report = `# Filesystem snapshot benchmark (issue 18)

Generated by \`deno run -P=test bench/fs_snapshot.ts --sizes ${values.sizes}\` on ${
  new Date().toISOString().slice(0, 16)
}Z; ${navigator.hardwareConcurrency} cores; ${restic}. Load: before ${loadBefore}; after ${loadAfter}
(other work shared the machine: single numbers are noisy).

One service with \`init\`, its bind-type volume a btrfs subvolume on a loop device holding one file
of random data of the given size. Each stowage backup is an unchanged rerun (the data was read once
before); "snapshot" downtimes are the median of ${REPEAT} runs with \`fs_snapshots: auto\`, "cold" is one
run with \`fs_snapshots: off\` (warm pass on). The naive script stops, pipes \`tar\` of the folder
into \`restic backup --stdin\` (a fresh repository), starts.

| data | unit's stop + start | naive stop/tar/start | stowage cold (off) downtime | stowage snapshot downtime (read) | stowage snapshot wall | snapshot downtime beyond stop + start; vs naive |
| --- | --- | --- | --- | --- | --- | --- |
${rows.map((r) => `| ${r.join(" | ")} |`).join("\n")}

Goals (issue 18): downtime within 0.5 s of the unit's own stop + start whatever the size, and
<= 0.05x the naive approach at the larger size.
`;
await writeReport(values.out!, report);
console.log(report);
