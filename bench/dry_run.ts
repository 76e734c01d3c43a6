/**
 * Benchmark (not a test), issue 11 item 6: `dry-run` of a host with many small stacks. Makes N
 * compose projects (one busybox service, one named volume holding a small file, one bind mount, on the default bridge),
 * then times `stowage dry-run --json` (the whole command, Deno start-up included) and, in process,
 * each phase of it: the Engine listing (gatherState), the per-item sizes and mount checks, the
 * filesystem-snapshot decisions and the layer-write check. Writes bench/DRY_RUN.md.
 * `deno run -P=test bench/dry_run.ts [--stacks 50] [--runs 5] [--compare DIR] [--out bench/DRY_RUN.md]`.
 *
 * The Engine is shared: containers of other runs on the host are listed too, and their number is
 * reported beside the times.
 */
import { parseArgs } from "node:util";
import {
  cleanupDocker,
  ensureTestImage,
  sh,
  TEST_LABEL,
  testName,
} from "../tests/support/docker.ts";
import { isolatedEnv } from "../tests/support/cli.ts";
import { EngineClient } from "../adapters/docker/engine.ts";
import { LocalHostFiles } from "../adapters/host_files.ts";
import { DenoProcessRunner } from "../adapters/process.ts";
import { fsSnapshotJournal, HostFsSnapshots } from "../adapters/fs_snapshot.ts";
import { buildDryRun } from "../app/dry_run.ts";
import { configSchema } from "../core/config/schema.ts";
import { resolvePaths } from "../core/paths.ts";
import type { LoadedConfig } from "../core/config/loaded.ts";
import type { ProcessRunner } from "../core/ports.ts";
import { discoverUnits } from "../core/discovery.ts";
import { planUnit } from "../core/backup/plan.ts";
import { findLayerWrites } from "../core/layer_writes.ts";
import { writeReport } from "./write_report.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    stacks: { type: "string", default: "50" },
    runs: { type: "string", default: "5" },
    out: { type: "string", default: "bench/DRY_RUN.md" },
    note: { type: "string", default: "" },
    /** Another checkout (e.g. `git archive`d main) whose dry-run is timed alternately. */
    compare: { type: "string" },
  },
});
const stacks = Number(values.stacks);
const runs = Number(values.runs);
const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${Math.round(x)} ms`;

async function makeStacks(n: number): Promise<string[]> {
  const image = await ensureTestImage();
  const [label, value] = TEST_LABEL.split("=");
  const projects: string[] = [];
  const root = await Deno.makeTempDir({ prefix: "stowage-bench-dry-run-" });
  for (let i = 0; i < n; i++) {
    const project = testName(`dry${i}`);
    const dir = `${root}/${project}`;
    await Deno.mkdir(`${dir}/conf`, { recursive: true });
    await Deno.writeTextFile(`${dir}/conf/app.conf`, "setting=1\n");
    await Deno.writeTextFile(
      `${dir}/docker-compose.yml`,
      `version: "2.4"
services:
  app:
    image: ${image}
    command: ["sh", "-c", "echo hello > /data/greeting && exec sleep 1000000"]
    # The default bridge: one project network each would exhaust the Engine's address pools.
    network_mode: bridge
    volumes:
      - data:/data
      - ./conf:/conf:ro
    labels:
      ${label}: "${value}"
volumes:
  data:
    labels:
      ${label}: "${value}"
