/**
 * An `azure:` repository end to end through the CLI, on Microsoft's emulator Azurite (see
 * tests/support/azure_server.ts for how restic 0.14 reaches it) and a real compose stack: the
 * account key from `repository.env_file`, never in restic's argv; backup and restore; doctor
 * names the backend. (Not here: Azurite stopped. restic 0.14's Azure client retries a refused
 * connection for about two and a half minutes before doctor can say so.)
 */
import assert from "node:assert/strict";
import { isolatedEnv, stowage } from "./support/cli.ts";
import { createFixtureStack } from "./support/fixture.ts";
import { recordingRestic } from "./support/restic_shim.ts";
import { startAzureServer } from "./support/azure_server.ts";

interface Check {
  name: string;
  status: string;
  detail: string;
}

Deno.test("an Azure container on Azurite: backup and restore through the CLI, the key never in argv, doctor names it", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "stowage-azure-" });
  const server = await startAzureServer(root);
  const s = await createFixtureStack({ name: "azure" });
  try {
    await s.up();
    const base = await isolatedEnv();
    const envFile = `${base.dir}/repository.env`;
    await Deno.writeTextFile(
      envFile,
      Object.entries(server.env).map(([k, v]) => `${k}=${v}\n`).join(""),
      { mode: 0o600 },
    );
    // A `restic` first on stowage's PATH that records every argv, then runs the real one.
    const recorded = await recordingRestic(base.dir);
    const argvLog = recorded.argvLog;
    const passwordFile = `${base.dir}/repo.password`;
    await Deno.writeTextFile(passwordFile, "repo-" + crypto.randomUUID(), { mode: 0o600 });
    await Deno.writeTextFile(
      base.configPath,
      `repository:\n  location: ${
        server.location("stowage")
      }\n  password_file: ${passwordFile}\n  env_file: ${envFile}\nbackup:\n  stop_timeout: 5\n`,
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

    await t.step("admin repo init, then doctor names the Azure container", async () => {
      const init = await stowage(["admin", "repo", "init"], { env });
      assert.equal(init.code, 0, init.stderr);
      const c = await repositoryCheck();
      assert.equal(c.status, "ok", c.detail);
      assert.match(c.detail, /^Azure Blob container azure:stowage-test:\/stowage: /);
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
      assert.equal(
        await Deno.readTextFile(`${out}/volumes/${s.volume("db_data")}/ready`),
        "db-ready\n",
      );
    });

    await t.step("restic's argv never held the account key", async () => {
      const argv = await Deno.readTextFile(argvLog);
      assert.match(argv, /^backup$/m, "the wrapper recorded no backup");
      assert.ok(!argv.includes(server.env.AZURE_ACCOUNT_KEY), "account key in restic's argv");
    });
  } finally {
    await s.down();
    await server.stop();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
