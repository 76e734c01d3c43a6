/**
 * An `s3:` repository end to end through the CLI, on a real S3 server (npm's s3rver 3.7.1 over
 * TLS; see tests/support/s3_server.ts for why TLS) and a real compose stack: credentials and the
 * CA from `repository.env_file`, never in restic's argv; backup and restore; doctor's one-liners
 * for refused keys and a server that is down; a backup with the server down stops nothing.
 */
import assert from "node:assert/strict";
import { isolatedEnv, stowage } from "./support/cli.ts";
import { createFixtureStack } from "./support/fixture.ts";
import { docker } from "./support/docker.ts";
import { recordingRestic } from "./support/restic_shim.ts";
import { startS3Server } from "./support/s3_server.ts";

interface Check {
  name: string;
  status: string;
  detail: string;
}

Deno.test("an S3 bucket on a real S3 server: backup, restore, doctor's one-liners, nothing stopped while it is down", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "stowage-s3-" });
  const server = await startS3Server(root);
  const s = await createFixtureStack({ name: "s3" });
  try {
    await s.up();
    const base = await isolatedEnv();
    // s3rver checks the key id, not the V4 signature: a unique secret still proves it never
    // reaches argv.
    const secret = "s3-secret-" + crypto.randomUUID();
    const envFile = `${base.dir}/repository.env`;
    const writeEnv = (keyId: string) =>
      Deno.writeTextFile(
        envFile,
        `AWS_ACCESS_KEY_ID=${keyId}\nAWS_SECRET_ACCESS_KEY=${secret}\nSSL_CERT_FILE=${server.certFile}\n`,
        { mode: 0o600 },
      );
    await writeEnv("S3RVER");
    // A `restic` first on stowage's PATH that records every argv, then runs the real one.
    const recorded = await recordingRestic(base.dir);
    const argvLog = recorded.argvLog;
    const passwordFile = `${base.dir}/repo.password`;
    await Deno.writeTextFile(passwordFile, "repo-" + crypto.randomUUID(), { mode: 0o600 });
    const location = server.location("stowage");
    await Deno.writeTextFile(
      base.configPath,
      `repository:\n  location: ${location}\n  password_file: ${passwordFile}\n  env_file: ${envFile}\nbackup:\n  stop_timeout: 5\n`,
      { mode: 0o600 },
    );
    const env = {
      ...base.env,
      STOWAGE_CONFIG: base.configPath,
      ...recorded.env,
    };
    const repositoryCheck = async (): Promise<Check> => {
      const r = await stowage(["doctor", "--json"], { env });
      return (JSON.parse(r.stdout) as { checks: Check[] }).checks.find((c) =>
        c.name === "repository"
      )!;
    };

    await t.step("admin repo init, then doctor names the S3 bucket", async () => {
      const init = await stowage(["admin", "repo", "init"], { env });
      assert.equal(init.code, 0, init.stderr);
      const c = await repositoryCheck();
      assert.equal(c.status, "ok", c.detail);
      assert.match(c.detail, /^S3 bucket s3:https:\/\/127\.0\.0\.1:\d+\/stowage-test\/stowage: /);
    });

    await t.step("a backup and a restore into a folder give the volumes back", async () => {
      const b = await stowage(["backup", "--unit", s.project], { env });
      assert.equal(b.code, 0, b.stderr);
      const out = `${root}/restored`;
      const r = await stowage(
        ["restore", "--unit", s.project, "--latest", "--to-dir", out, "--yes"],
        { env },
      );
      assert.equal(r.code, 0, r.stderr);
      const restored = [...Deno.readDirSync(`${out}/volumes`)].map((e) => e.name).sort();
      assert.deepEqual(restored, [s.volume("app_data"), s.volume("db_data")].sort());
      assert.equal(
        await Deno.readTextFile(`${out}/volumes/${s.volume("db_data")}/ready`),
        "db-ready\n",
      );
    });

    await t.step(
      "restic's argv never held the secret key, the env file or the location's keys",
      async () => {
        const argv = await Deno.readTextFile(argvLog);
        assert.match(argv, /^backup$/m, "the wrapper recorded no backup");
        assert.ok(!argv.includes(secret), "secret key in restic's argv");
        assert.ok(!argv.includes("S3RVER"), "access key id in restic's argv");
        assert.ok(!argv.includes(location), "location in restic's argv");
      },
    );

    await t.step(
      "an access key the server does not know is one line: it refused the credentials",
      async () => {
        await writeEnv("NOT-A-KEY");
        const c = await repositoryCheck();
        await writeEnv("S3RVER");
        assert.equal(c.status, "fail");
        assert.match(
          c.detail,
          /^S3 bucket .*refused stowage's credentials \(The AWS Access Key Id you provided does not exist/,
        );
        assert.ok(!c.detail.includes("\n"), c.detail);
        assert.ok(!c.detail.includes(secret), c.detail);
      },
    );

    await t.step(
      "with the server down: doctor says so in one line, a backup stops no container",
      async () => {
        const started = async () =>
          (await docker(
            "inspect",
            "-f",
            "{{.State.Running}} {{.State.StartedAt}}",
            s.container("db"),
            s.container("app"),
            s.container("web"),
          )).stdout;
        const before = await started();
        await server.stop();
        const c = await repositoryCheck();
        assert.equal(c.status, "fail");
        assert.match(c.detail, /^S3 bucket .*server does not answer \(connection refused/);
        assert.ok(!c.detail.includes("\n"), c.detail);
        const b = await stowage(["backup", "--unit", s.project], { env });
        assert.equal(b.code, 10, b.stderr);
        assert.match(b.stderr, /server does not answer \(connection refused/);
        assert.equal(await started(), before, "a container was stopped or restarted");
        assert.doesNotMatch(before, /false/);
      },
    );
  } finally {
    await s.down();
    await server.stop();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