`,
    );
    projects.push(project);
  }
  // A few at a time: docker-compose 1.29 is slow to start, the Engine is shared.
  for (let i = 0; i < n; i += 5) {
    await Promise.all(
      projects.slice(i, i + 5).map((p) =>
        sh("docker-compose", ["-p", p, "-f", `${root}/${p}/docker-compose.yml`, "up", "-d"])
      ),
    );
  }
  return projects;
}

/** Counts the processes a phase starts (du, findmnt, ...), by program name. */
class CountingRunner implements ProcessRunner {
  counts = new Map<string, number>();
  constructor(private inner: ProcessRunner) {}
  run(...args: Parameters<ProcessRunner["run"]>) {
    this.counts.set(args[0], (this.counts.get(args[0]) ?? 0) + 1);
    return this.inner.run(...args);
  }
}

async function phases(loaded: LoadedConfig) {
  const runner = new CountingRunner(new DenoProcessRunner());
  const engine = new EngineClient();
  let requests = 0;
  const counted = new Proxy(engine, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (typeof v !== "function") return v;
      return (...a: unknown[]) => {
        requests++;
        return v.apply(target, a);
      };
    },
  });
  const t0 = performance.now();
  const state = await engine.gatherState();
  const gatherMs = performance.now() - t0;
  const t1 = performance.now();
  const doc = await buildDryRun(
    {
      engine: () => counted,
      hostFiles: new LocalHostFiles(runner),
      hostname: "bench",
      fsSnapshots: (journal) => new HostFsSnapshots(runner, fsSnapshotJournal(journal)),
    },
    loaded,
    {},
  );
  const totalMs = performance.now() - t1;
  // The same steps one by one, to see where the time goes.
  const laps: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    laps[name] = now - t;
    t = now;
  };
  const units = discoverUnits(await engine.gatherState(), { unsafePaths: [] });
  lap("listing");
  const items = units.map((u) => planUnit(u, loaded.config)).flatMap((p) => p.items);
  const first = items.filter((i) => i.paths.length > 0).map((i) => i.paths[0]);
  const files = new LocalHostFiles(new DenoProcessRunner());
  await files.sizes(first);
  lap("sizes");
  await Promise.all(items.flatMap((i) => i.paths).map((p) => files.isMountPoint(p)));
  lap("mount checks");
  await new HostFsSnapshots(new DenoProcessRunner(), "/nonexistent/fs-snapshots.json").probe(first);
  lap("mounts");
  await findLayerWrites(engine, units);
  lap("layer writes");
  return {
    laps,
    gatherMs,
    totalMs,
    containers: state.containers.length,
    units: doc.units.length,
    processes: [...runner.counts].map(([k, v]) => `${v} x ${k}`).join(", ") || "none",
    engineCalls: requests,
  };
}

/** `stowage ARGS` from the checkout at `root` (its own deno.json permission set), wall time in ms. */
async function timeCli(root: string, args: string[], env: Record<string, string>) {
  const t = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-P=stowage",
      "--unstable-net",
      "--no-prompt",
      "--quiet",
      `${root}/main.ts`,
      ...args,
    ],
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - t;
  if (!out.success) throw new Error(`${root}: ${new TextDecoder().decode(out.stderr)}`);
  return { ms: elapsed, stdout: new TextDecoder().decode(out.stdout) };
}

const git = async (cwd: string, ...args: string[]) =>
  new TextDecoder().decode(
    (await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "null" }).output()).stdout,
  ).trim();

if (import.meta.main) {
  const env = await isolatedEnv("backup:\n  stop_timeout: 5\n");
  const here = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  // Each checkout's dry-run, alternating, so both see the same load.
  const roots = [here, ...(values.compare ? [values.compare.replace(/\/$/, "")] : [])];
  try {
    console.error(`making ${stacks} stacks ...`);
    await makeStacks(stacks);
    const times = roots.map(() => ({ dry: [] as number[], startup: [] as number[], units: 0 }));
    for (let i = 0; i < runs; i++) {
      for (const [k, root] of roots.entries()) {
        const r = await timeCli(root, ["dry-run", "--json"], env.env);
        times[k].dry.push(r.ms);
        times[k].units = JSON.parse(r.stdout).units.length;
        // The same command with nothing but start-up: what the Deno process itself costs.
        times[k].startup.push((await timeCli(root, ["version"], env.env)).ms);
      }
    }
    const loaded: LoadedConfig = {
      config: configSchema.parse({ backup: { stop_timeout: 5 } }),
      paths: resolvePaths({ uid: Deno.uid() ?? 0, env: (n) => env.env[n] }),
    };
    const inProcess: Awaited<ReturnType<typeof phases>>[] = [];
    for (let i = 0; i < runs; i++) inProcess.push(await phases(loaded));
    const load = new TextDecoder().decode(
      (await new Deno.Command("uptime").output()).stdout,
    ).trim().replace(/^.*load/, "load");
    const p = inProcess[inProcess.length - 1];
    const steps = Object.keys(p.laps).map((n) =>
      `${n} ${ms(median(inProcess.map((x) => x.laps[n])))}`
    ).join(", ");
    const rows: string[] = [];
    for (const [k, root] of roots.entries()) {
      const dirty = (await git(root, "status", "--porcelain", "--untracked-files=no"))
        ? "+changes"
        : "";
      const rev = ((await git(root, "rev-parse", "--short", "HEAD")) || root) + dirty;
      const mine = k === 0;
      rows.push(
        `| ${rev}${
          mine && values.note ? ` (${values.note})` : ""
        } | ${stacks} | ${p.containers} | ${times[k].units} | ${ms(median(times[k].dry))} | ${
          ms(median(times[k].startup))
        } | ${ms(median(times[k].dry) - median(times[k].startup))} | ${
          mine ? ms(median(inProcess.map((x) => x.totalMs))) : ""
        } | ${mine ? ms(median(inProcess.map((x) => x.gatherMs))) : ""} | ${
          mine ? p.engineCalls : ""
        } | ${mine ? p.processes : ""} | ${mine ? steps : ""} | ${load} |`,
      );
    }
    console.log(rows.join("\n"));
    let text = "";
    try {
      text = await Deno.readTextFile(values.out);
    } catch {
      text = `# dry-run of a host with many small stacks (bench/dry_run.ts)

Each row is one checkout in one run of \`deno run -P=test bench/dry_run.ts [--compare DIR]\`: N
compose stacks (one busybox service, a named volume, a bind mount) on the shared Engine, medians of
${runs} runs. With \`--compare\`, the two checkouts' commands alternate, so both see the same load.
"dry-run" is the whole \`stowage dry-run --json\` command (Deno start-up included); "start-up" is
\`stowage version\`, the floor of any command; "beyond start-up" the difference. "in process" is
\`buildDryRun\` alone (this checkout), "gatherState" its Engine listing; "Engine calls" and
"processes" count the port calls buildDryRun makes after its listing; "steps" times its steps one
by one (the Engine listing with discovery, \`du\`, mount checks, the mount lookup, the layer-write
check). Containers: all on the Engine (other test runs share it). The machine is shared (load is shown): compare rows of one run, not
absolute numbers.

| checkout | stacks | containers | units | dry-run | start-up | beyond start-up | in process | gatherState | Engine calls | processes | steps | load |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
`;
    }
    // New rows go at the end of the table (notes may follow it), before the first line after it.
    const lines = text.trimEnd().split("\n");
    const header = lines.findIndex((l) => l.startsWith("| checkout"));
    if (header < 0) throw new Error(`${values.out} has no '| checkout' table to add rows to`);
    let end = header;
    while (end + 1 < lines.length && lines[end + 1].startsWith("|")) end++;
    lines.splice(end + 1, 0, ...rows);
    await writeReport(values.out, lines.join("\n") + "\n");
  } finally {
    await cleanupDocker();
    await Deno.remove(env.dir, { recursive: true }).catch(() => {});
  }
}
