/**
 * The Engine adapter against the real dockerd: every object here is created by this file, named
 * with testName() and labelled TEST_LABEL, and removed by name at the end of its test.
 */
import assert from "node:assert/strict";
import { EngineClient } from "../adapters/docker/engine.ts";
import { isStowageError } from "../core/errors.ts";
import { waitFor } from "./support/service.ts";
import {
  docker,
  ensureTestImage,
  sh,
  TEST_IMAGE,
  TEST_LABEL,
  testName,
  testSubnet,
} from "./support/docker.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const [LABEL_KEY, LABEL_VALUE] = TEST_LABEL.split("=");

async function runContainer(what: string): Promise<string> {
  await ensureTestImage();
  const name = testName(what);
  await docker("run", "-d", "--init", "--label", TEST_LABEL, "--name", name, TEST_IMAGE);
  return name;
}

const removeContainer = (name: string) => sh("docker", ["rm", "-f", "-v", name], { check: false });

/** Asserts a promise rejects with a StowageError of `code` whose message matches. */
async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(p, (e) => {
    assert.ok(isStowageError(e), `expected a StowageError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    assert.ok(e.hint, "a hint");
    return true;
  });
}

Deno.test("negotiates the API version with the running engine", async () => {
  using engine = EngineClient.fromConfig(undefined);
  const v = await engine.version();
  assert.match(v.ApiVersion, /^1\.\d+$/);
  const expected = Number(v.ApiVersion.split(".")[1]) > 43 ? "1.43" : v.ApiVersion;
  assert.equal(await engine.apiVersion(), expected);
  assert.equal(
    EngineClient.fromConfig("unix:///var/run/docker.sock").socketPath,
    "/var/run/docker.sock",
  );
});

Deno.test("stop and start, and both again, are fine", async () => {
  const name = await runContainer("stopstart");
  using engine = EngineClient.fromConfig(undefined);
  try {
    await engine.stopContainer(name, 5);
    assert.equal((await engine.inspectContainer(name)).State.Running, false);
    await engine.stopContainer(name, 5); // 304 from the engine: already stopped
    await engine.startContainer(name);
    const c = await engine.inspectContainer(name);
    assert.equal(c.State.Running, true);
    assert.equal(c.Name, `/${name}`);
    assert.equal(c.Config.Labels?.[LABEL_KEY], LABEL_VALUE);
    await engine.startContainer(name); // 304: already running
    assert.equal((await engine.inspectContainer(name)).State.Status, "running");
  } finally {
    await removeContainer(name);
  }
});

Deno.test("missing objects are engine.notfound naming the object", async () => {
  using engine = EngineClient.fromConfig(undefined);
  const missing = testName("does-not-exist");
  await rejectsWith(
    engine.inspectContainer(missing),
    "engine.notfound",
    new RegExp(`inspect container '${missing}'.*No such container`),
  );
  await rejectsWith(
    engine.stopContainer(missing, 1),
    "engine.notfound",
    new RegExp(`stop container '${missing}'`),
  );
  await rejectsWith(
    engine.startContainer(missing),
    "engine.notfound",
    new RegExp(`start container '${missing}'`),
  );
  await rejectsWith(
    engine.inspectVolume(missing),
    "engine.notfound",
    new RegExp(`inspect volume '${missing}'`),
  );
  await rejectsWith(
    engine.removeVolume(missing),
    "engine.notfound",
    new RegExp(`remove volume '${missing}'`),
  );
  await rejectsWith(
    engine.inspectNetwork(missing),
    "engine.notfound",
    new RegExp(`inspect network '${missing}'`),
  );
  await rejectsWith(
    engine.getArchive(missing, "/etc"),
    "engine.notfound",
    new RegExp(`container '${missing}'`),
  );
  await rejectsWith(
    engine.exec(missing, ["true"]),
    "engine.notfound",
    new RegExp(`container '${missing}'`),
  );
  await rejectsWith(
    engine.createContainer(testName("noimage"), {
      Image: "stowage-test/not-an-image:0",
      Labels: { [LABEL_KEY]: LABEL_VALUE },
    }),
    "engine.notfound",
    /No such image/,
  );
});

Deno.test("getArchive streams a tar of a file; putArchive extracts one", async () => {
  const name = await runContainer("archive");
  using engine = EngineClient.fromConfig(undefined);
  const dir = await Deno.makeTempDir({ prefix: "stowage-archive-" });
  try {
    const w = await engine.exec(name, [
      "sh",
      "-c",
      "mkdir -p /data && printf 'hello archive' > /data/greeting.txt",
    ]);
    assert.equal(w.exitCode, 0, w.stderr);
    const stream = await engine.getArchive(name, "/data/greeting.txt");
    const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    await Deno.writeFile(`${dir}/got.tar`, bytes);
    assert.equal((await sh("tar", ["-tf", `${dir}/got.tar`])).stdout.trim(), "greeting.txt");
    assert.equal(
      (await sh("tar", ["-xOf", `${dir}/got.tar`, "greeting.txt"])).stdout,
      "hello archive",
    );

    await rejectsWith(
      engine.getArchive(name, "/no/such/path"),
      "engine.notfound",
      /read '\/no\/such\/path'/,
    );

    // putArchive from bytes and from a stream.
    await Deno.mkdir(`${dir}/src`);
    await Deno.writeTextFile(`${dir}/src/put.txt`, "put via bytes");
    await sh("tar", ["-C", `${dir}/src`, "-cf", `${dir}/put.tar`, "put.txt"]);
    await engine.putArchive(name, "/tmp", await Deno.readFile(`${dir}/put.tar`));
    await Deno.writeTextFile(`${dir}/src/put.txt`, "put via stream");
    await sh("tar", ["-C", `${dir}/src`, "-cf", `${dir}/put.tar`, "put.txt"]);
    await engine.putArchive(name, "/data", (await Deno.open(`${dir}/put.tar`)).readable);
    const cat = await engine.exec(name, ["cat", "/tmp/put.txt", "/data/put.txt"]);
    assert.equal(cat.stdout, "put via bytesput via stream");
  } finally {
    await removeContainer(name);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exec returns stdout, stderr and the exit code; user and env apply; abort stops waiting", async () => {
  const name = await runContainer("exec");
  using engine = EngineClient.fromConfig(undefined);
  try {
    const r = await engine.exec(name, ["sh", "-c", "echo out; echo err >&2; echo more; exit 3"]);
    assert.deepEqual(r, { exitCode: 3, stdout: "out\nmore\n", stderr: "err\n" });
    const ok = await engine.exec(name, ["sh", "-c", 'id -u; echo "$FOO"'], {
      user: "65534",
      env: ["FOO=bar baz"],
    });
    assert.deepEqual(ok, { exitCode: 0, stdout: "65534\nbar baz\n", stderr: "" });
    // Large output crosses many frames and chunks.
    const big = await engine.exec(name, ["sh", "-c", "seq 1 20000"]);
    assert.equal(big.stdout.split("\n").length, 20001);
    assert.equal(big.stdout.split("\n")[19999], "20000");

    const ctl = new AbortController();
    const pending = engine.exec(name, ["sh", "-c", "touch /tmp/started; exec sleep 300"], {
      signal: ctl.signal,
    });
    // Abort only once the command runs, so the attach stream is what gets closed.
    await waitFor(
      "the command to run",
      async () => (await engine.exec(name, ["test", "-f", "/tmp/started"])).exitCode === 0,
    );
    ctl.abort(new Error("hook timed out"));
    await assert.rejects(pending, /hook timed out/);

    await engine.stopContainer(name, 1);
    await rejectsWith(engine.exec(name, ["true"]), "engine.error", /is not running/);
  } finally {
    await removeContainer(name);
  }
});

Deno.test("execWithStdin delivers every byte of stdin, from the first, already there when the exec starts", async () => {
  const name = await runContainer("stdin");
  using engine = EngineClient.fromConfig(undefined);
  try {
    // The stream has its bytes ready at once (as a dump read from restic has): the engine drops
    // what arrives before it hijacks the connection, so the first bytes are the ones at risk.
    for (let round = 0; round < 20; round++) {
      const lines = Array.from({ length: 2000 }, (_, i) => `line ${round}.${i}`).join("\n") + "\n";
      const bytes = new TextEncoder().encode(lines);
      const stdin = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(bytes.subarray(0, 100));
          c.enqueue(bytes.subarray(100));
          c.close();
        },
      });
      const r = await engine.execWithStdin(name, ["sh", "-c", "cat | md5sum; wc -c"], stdin);
      const want = (await sh("sh", ["-c", `printf '%s' "$0" | md5sum`, lines])).stdout;
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout.split("\n")[0].split(" ")[0], want.split(" ")[0], `round ${round}`);
    }
  } finally {
    await removeContainer(name);
  }
});

Deno.test("containers: create, list by label, remove", async () => {
  await ensureTestImage();
  using engine = EngineClient.fromConfig(undefined);
  const name = testName("created");
  try {
    const id = await engine.createContainer(name, {
      Image: TEST_IMAGE,
      Cmd: ["sleep", "1000"],
      Labels: { [LABEL_KEY]: LABEL_VALUE, "stowage.test.kind": "created" },
      HostConfig: { Init: true },
    });
    assert.match(id, /^[0-9a-f]{64}$/);
    await rejectsWith(
      engine.createContainer(name, { Image: TEST_IMAGE }),
      "engine.error",
      /create container .*already in use/,
    );
    await engine.startContainer(name);
    const listed = await engine.listContainers({
      label: [TEST_LABEL, "stowage.test.kind=created"],
    });
    assert.deepEqual(listed.map((c) => c.Id), [id]);
    assert.equal(listed[0].State.Running, true);
    assert.ok(Array.isArray(listed[0].Mounts), "listContainers returns full inspect data");
    const images = await engine.listImages();
    assert.ok(images.some((i) => i.Id === listed[0].Image));
    await engine.removeContainer(name, { force: true, volumes: true });
    await rejectsWith(engine.inspectContainer(name), "engine.notfound", /No such container/);
  } finally {
    await removeContainer(name);
  }
});

Deno.test("volumes and networks: create, inspect, connect with a fixed address, conflicts, remove", async () => {
  const ctr = await runContainer("netvol");
  using engine = EngineClient.fromConfig(undefined);
  const volName = testName("vol");
  const netName = testName("net");
  const net = testSubnet();
  try {
    const v = await engine.createVolume({ Name: volName, Labels: { [LABEL_KEY]: LABEL_VALUE } });
    assert.equal(v.Name, volName);
    assert.equal(v.Driver, "local");
    assert.equal(
      (await engine.inspectVolume(volName)).Mountpoint,
      `/var/lib/docker/volumes/${volName}/_data`,
    );
    assert.ok((await engine.listVolumes()).some((x) => x.Name === volName));

    const id = await engine.createNetwork({
      Name: netName,
      Driver: "bridge",
      Attachable: true,
      IPAM: { Driver: "default", Config: [{ Subnet: net.subnet, Gateway: net.gateway }] },
      Labels: { [LABEL_KEY]: LABEL_VALUE },
    });
    await rejectsWith(
      engine.createNetwork({ Name: netName, Labels: { [LABEL_KEY]: LABEL_VALUE } }),
      "engine.error",
      new RegExp(`create network '${netName}'.*already exists`),
    );
    await engine.connectNetwork(netName, ctr, {
      IPAMConfig: { IPv4Address: `${net.prefix}.20` },
      Aliases: ["fixed"],
    });
    const inspected = await engine.inspectNetwork(netName);
    assert.equal(inspected.Id, id);
    assert.deepEqual(inspected.IPAM.Config, [{ Subnet: net.subnet, Gateway: net.gateway }]);
    const attached = Object.values(inspected.Containers ?? {});
    assert.deepEqual(attached.map((c) => [c.Name, c.IPv4Address]), [[ctr, `${net.prefix}.20/24`]]);
    assert.ok((await engine.listNetworks()).some((n) => n.Name === netName));
    await rejectsWith(
      engine.removeNetwork(netName),
      "engine.error",
      new RegExp(`remove network '${netName}'.*active endpoints`),
    );

    await removeContainer(ctr);
    await engine.removeNetwork(netName);
    await engine.removeVolume(volName);
    await rejectsWith(engine.inspectVolume(volName), "engine.notfound", /no such volume/);
  } finally {
    await removeContainer(ctr);
    await sh("docker", ["network", "rm", netName], { check: false });
    await sh("docker", ["volume", "rm", "-f", volName], { check: false });
  }
});

// ---------------------------------------------------------------------------------------------
// Sockets that do not answer, run in a child process: Deno checks net permission per socket path
// (`unix:PATH`), and the permission case needs a user other than root.

const PROBE = `import { EngineClient } from ${
  JSON.stringify(new URL("adapters/docker/engine.ts", `file://${ROOT}`).href)
};
const engine = EngineClient.fromConfig(Deno.args[0]);
try {
  const s = await engine.gatherState();
  console.log(JSON.stringify({ ok: true, containers: s.containers.map((c) => c.Name.slice(1)) }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, code: e.code, message: e.message, hint: e.hint }));
} finally {
  engine.close();
}
`;

interface ProbeResult {
  ok: boolean;
  code?: string;
  message?: string;
  hint?: string;
  containers?: string[];
}

async function probe(
  dir: string,
  host: string,
  flags: string[],
  opts: { asUser?: number } = {},
): Promise<ProbeResult> {
  const script = `${dir}/probe.ts`;
  await Deno.writeTextFile(script, PROBE);
  const deno = ["deno", "run", "--quiet", "--no-prompt", ...flags, script, host];
  const cmd = opts.asUser === undefined ? deno : [
    "setpriv",
    `--reuid=${opts.asUser}`,
    `--regid=${opts.asUser}`,
    "--clear-groups",
    "env",
    `HOME=${dir}`,
    `DENO_DIR=${dir}/deno-dir`,
    ...deno,
  ];
  const out = await sh(cmd[0], cmd.slice(1), {
    check: false,
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  });
  const line = out.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`probe printed no result (exit ${out.code}): ${out.stderr}${out.stdout}`);
  }
}

Deno.test("a missing socket or one nobody listens on gives engine.unavailable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-sock-" });
  try {
    const missing = `${dir}/missing.sock`;
    const r = await probe(dir, `unix://${missing}`, [
      `--allow-read`,
      `--allow-write=${missing}`,
      `--allow-net=localhost,unix:${missing}`,
    ]);
    assert.equal(r.code, "engine.unavailable", JSON.stringify(r));
    assert.equal(
      r.message,
      `Cannot reach the Docker Engine at ${missing}: the socket does not exist`,
    );
    assert.match(r.hint!, /systemctl start docker/);

    const dead = `${dir}/dead.sock`;
    await Deno.writeTextFile(dead, "");
    const d = await probe(dir, `unix://${dead}`, [
      `--allow-read`,
      `--allow-write=${dead}`,
      `--allow-net=localhost,unix:${dead}`,
    ]);
    assert.equal(d.code, "engine.unavailable", JSON.stringify(d));
    assert.match(d.message!, /connection refused/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a socket outside the permission set: missing is unavailable, present is not permitted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-notallowed-" });
  try {
    using missing = EngineClient.fromConfig(`unix://${dir}/missing.sock`);
    await rejectsWith(
      missing.version(),
      "engine.unavailable",
      /missing\.sock: the socket does not exist/,
    );
    await Deno.writeTextFile(`${dir}/other.sock`, "");
    using other = EngineClient.fromConfig(`unix://${dir}/other.sock`);
    await rejectsWith(other.version(), "engine.permission", /other\.sock: not permitted/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// Needs root to run the probe as another user (uid 65534). Not applicable otherwise, and then
// reported as ignored with the reason in its name; CI runs as root, so there it always runs.
const notRoot = Deno.uid() !== 0;
Deno.test({
  name: `a socket the user may not open gives engine.permission${
    notRoot ? " [ignored: needs root to run the probe as uid 65534]" : ""
  }`,
  ignore: notRoot,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-perm-" });
  await Deno.chmod(dir, 0o755);
  const path = `${dir}/engine.sock`;
  // A listening socket with mode 000 (socat: Deno.listen would need net permission for it).
  const socat = new Deno.Command("socat", {
    args: [`UNIX-LISTEN:${path},mode=000,fork`, "EXEC:/bin/true"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // socat binds, then sets the mode: wait for both.
    const ready = () =>
      Deno.stat(path).then((s) => s.isSocket === true && (s.mode! & 0o777) === 0, () => false);
    await waitFor("socat's socket with mode 000", ready);
    await Deno.mkdir(`${dir}/deno-dir`);
    await sh("chown", ["65534:65534", `${dir}/deno-dir`]);
    const r = await probe(dir, `unix://${path}`, [
      `--allow-read`,
      `--allow-write`,
      `--allow-env`,
      `--allow-net=localhost,unix:${path}`,
    ], {
      asUser: 65534,
    });
    assert.equal(r.code, "engine.permission", JSON.stringify(r));
    assert.equal(r.message, `Cannot reach the Docker Engine at ${path}: permission denied`);
    assert.match(r.hint!, /root|docker group/);
  } finally {
    socat.kill("SIGTERM");
    await socat.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the adapter works under the CLI's own permission set (-P=stowage)", async () => {
  const name = await runContainer("permset");
  const dir = await Deno.makeTempDir({ prefix: "stowage-permset-" });
  try {
    const r = await probe(dir, "unix:///var/run/docker.sock", [
      "-P=stowage",
      `--config=${ROOT}deno.json`,
    ]);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.ok(r.containers!.includes(name), `${name} in ${r.containers}`);
  } finally {
    await removeContainer(name);
    await Deno.remove(dir, { recursive: true });
  }
});
