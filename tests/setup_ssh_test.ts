/**
 * `setup` against an SSH repository whose host key this host has never seen, on a real
 * pseudo-terminal: ssh must never talk to the terminal (no prompt of its own, no stopped
 * process), stowage shows the fingerprint and asks, and nothing is written unless the key is
 * trusted and the repository answered.
 */
import assert from "node:assert/strict";
import { startSshd, type TestSshd } from "./support/sshd.ts";
import { isolatedEnv, stowage } from "./support/cli.ts";
import { KEY, onTerminal, type TerminalRun } from "./support/terminal.ts";

const SSH_PROMPT = /Are you sure you want to continue connecting|Host key verification failed/;

async function fingerprint(sshd: TestSshd): Promise<string> {
  const out = await new Deno.Command("ssh-keygen", {
    args: ["-lf", `${sshd.dir}/host_ed25519.pub`],
    stdout: "piped",
  }).output();
  const fp = new TextDecoder().decode(out.stdout).match(/SHA256:[A-Za-z0-9+/=]+/)?.[0];
  assert.ok(fp, "ssh-keygen printed a fingerprint");
  return fp;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

const show = (r: TerminalRun) =>
  `exit ${r.code}${r.timedOut ? " (TIMED OUT: killed)" : ""}\n${r.output}`;

async function withSshEnv(
  fn: (
    sshd: TestSshd,
    e: Awaited<ReturnType<typeof isolatedEnv>> & { args: string[]; repoDir: string },
  ) => Promise<void>,
) {
  await using sshd = await startSshd();
  const e = await isolatedEnv();
  try {
    const repoDir = `${e.dir}/remote-repo`;
    const args = [
      "setup",
      "--config",
      e.configPath,
      "--repository",
      sshd.sftpLocation(repoDir),
      "--ssh-key",
      sshd.clientKey,
    ];
    await fn(sshd, { ...e, args, repoDir });
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
}

Deno.test("setup on a terminal with an unknown SSH host key: shows the fingerprint, asks, and creates the repository once trusted", async () => {
  await withSshEnv(async (sshd, e) => {
    const fp = await fingerprint(sshd);
    const r = await onTerminal(e.args, {
      env: e.env,
      answers: [["Trust this host key", `y${KEY.enter}`]],
      timeoutMs: 90_000,
    });
    assert.equal(r.timedOut, false, `setup hung:\n${show(r)}`);
    assert.doesNotMatch(r.output, SSH_PROMPT, show(r));
    assert.ok(r.output.includes(fp), `fingerprint ${fp} shown:\n${show(r)}`);
    assert.equal(r.code, 0, show(r));
    assert.ok(await exists(`${e.repoDir}/config`), "restic created the repository");
    assert.ok(await exists(e.configPath), "config written");
    const trusted = await Deno.readTextFile(`${e.stateDir}/known_hosts`);
    const hostKey = (await Deno.readTextFile(`${sshd.dir}/host_ed25519.pub`)).split(" ")[1];
    assert.ok(trusted.includes(hostKey), `the key is pinned in stowage's known_hosts:\n${trusted}`);

    // The next command uses the pinned key without asking anything.
    const list = await stowage(["admin", "snapshot", "list", "--config", e.configPath], {
      env: e.env,
    });
    assert.equal(list.code, 0, `${list.stdout}\n${list.stderr}`);
  });
});

Deno.test("setup on a terminal: a refused SSH host key writes nothing (no config, no password file, no repository)", async () => {
  await withSshEnv(async (sshd, e) => {
    const fp = await fingerprint(sshd);
    const r = await onTerminal(e.args, {
      env: e.env,
      answers: [["Trust this host key", `n${KEY.enter}`]],
      timeoutMs: 90_000,
    });
    assert.equal(r.timedOut, false, `setup hung:\n${show(r)}`);
    assert.doesNotMatch(r.output, SSH_PROMPT, show(r));
    assert.ok(r.output.includes(fp), show(r));
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.output, /nothing was changed/i, show(r));
    assert.equal(await exists(e.configPath), false, "no config left behind");
    assert.equal(await exists(`${e.stateDir}/known_hosts`), false, "key not pinned");
    assert.equal(await exists(`${e.stateDir}/repository.password`), false, "no password file");
    assert.equal(await exists(e.repoDir), false, "no repository");
  });
});

Deno.test("setup without a terminal: an unknown SSH host key needs --accept-host-key with its fingerprint", async () => {
  await withSshEnv(async (sshd, e) => {
    const fp = await fingerprint(sshd);
    const refused = await stowage(e.args, { env: e.env });
    assert.equal(refused.code, 10, `${refused.stdout}\n${refused.stderr}`);
    assert.ok(refused.stderr.includes(fp), refused.stderr);
    assert.match(refused.stderr, /--accept-host-key/);
    assert.equal(await exists(e.configPath), false, "no config after a failed setup");

    const wrong = await stowage([...e.args, "--accept-host-key", "SHA256:not-this-one"], {
      env: e.env,
    });
    assert.equal(wrong.code, 10, `${wrong.stdout}\n${wrong.stderr}`);
    assert.match(wrong.stderr, /does not match/);
    assert.equal(await exists(e.configPath), false);

    const ok = await stowage([...e.args, "--accept-host-key", fp], { env: e.env });
    assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
    assert.ok(await exists(`${e.repoDir}/config`));
  });
});

Deno.test("an unreachable SSH repository fails setup before any config is written", async () => {
  const e = await isolatedEnv();
  try {
    // A port nothing listens on.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const r = await stowage([
      "setup",
      "--config",
      e.configPath,
      "--repository",
      `sftp://root@127.0.0.1:${port}//srv/restic`,
    ], { env: e.env });
    assert.equal(r.code, 10, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /Cannot reach/);
    assert.equal(await exists(e.configPath), false);
    assert.equal(await exists(`${e.stateDir}/repository.password`), false);
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
});

Deno.test("a command on a terminal whose SSH host key is not pinned fails at once instead of letting ssh ask", async () => {
  await using sshd = await startSshd();
  const e = await isolatedEnv();
  try {
    await Deno.writeTextFile(
      e.configPath,
      `repository:\n  location: ${
        sshd.sftpLocation(`${e.dir}/repo`)
      }\n  ssh_key: ${sshd.clientKey}\n`,
      { mode: 0o600 },
    );
    await Deno.writeTextFile(`${e.dir}/pw`, "x".repeat(20), { mode: 0o600 });
    await Deno.writeTextFile(
      e.configPath,
      `  password_file: ${e.dir}/pw\n`,
      { append: true },
    );
    const r = await onTerminal(["admin", "snapshot", "list", "--config", e.configPath], {
      env: e.env,
      timeoutMs: 60_000,
    });
    assert.equal(r.timedOut, false, `hung:\n${show(r)}`);
    assert.doesNotMatch(r.output, /Are you sure you want to continue connecting/, show(r));
    assert.equal(r.code, 10, show(r));
    assert.match(r.output, /host key/i, show(r));
    assert.match(r.output, /stowage setup/, show(r));
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
});
