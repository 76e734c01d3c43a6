/**
 * Test helpers for the real Docker Engine. Every object a test creates carries the label
 * `stowage.test=<run id>` and a name starting with the run's prefix, so cleanup removes exactly
 * what this run made and nothing else.
 */

export const TEST_IMAGE = "stowage-test/busybox:1";
export const RUN_ID = Deno.env.get("STOWAGE_TEST_RUN") ?? crypto.randomUUID().slice(0, 8);
export const TEST_LABEL = `stowage.test=${RUN_ID}`;

export interface Sh {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command and returns its output; throws with stderr when `check` and it failed. */
export async function sh(
  cmd: string,
  args: string[],
  opts: { check?: boolean; cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): Promise<Sh> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const res = {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
  if ((opts.check ?? true) && res.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${res.code}): ${res.stderr || res.stdout}`);
  }
  return res;
}

export const docker = (...args: string[]) => sh("docker", args);

/** A name unique to this run: `st<run>-<what>`. */
export function testName(what: string): string {
  return `st${RUN_ID}-${what}`.toLowerCase();
}

/**
 * Builds the busybox test image with `docker import` (no registry is reachable). busybox `sh`
 * traps nothing as PID 1, so containers run with an init (compose `init: true` or `--init`).
 */
export async function ensureTestImage(): Promise<string> {
  const have = await sh("docker", ["image", "inspect", TEST_IMAGE], { check: false });
  if (have.code === 0) return TEST_IMAGE;
  const root = await Deno.makeTempDir({ prefix: "stowage-img-" });
  try {
    await Deno.mkdir(`${root}/bin`, { recursive: true });
    for (const d of ["tmp", "etc", "data", "var/www", "proc", "sys", "dev"]) {
      await Deno.mkdir(`${root}/${d}`, { recursive: true });
    }
    await Deno.copyFile("/bin/busybox", `${root}/bin/busybox`);
    await Deno.chmod(`${root}/bin/busybox`, 0o755);
    const list = (await sh("/bin/busybox", ["--list"])).stdout.trim().split("\n");
    for (const name of list) {
      if (name !== "busybox") await Deno.symlink("busybox", `${root}/bin/${name}`);
    }
    await Deno.writeTextFile(
      `${root}/etc/passwd`,
      "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1000:app:/:/bin/sh\n",
    );
    await Deno.writeTextFile(`${root}/etc/group`, "root:x:0:\nnogroup:x:65534:\napp:x:1000:\n");
    const tar = `${root}.tar`;
    await sh("tar", ["-C", root, "-cf", tar, "."]);
    await sh("docker", [
      "import",
      "--change",
      'CMD ["sleep","infinity"]',
      "--change",
      "ENV PATH=/bin",
      tar,
      TEST_IMAGE,
    ]);
    await Deno.remove(tar);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
  return TEST_IMAGE;
}

/**
 * A running standalone container of this run (a unit of its own for stowage), named
 * `testName(what)`, with an init so stops are quick. Removed by cleanupDocker().
 */
export async function runTestContainer(what: string): Promise<string> {
  const name = testName(what);
  const image = await ensureTestImage();
  await docker("run", "-d", "--init", "--name", name, "--label", TEST_LABEL, image, "sleep", "1d");
  return name;
}

/** Removes every container, volume and network labelled with this run (or with `label`). */
export async function cleanupDocker(label = TEST_LABEL) {
  const ids = (await docker("ps", "-aq", "--filter", `label=${label}`)).stdout.trim().split("\n")
    .filter(Boolean);
  if (ids.length) await sh("docker", ["rm", "-f", "-v", ...ids], { check: false });
  const vols = (await docker("volume", "ls", "-q", "--filter", `label=${label}`)).stdout.trim()
    .split("\n").filter(Boolean);
  if (vols.length) await sh("docker", ["volume", "rm", "-f", ...vols], { check: false });
  const nets = (await docker("network", "ls", "-q", "--filter", `label=${label}`)).stdout.trim()
    .split("\n").filter(Boolean);
  if (nets.length) await sh("docker", ["network", "rm", ...nets], { check: false });
}

/**
 * Removes a compose project's containers (with their anonymous volumes), volumes and networks,
 * found by the `com.docker.compose.project` label that docker-compose puts on each: what
 * `docker-compose down -v --remove-orphans` removes, through the docker CLI (measured: 0.06 s of
 * CPU instead of 0.66 s for a docker-compose process). Containers are killed, not stopped, so it is
 * for tearing a stack down, not for testing a stop.
 */
export async function removeComposeProject(project: string) {
  await cleanupDocker(`com.docker.compose.project=${project}`);
}

/** The third octets of the 10.213.X.0/24 subnets some network on this Engine already uses. */
function subnetsInUse(): Set<number> {
  const run = (args: string[]) =>
    new TextDecoder().decode(
      new Deno.Command("docker", { args, stdin: "null", stdout: "piped", stderr: "null" })
        .outputSync().stdout,
    );
  const ids = run(["network", "ls", "-q"]).trim().split("\n").filter(Boolean);
  if (ids.length === 0) return new Set();
  // A network removed meanwhile makes inspect fail for it only; the others still print.
  const subnets = run([
    "network",
    "inspect",
    "-f",
    "{{range .IPAM.Config}}{{.Subnet}} {{end}}",
    ...ids,
  ]);
  return new Set(
    [...subnets.matchAll(/\b10\.213\.(\d+)\.0\/\d+/g)].map((m) => Number(m[1])),
  );
}

/**
 * Where this test process reserves 10.213.X.0/24 subnets, one empty file per octet. `deno test
 * --parallel` runs every file of a run in one process (one pid), so the folder is per run;
 * folders of runs whose process has exited are removed.
 */
const SUBNET_ROOT = "/tmp/stowage-test-subnets";
let subnetDir: string | undefined;

function reservations(): string {
  if (subnetDir) return subnetDir;
  Deno.mkdirSync(SUBNET_ROOT, { recursive: true });
  for (const e of Deno.readDirSync(SUBNET_ROOT)) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    // Whether that test process still runs: /proc itself needs --allow-all under Deno (a failed
    // stat there removed every other live run's reservations), ps reads it for us.
    const alive = new Deno.Command("ps", { args: ["-p", e.name], stdout: "null", stderr: "null" })
      .outputSync().success;
    if (!alive) {
      // Another file of this run may be removing it at the same time.
      try {
        Deno.removeSync(`${SUBNET_ROOT}/${e.name}`, { recursive: true });
      } catch { /* already gone */ }
    }
  }
  subnetDir = `${SUBNET_ROOT}/${Deno.pid}`;
  Deno.mkdirSync(subnetDir, { recursive: true });
  return subnetDir;
}

/**
 * Reserves octet `x` for the rest of this run: the file is created atomically, so two test files
 * running in parallel never get the same subnet, even before either has created its network or
 * while a stack is down and its network is gone.
 */
function reserveSubnet(x: number): boolean {
  const dir = reservations();
  for (let attempt = 0;; attempt++) {
    try {
      Deno.openSync(`${dir}/${x}`, { write: true, createNew: true }).close();
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) return false;
      // A run with an older sweep removed this run's folder: make it again.
      if (!(e instanceof Deno.errors.NotFound) || attempt > 0) throw e;
      Deno.mkdirSync(dir, { recursive: true });
    }
  }
}

/**
 * A /24 inside 10.213.0.0/16 for a test network: random among the ones no network on the Engine
 * uses and no other test process has reserved, so test files running in parallel (and other runs
 * on the host) do not collide.
 */
export function testSubnet(): { subnet: string; gateway: string; prefix: string } {
  const used = subnetsInUse();
  const free = Array.from({ length: 250 }, (_, i) => i + 1).filter((x) => !used.has(x));
  while (free.length > 0) {
    const x = free.splice(Math.floor(Math.random() * free.length), 1)[0];
    if (reserveSubnet(x)) {
      return { subnet: `10.213.${x}.0/24`, gateway: `10.213.${x}.1`, prefix: `10.213.${x}` };
    }
  }
  throw new Error(
    `no free 10.213.X.0/24 test subnet: remove old test networks`,
  );
}

export interface ContainerEvent {
  action: string;
  /** Container name. */
  name: string;
  timeNano: bigint;
}

/**
 * What the Engine itself saw happen to containers between `since` and `until` (`docker events`,
 * which returns at once for a past `until`), oldest first. `filters`: `docker events --filter`
 * values, e.g. `label=com.docker.compose.project=NAME`, `event=stop` (same keys OR, different
 * keys AND). Use it to prove stop/start order and restarts from the Engine rather than from
 * stowage's own report.
 */
export async function containerEvents(
  since: Date,
  until: Date,
  filters: string[],
): Promise<ContainerEvent[]> {
  const secs = (d: Date) => (d.getTime() / 1000).toFixed(3);
  const out = await docker(
    "events",
    "--since",
    secs(since),
    "--until",
    secs(until),
    "--filter",
    "type=container",
    ...filters.flatMap((f) => ["--filter", f]),
    "--format",
    "{{.Action}} {{.TimeNano}} {{.Actor.Attributes.name}}",
  );
  return out.stdout.trim().split("\n").filter(Boolean).map((line) => {
    const [action, nano, name] = line.split(" ");
    return { action, name, timeNano: BigInt(nano) };
  });
}
