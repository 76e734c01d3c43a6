/**
 * A real Azure Blob Storage server for tests of `azure:` locations: Microsoft's emulator Azurite
 * (npm `azurite` 3.34.0, its blob service) under Node.
 *
 * restic 0.14 takes no Azure endpoint: it reads only AZURE_ACCOUNT_NAME, AZURE_ACCOUNT_KEY and
 * AZURE_ACCOUNT_SAS and builds `https://ACCOUNT.blob.core.windows.net/` itself. Its Azure SDK
 * makes one exception: the emulator's well-known account `devstoreaccount1` is reached at
 * `http://127.0.0.1:10000/devstoreaccount1/`, where Azurite listens. So the port is fixed, and
 * test files that start Azurite take turns through an exclusive lock on a file.
 *
 * Azurite runs with telemetry off (`--disableTelemetry`: it would otherwise try to reach a
 * telemetry host outside this machine). It is installed by `scripts/install-deps.sh --tests`
 * into /opt/stowage-test/azurite (`STOWAGE_TEST_AZURITE` overrides); a missing one or a missing
 * `node` fails the test.
 */

export interface TestAzureServer {
  dir: string;
  /** What restic needs in its environment: the emulator's account name and key. */
  env: Record<string, string>;
  /** `azure:stowage-test:/<name>`. */
  location(name: string): string;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export const AZURITE_HOME = Deno.env.get("STOWAGE_TEST_AZURITE") ?? "/opt/stowage-test/azurite";

/** The Azure Storage emulator's published account and key (not a secret). */
const EMULATOR_ACCOUNT = "devstoreaccount1";
const EMULATOR_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const LOCK = "/tmp/stowage-test-azurite.lock";

export async function startAzureServer(dir: string): Promise<TestAzureServer> {
  const main = `${AZURITE_HOME}/node_modules/azurite/dist/src/blob/main.js`;
  try {
    await Deno.stat(main);
  } catch {
    throw new Error(
      `azurite is not installed at ${AZURITE_HOME} (run: bash scripts/install-deps.sh --tests)`,
    );
  }
  const lock = await Deno.open(LOCK, { create: true, write: true });
  await lock.lock(true);
  const data = `${dir}/azurite-data`;
  await Deno.mkdir(data, { recursive: true });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("node", {
      args: [
        main,
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        "10000",
        "--location",
        data,
        "--disableTelemetry",
        "--skipApiVersionCheck",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    await lock.unlock();
    lock.close();
    throw new Error(`cannot start node for azurite (apt-get install nodejs): ${e}`);
  }
  // "Azurite Blob service successfully listens on http://127.0.0.1:10000"
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const seen: string[] = [];
  let up = false;
  let buf = "";
  while (!up) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const l of lines) {
      seen.push(l);
      if (/successfully listens on http:\/\/127\.0\.0\.1:10000/.test(l)) up = true;
    }
  }
  const drain = async (r: ReadableStreamDefaultReader<unknown>) => {
    try {
      while (!(await r.read()).done) { /* discard */ }
    } catch { /* killed */ }
  };
  // stderr is kept (bounded): it says why azurite did not start, e.g. EADDRINUSE.
  let stderr = "";
  const keepStderr = async () => {
    try {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        if (stderr.length < 8192) stderr += chunk;
      }
    } catch { /* killed */ }
  };
  const drained = Promise.all([drain(reader), keepStderr()]);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
    await drained;
    await lock.unlock();
    lock.close();
  };
  if (!up) {
    await stop();
    const busy = /EADDRINUSE/.test(stderr)
      ? "\nPort 10000 is taken: an azurite left over from an interrupted test run? (ss -ltnp | grep :10000)"
      : "";
    throw new Error(
      `azurite did not start on 127.0.0.1:10000:\n${[...seen, stderr].join("\n")}${busy}`,
    );
  }
  return {
    dir: data,
    env: { AZURE_ACCOUNT_NAME: EMULATOR_ACCOUNT, AZURE_ACCOUNT_KEY: EMULATOR_KEY },
    location: (name) => `azure:stowage-test:/${name}`,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
