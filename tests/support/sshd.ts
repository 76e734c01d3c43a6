/**
 * A throwaway OpenSSH server on 127.0.0.1 for SFTP repository tests: its own config, host key,
 * client key, authorized_keys and known_hosts in a temp dir, on a random free port. Started with
 * `/usr/sbin/sshd -D -f <config>` and stopped by `stop()` (also via `await using`).
 */

export interface TestSshd {
  port: number;
  dir: string;
  /** Private key the server accepts for root (mode 0600). */
  clientKey: string;
  /** known_hosts holding this server's host key as `[127.0.0.1]:PORT`. */
  knownHosts: string;
  /** Log file sshd writes (LogLevel ERROR), for failures. */
  logFile: string;
  /** `sftp://root@127.0.0.1:PORT/<path>` (absolute path on this host). */
  sftpLocation(path: string): string;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function run(cmd: string, args: string[]) {
  const out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Resolves once the port answers with an SSH banner. */
async function waitForBanner(port: number, child: Deno.ChildProcess, logFile: string) {
  let exited = false;
  child.status.then(() => exited = true);
  for (let i = 0; i < 200; i++) {
    if (exited) break;
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        const buf = new Uint8Array(64);
        const n = await conn.read(buf);
        if (n && new TextDecoder().decode(buf.subarray(0, n)).startsWith("SSH-")) return;
      } finally {
        conn.close();
      }
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = await Deno.readTextFile(logFile).catch(() => "");
  throw new Error(`test sshd on port ${port} did not start: ${log}`);
}

export async function startSshd(): Promise<TestSshd> {
  // sshd refuses to start without its privilege separation directory.
  await Deno.mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const dir = await Deno.makeTempDir({ prefix: "stowage-sshd-" });
  const hostKey = `${dir}/host_ed25519`;
  const clientKey = `${dir}/client_ed25519`;
  const knownHosts = `${dir}/known_hosts`;
  const authorized = `${dir}/authorized_keys`;
  const logFile = `${dir}/sshd.log`;
  await run("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-C",
    "stowage-test-host",
    "-f",
    hostKey,
  ]);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "stowage-test", "-f", clientKey]);
  await Deno.writeTextFile(authorized, await Deno.readTextFile(`${clientKey}.pub`), {
    mode: 0o600,
  });
  let lastError: unknown;
  // A free port can be taken between probing and binding; try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = freePort();
    const config = `${dir}/sshd_config`;
    await Deno.writeTextFile(
      config,
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${hostKey}`,
        `PidFile ${dir}/sshd.pid`,
        `AuthorizedKeysFile ${authorized}`,
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        // The temp dir is owned by root but sshd's mode checks would still object to /tmp.
        "StrictModes no",
        "Subsystem sftp internal-sftp",
        "LogLevel ERROR",
        "",
      ].join("\n"),
    );
    const child = new Deno.Command("/usr/sbin/sshd", {
      args: ["-D", "-e", "-f", config],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Keep sshd's stderr in a file so a failed start can say why.
    const logDone = (async () => {
      const f = await Deno.open(logFile, { create: true, append: true, write: true });
      try {
        for await (const chunk of child.stderr) await f.write(chunk);
      } finally {
        f.close();
      }
    })();
    try {
      await waitForBanner(port, child, logFile);
    } catch (e) {
      lastError = e;
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
      await logDone;
      continue;
    }
    const hostPub = (await Deno.readTextFile(`${hostKey}.pub`)).trim().split(" ");
    await Deno.writeTextFile(knownHosts, `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}\n`);
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await logDone;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    };
    return {
      port,
      dir,
      clientKey,
      knownHosts,
      logFile,
      sftpLocation: (path: string) => `sftp://root@127.0.0.1:${port}/${path.replace(/^\/+/, "/")}`,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  throw lastError;
}
