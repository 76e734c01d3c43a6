/**
 * Helpers for the service tests: a real SOCK_DGRAM listener (python3) standing in for systemd's
 * notify socket or journald's socket, and the daemon spawned as a real process under the stowage
 * permission set (plus only the test's own socket paths, which stand in for /run/systemd/notify,
 * /run/systemd/journal/socket and /run/stowage/notify.sock).
 */
import { netFlagWith } from "./cli.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

const LISTENER = `
import base64, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("LISTENING", flush=True)
while True:
    print(base64.b64encode(s.recv(1 << 20)).decode(), flush=True)
`;

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += dec.decode(chunk, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf) yield buf;
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const SEND = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(sys.argv[2].encode(), sys.argv[1])
`;

/** Every datagram that arrives at `path`, in order. */
export class DatagramListener {
  readonly datagrams: Uint8Array[] = [];
  #child: Deno.ChildProcess;
  #done: Promise<void>;
  #markers = new Map<string, () => void>();

  private constructor(readonly path: string, child: Deno.ChildProcess, ready: () => void) {
    this.#child = child;
    this.#done = (async () => {
      for await (const line of lines(child.stdout)) {
        if (line === "LISTENING") {
          ready();
          continue;
        }
        const bytes = Uint8Array.from(atob(line), (c) => c.charCodeAt(0));
        const marker = this.#markers.get(new TextDecoder().decode(bytes));
        if (marker) marker();
        else this.datagrams.push(bytes);
      }
    })();
  }

  /**
   * Returns once every datagram already sent to the socket has been read: sends a marker of its
   * own and waits for it to come through. The socket queues datagrams in order, so anything a
   * process sent before it exited is in `datagrams` afterwards (the marker itself is not).
   */
  async drain(): Promise<void> {
    const marker = `stowage-test-drain-${crypto.randomUUID()}`;
    const seen = new Promise<void>((r) => this.#markers.set(marker, r));
    const sent = await new Deno.Command("python3", {
      args: ["-c", SEND, this.path, marker],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!sent.success) {
      throw new Error(`sending the drain marker failed: ${new TextDecoder().decode(sent.stderr)}`);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        seen,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the drain marker never reached ${this.path}`)),
            30_000,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.#markers.delete(marker);
    }
  }

  static async start(path: string): Promise<DatagramListener> {
    const child = new Deno.Command("python3", {
      args: ["-c", LISTENER, path],
      stdout: "piped",
      stderr: "inherit",
      stdin: "null",
    }).spawn();
    let ready!: () => void;
    const listening = new Promise<void>((r) => (ready = r));
    const l = new DatagramListener(path, child, ready);
    await Promise.race([
      listening,
      child.status.then((s) => Promise.reject(new Error(`listener exited ${s.code}`))),
    ]);
    return l;
  }

  get messages(): string[] {
    return this.datagrams.map((d) => new TextDecoder().decode(d));
  }

  index(pred: (m: string) => boolean): number {
    return this.messages.findIndex(pred);
  }

  async stop() {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* gone */ }
    await this.#child.status;
    await this.#done.catch(() => {});
    await Deno.remove(this.path).catch(() => {});
  }
}

export interface DaemonProcess {
  child: Deno.ChildProcess;
  /** stderr so far. */
  stderr(): string;
  stdout(): string;
  /** Sends SIGTERM and waits; returns the exit code. */
  stop(): Promise<number>;
}

/**
 * Runs `stowage <args>` like tests/support/cli.ts spawnStowage does, with `extraNet` socket paths;
 * with `journal`, stderr is announced as the journal stream (JOURNAL_STREAM=dev:inode of the
 * very pipe the child writes to, as systemd sets it).
 */
export function spawnService(
  args: string[],
  opts: { env: Record<string, string>; extraNet: string[]; journal?: boolean },
): DaemonProcess {
  const deno = [
    Deno.execPath(),
    "run",
    "-P=stowage",
    ...netFlagWith(opts.extraNet),
    "--unstable-net",
    "--no-prompt",
    "--quiet",
    `${ROOT}main.ts`,
    ...args,
  ];
  const argv = opts.journal
    ? ["sh", "-c", 'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$@"', "sh", ...deno]
    : deno;
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: ROOT,
    env: { NO_COLOR: "1", ...opts.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let err = "";
  let out = "";
  const dec = new TextDecoder();
  const pumps = [
    (async () => {
      for await (const c of child.stderr) err += dec.decode(c, { stream: true });
    })(),
    (async () => {
      for await (const c of child.stdout) out += dec.decode(c, { stream: true });
    })(),
  ];
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const s = await child.status;
      await Promise.all(pumps);
      return s.code;
    },
  };
}
