/**
 * A real restic REST server on 127.0.0.1 (`rclone serve restic`, Debian's rclone) that demands
 * basic auth (unless `auth: false`; `appendOnly` refuses every deletion but of locks), for tests of repository locations that carry credentials
 * (`rest:http://user:password@host:port/`). The password lives in an htpasswd file, so it is in
 * no process's argv but restic's own, if stowage put it there. rclone must be installed: a missing
 * rclone fails the test (install it with `apt-get install rclone`).
 */
import { readAnnouncement } from "./announce.ts";

export interface TestRestServer {
  port: number;
  /** Folder the server stores repositories in. */
  dir: string;
  user: string;
  password: string;
  /** `rest:http://USER:PASSWORD@127.0.0.1:PORT/<name>/`. */
  location(name: string): string;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startRestServer(
  dir: string,
  /** `port`: bind this one (a server stopped and started again at the same address). */
  opts: { auth?: boolean; appendOnly?: boolean; port?: number; password?: string } = {},
): Promise<TestRestServer> {
  const auth = opts.auth ?? true;
  const user = "stowage";
  const password = opts.password ?? "fake-rest-pass-" + crypto.randomUUID().slice(0, 8);
  const hash = await new Deno.Command("openssl", {
    args: ["passwd", "-apr1", "-stdin"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = hash.stdin.getWriter();
  await w.write(new TextEncoder().encode(password + "\n"));
  await w.close();
  const hashed = await hash.output();
  if (!hashed.success) throw new Error("openssl passwd failed");
  const htpasswd = `${dir}/htpasswd`;
  await Deno.writeTextFile(
    htpasswd,
    `${user}:${new TextDecoder().decode(hashed.stdout).trim()}\n`,
    { mode: 0o600 },
  );
  const data = `${dir}/rest-data`;
  await Deno.mkdir(data, { recursive: true });

  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("rclone", {
      args: [
        "serve",
        "restic",
        "--addr",
        `127.0.0.1:${opts.port ?? 0}`,
        ...(auth ? ["--htpasswd", htpasswd] : []),
        ...(opts.appendOnly ? ["--append-only"] : []),
        data,
      ],
      env: { RCLONE_CONFIG: `${dir}/rclone.conf` },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    throw new Error(`cannot start rclone (apt-get install rclone): ${e}`);
  }
  // rclone announces the port it bound: "Serving restic REST API on http://127.0.0.1:PORT/".
  const server = await readAnnouncement(
    child,
    child.stderr,
    /Serving restic REST API on http:\/\/127\.0\.0\.1:(\d+)\//,
  );
  if (!server.match) {
    await server.stop();
    throw new Error(`rclone serve restic did not start:\n${server.seen.join("\n")}`);
  }
  const p = Number(server.match[1]);
  const stop = server.stop;
  return {
    port: p,
    dir: data,
    user,
    password,
    location: (name) => `rest:http://${auth ? `${user}:${password}@` : ""}127.0.0.1:${p}/${name}/`,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
