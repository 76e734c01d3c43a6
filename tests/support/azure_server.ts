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
import { readAnnouncement } from "./announce.ts";

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
  // "Azurite Blob service successfully listens on http://127.0.0.1:10000". stderr says why it did
  // not, e.g. EADDRINUSE.
  const server = await readAnnouncement(
    child,
    child.stdout,
    /successfully listens on http:\/\/127\.0\.0\.1:10000/,
    child.stderr,
  );
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.stop();
    await lock.unlock();
    lock.close();
  };
  if (!server.match) {
    await stop();
    const stderr = server.other();
    const busy = /EADDRINUSE/.test(stderr)
      ? "\nPort 10000 is taken: an azurite left over from an interrupted test run? (ss -ltnp | grep :10000)"
      : "";
    throw new Error(
      `azurite did not start on 127.0.0.1:10000:\n${[...server.seen, stderr].join("\n")}${busy}`,
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
