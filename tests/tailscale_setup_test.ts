/**
 * `stowage setup` onto a Tailscale peer. The `tailscale` CLI is a labelled stand-in
 * (tests/support/tailscale.ts: the real `status --json` shape, `ping` answers); everything after
 * it is real: the peer `nas` is a real sshd on 127.0.0.1, ssh-keygen makes stowage's key,
 * ssh-keyscan pins the host key, ssh logs in, restic initialises the SFTP repository.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { isolatedEnv, stowage } from "./support/cli.ts";
import { startSshd } from "./support/sshd.ts";
import { installTailscaleStandIn } from "./support/tailscale.ts";
import { KEY, onTerminal } from "./support/terminal.ts";

Deno.test("setup onto a Tailscale peer: the peer table, a generated key the peer must accept, the pinned host key, an SFTP repository on its Tailscale address", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "stowage-tailscale-" });
  const sshd = await startSshd();
  try {
    const bin = await installTailscaleStandIn(`${root}/tailscale`, [
      { hostName: "laptop", ip: "100.88.1.7", online: false, os: "macOS" },
      { hostName: "pi", ip: "127.0.0.3", online: true, latencyMs: 40 },
      { hostName: "nas", ip: "127.0.0.1", online: true, latencyMs: 12 },
    ]);
    const PATH = `${bin}:${Deno.env.get("PATH")}`;
    const a = await isolatedEnv();
    const env = { ...a.env, STOWAGE_CONFIG: a.configPath, PATH };
    const key = `${dirname(a.configPath)}/ssh/id_ed25519`;
    const peerRepo = `${root}/peer/restic`;
    const setupArgs = [
      "setup",
      "--yes",
      "--tailscale-peer",
      "nas",
      "--tailscale-path",
      peerRepo,
      "--ssh-port",
      String(sshd.port),
    ];
    let publicLine = "";
    /** A config folder of its own whose SSH key the peer already accepts (step 1 shows how). */
    const acceptedConfigDir = async (name: string) => {
      const configDir = `${root}/${name}`;
      await Deno.mkdir(`${configDir}/ssh`, { recursive: true });
      const keygen = await new Deno.Command("ssh-keygen", {
        args: ["-q", "-t", "ed25519", "-N", "", "-f", `${configDir}/ssh/id_ed25519`],
      }).output();
      assert.ok(keygen.success);
      await Deno.writeTextFile(
        `${sshd.dir}/authorized_keys`,
        await Deno.readTextFile(`${configDir}/ssh/id_ed25519.pub`),
        { append: true },
      );
      return configDir;
    };

    await t.step(
      "without a terminal, a key the peer does not accept yet: the line to add, exit 10, nothing written",
      async () => {
        const r = await stowage(setupArgs, { env });
        assert.equal(r.code, 10, r.stdout + r.stderr);
        // The table: online peers by latency, then the offline one.
        const rows = r.stdout.split("\n").filter((l) => /^\s+(online|offline)\s/.test(l));
        assert.deepEqual(rows.map((l) => l.trim().split(/\s+/).slice(0, 4).join(" ")), [
          "online nas 127.0.0.1 12",
          "online pi 127.0.0.3 40",
          "offline laptop 100.88.1.7 -",
        ]);
        assert.match(r.stderr, /Tailscale peer nas does not accept stowage's SSH key yet/);
        const m = r.stderr.match(/^ {2}(ssh-ed25519 [A-Za-z0-9+/=]+ stowage@\S+)$/m);
        assert.ok(m, `no authorized_keys line in:\n${r.stderr}`);
        publicLine = m[1];
        assert.equal((await Deno.stat(key)).mode! & 0o777, 0o600);
        const pub = (await Deno.readTextFile(`${key}.pub`)).split(" ").slice(0, 2).join(" ");
        assert.equal(publicLine.split(" ").slice(0, 2).join(" "), pub);
        await assert.rejects(Deno.stat(a.configPath), Deno.errors.NotFound);
        await assert.rejects(Deno.stat(`${dirname(key)}/known_hosts`), Deno.errors.NotFound);
        await assert.rejects(Deno.stat(peerRepo), Deno.errors.NotFound);
      },
    );

    await t.step(
      "the same command after the line was added: key reused, host key pinned, repository initialised",
      async () => {
        await Deno.writeTextFile(`${sshd.dir}/authorized_keys`, publicLine + "\n", {
          append: true,
        });
        const r = await stowage([...setupArgs, "--json"], { env });
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const doc = JSON.parse(r.stdout);
        assert.equal(doc.repository.location, `sftp://root@127.0.0.1:${sshd.port}/${peerRepo}`);
        assert.equal(doc.repository.created, true);
        assert.equal(doc.repository.sshHost.hostKey, "accepted");
        assert.equal(doc.tailscale.peer, "nas");
        assert.equal(doc.tailscale.latencyMs, 12);
        assert.equal(doc.tailscale.sshKey.created, false);
        assert.ok(doc.tailscale.freeKiB > 0, JSON.stringify(doc.tailscale));
        const config = await Deno.readTextFile(a.configPath);
        assert.match(config, new RegExp(`ssh_key: ${key}`));
        // Key and pinned host key side by side, both named in the config (the disaster-recovery
        // bundle carries what the config names).
        assert.match(config, new RegExp(`known_hosts: ${dirname(key)}/known_hosts`));
        const pinned = await Deno.readTextFile(`${dirname(key)}/known_hosts`);
        assert.equal((await Deno.stat(`${dirname(key)}/known_hosts`)).mode! & 0o777, 0o600);
        const hostKey = (await Deno.readTextFile(`${sshd.dir}/host_ed25519.pub`)).split(" ")[1];
        assert.match(
          pinned,
          new RegExp(
            `^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 ${hostKey.replace(/[+/]/g, "\\$&")}`,
            "m",
          ),
        );
        await Deno.stat(`${peerRepo}/config`); // restic's repository config file on the "peer"
        const d = await stowage(["doctor", "--json"], { env });
        const check = JSON.parse(d.stdout).checks.find((c: { name: string }) =>
          c.name === "repository"
        );
        assert.equal(check.status, "ok", check.detail);
      },
    );

    await t.step(
      "the disaster-recovery bundle carries the key and the pinned host key",
      async () => {
        const pw = `${root}/bundle.pw`;
        await Deno.writeTextFile(pw, "bundle-" + crypto.randomUUID() + "\n", { mode: 0o600 });
        const r = await stowage([
          "disaster-recovery",
          "--password-file",
          pw,
          "--output",
          `${root}/bundle`,
          "--json",
        ], { env });
        assert.equal(r.code, 0, r.stderr);
        const files = (JSON.parse(r.stdout).files as { role: string; install_path?: string }[])
          .map((f) => [f.role, f.install_path]);
        assert.deepEqual(files.filter(([role]) => role === "ssh-key" || role === "known-hosts"), [
          ["ssh-key", key],
          ["known-hosts", `${dirname(key)}/known_hosts`],
        ]);
      },
    );

    await t.step(
      "admin config new --tailscale-peer does the same: config, pinned host key, initialised repository",
      async () => {
        const configDir = await acceptedConfigDir("config-new-etc");
        const repo = `${root}/peer/config-new`;
        const r = await stowage([
          "admin",
          "config",
          "new",
          "--tailscale-peer",
          "nas",
          "--tailscale-path",
          repo,
          "--ssh-port",
          String(sshd.port),
        ], {
          env: {
            STOWAGE_CONFIG: `${configDir}/config.yaml`,
            STOWAGE_STATE_DIR: `${root}/config-new-state`,
            PATH,
          },
        });
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /The repository on nas is initialised/);
        const config = await Deno.readTextFile(`${configDir}/config.yaml`);
        assert.match(
          config,
          new RegExp(`location: sftp://root@127\\.0\\.0\\.1:${sshd.port}/${repo}`),
        );
        assert.match(
          await Deno.readTextFile(`${configDir}/ssh/known_hosts`),
          /^\[127\.0\.0\.1\]:/,
        );
        await Deno.stat(`${repo}/config`);
      },
    );

    await t.step(
      "on a terminal: pick where backups go, then the peer from the table; confirm the host key",
      async () => {
        // Its host key is not pinned in this config folder yet, so the wizard asks.
        const configDir = await acceptedConfigDir("wizard-etc");
        const configPath = `${configDir}/config.yaml`;
        const stateDir = `${root}/wizard-state`;
        const wizardRepo = `${root}/peer/wizard`;
        const r = await onTerminal(["setup"], {
          env: { STOWAGE_CONFIG: configPath, STOWAGE_STATE_DIR: stateDir, PATH },
          answers: [
            ["Where should the backups go?", KEY.enter],
            ["Which peer should hold the repository?", KEY.enter],
            ["SSH user on the peer", KEY.enter],
            ["SSH port on the peer", `${sshd.port}${KEY.enter}`],
            ["Repository folder on the peer", `${wizardRepo}${KEY.enter}`],
            ["Password file", KEY.enter],
            ["Backup scope", KEY.enter],
            ["Trust this host key?", `y${KEY.enter}`],
          ],
          timeoutMs: 120_000,
        });
        assert.equal(r.code, 0, r.output);
        assert.equal(r.answered, 8, r.output);
        assert.match(r.output, /offline\s+laptop\s+100\.88\.1\.7/);
        assert.match(r.output, /ED25519 SHA256:/);
        assert.match(r.output, /free\./);
        const config = await Deno.readTextFile(configPath);
        assert.match(
          config,
          new RegExp(`location: sftp://root@127\\.0\\.0\\.1:${sshd.port}/${wizardRepo}`),
        );
        await Deno.stat(`${wizardRepo}/config`);
        assert.match(await Deno.readTextFile(`${configDir}/ssh/known_hosts`), /^\[127\.0\.0\.1\]:/);
      },
    );
  } finally {
    await sshd.stop();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
