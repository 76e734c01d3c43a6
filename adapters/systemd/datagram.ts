/**
 * Sending datagrams to a unix SOCK_DGRAM socket (sd_notify, journald's native socket). Deno can
 * only send from a bound datagram socket (`Deno.listenDatagram`, transport "unixpacket", which
 * needs --unstable-net); `Deno.connect` and node:dgram cannot reach SOCK_DGRAM unix sockets.
 *
 * Deno checks every unix socket path against the net permission (`unix:/path`, exact paths only,
 * abstract names only with unrestricted --allow-net). So the socket we bind has a fixed name in
 * the unit's RuntimeDirectory (`$RUNTIME_DIRECTORY/notify.sock`, e.g. /run/stowage/notify.sock),
 * and the stowage permission set lists those paths and systemd's sockets. Without
 * RUNTIME_DIRECTORY we try a private temp dir, which only a wider permission set allows.
 */

export const BOUND_SOCKET_NAME = "notify.sock";

export class DatagramSender {
  #conn: Deno.DatagramConn;
  #cleanup?: string;
  #unlink?: string;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(conn: Deno.DatagramConn, cleanup?: string) {
    this.#conn = conn;
    this.#cleanup = cleanup;
  }

  /** True when this Deno was started with --unstable-net (or the API became stable). */
  static available(): boolean {
    return typeof (Deno as { listenDatagram?: unknown }).listenDatagram === "function";
  }

  /** `@name` (abstract namespace, as systemd writes it) becomes "\0name". */
  static socketAddress(path: string): string {
    return path.startsWith("@") ? "\0" + path.slice(1) : path;
  }

  /** Binds the sending socket now (throws when it cannot), so callers can fall back early. */
  static open(env: (name: string) => string | undefined): DatagramSender {
    if (!DatagramSender.available()) throw new Error("this build lacks --unstable-net");
    const runtimeDir = env("RUNTIME_DIRECTORY")?.split(":")[0];
    if (runtimeDir) {
      const path = `${runtimeDir}/${BOUND_SOCKET_NAME}`;
      // A socket file left by an earlier process of the unit (ExecStopPost runs after ExecStart).
      try {
        if (Deno.lstatSync(path).isSocket) Deno.removeSync(path);
      } catch { /* absent */ }
      const sender = new DatagramSender(Deno.listenDatagram({ transport: "unixpacket", path }));
      sender.#unlink = path;
      return sender;
    }
    const dir = Deno.makeTempDirSync({ prefix: "stowage-dgram-" });
    try {
      return new DatagramSender(
        Deno.listenDatagram({ transport: "unixpacket", path: `${dir}/${BOUND_SOCKET_NAME}` }),
        dir,
      );
    } catch (e) {
      Deno.removeSync(dir, { recursive: true });
      throw e;
    }
  }

  /** Sends one datagram; sends stay in order. Rejects when the target cannot be reached. */
  send(target: string, data: Uint8Array): Promise<void> {
    const p = this.#queue.then(async () => {
      await this.#conn.send(data, {
        transport: "unixpacket",
        path: DatagramSender.socketAddress(target),
      });
    });
    this.#queue = p.catch(() => {});
    return p;
  }

  /** Waits for queued sends. */
  async flush(): Promise<void> {
    await this.#queue;
  }

  async close(): Promise<void> {
    await this.flush();
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    if (this.#unlink) await Deno.remove(this.#unlink).catch(() => {});
    if (this.#cleanup) await Deno.remove(this.#cleanup, { recursive: true }).catch(() => {});
    this.#cleanup = undefined;
  }
}

let shared: { sender: DatagramSender; users: number } | undefined;

/**
 * One bound socket per process, shared by the notifier and the journald sink (both would bind
 * the same fixed path). Released when the last user closes it.
 */
export function acquireSender(
  env: (name: string) => string | undefined,
): { sender: DatagramSender; release(): Promise<void> } {
  if (!shared) shared = { sender: DatagramSender.open(env), users: 0 };
  shared.users++;
  const mine = shared;
  let released = false;
  return {
    sender: mine.sender,
    async release() {
      if (released) return;
      released = true;
      mine.users--;
      if (mine.users > 0) return mine.sender.flush();
      if (shared === mine) shared = undefined;
      await mine.sender.close();
    },
  };
}
