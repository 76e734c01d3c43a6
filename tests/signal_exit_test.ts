/**
 * A signal ends every command: a config that is a FIFO is refused at once instead of blocking
 * the read (and every SIGTERM) forever, and a command blocked where it cannot see the first
 * signal exits on the second.
 */
import assert from "node:assert/strict";
import { isolatedEnv, spawnStowage, stowage } from "./support/cli.ts";
import { sh } from "./support/docker.ts";

async function mkfifo(path: string) {
  await sh("mkfifo", ["-m", "600", path]);
}

/**
 * Resolves once a thread of `pid` sleeps in the kernel's FIFO open (nobody writes to it). Deno
 * reads another process's /proc only with --allow-all, so `cat` reads it.
 */
async function blockedOnFifo(pid: number, deadlineMs = 20_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const r = await sh("sh", ["-c", `cat /proc/${pid}/task/*/wchan`], { check: false });
    // Linux names the sleep of an open(2) waiting for the FIFO's other end wait_for_partner.
    if (/wait_for_partner|fifo_open|pipe_read/.test(r.stdout)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`process ${pid} never blocked on the FIFO`);
}

Deno.test("a config path that is a FIFO is refused at once with one line and a hint", async () => {
  const e = await isolatedEnv();
  try {
    const fifo = `${e.dir}/config.yaml`;
    await mkfifo(fifo);
    const started = Date.now();
    const r = await stowage(["admin", "config", "validate", "--config", fifo], {
      env: e.env,
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^stowage: Cannot read config '.*': it is not a regular file/);
    assert.match(r.stderr, /^hint: /m);
    assert.ok(Date.now() - started < 15_000, "refused without waiting for a writer");
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
});

Deno.test("a command blocked where it cannot see SIGTERM exits 130 when SIGTERM comes again", async () => {
  // The daemon reads status.token_file before it starts; a FIFO there blocks that read.
  const e = await isolatedEnv();
  try {
    const token = `${e.dir}/token`;
    await mkfifo(token);
    await Deno.writeTextFile(
      e.configPath,
      `status:\n  listen: 127.0.0.1:0\n  token_file: ${token}\n`,
      { mode: 0o600 },
    );
    const child = spawnStowage(["admin", "service", "daemon"], {
      env: { ...e.env, STOWAGE_CONFIG: e.configPath },
    });
    const watchdog = setTimeout(() => child.kill("SIGKILL"), 30_000);
    try {
      await blockedOnFifo(child.pid);
      // Two signals sent at once may merge into one pending signal: repeat, as a user pressing
      // Ctrl-C again would, until the process ends (the watchdog fails a process that never does).
      const output = child.output();
      let ended = false;
      output.finally(() => ended = true);
      while (!ended) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        await Promise.race([output, new Promise((r) => setTimeout(r, 200))]);
      }
      const out = await output;
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.signal, null, `ended by its own exit, not killed: ${stderr}`);
      assert.equal(out.code, 130, stderr);
      assert.match(stderr, /^stowage: received SIGTERM again: exiting now$/m);
      assert.match(stderr, /^hint: /m);
    } finally {
      clearTimeout(watchdog);
    }
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
});
