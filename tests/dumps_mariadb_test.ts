/**
 * Hot database dumps against a real MariaDB 10.11 (Debian's package, tests/support/db_images.ts):
 * one stack and one repository, the steps build on each other.
 */
import assert from "node:assert/strict";
import { spawnStowage, stowage } from "./support/cli.ts";
import { removeComposeProject, sh, TEST_LABEL, testName } from "./support/docker.ts";
import { ensureDbImage } from "./support/db_images.ts";
import { testRepoEnv } from "./support/repo.ts";
import { backupIds, procCmdlines, waitFor } from "./support/dumps.ts";

Deno.test("MariaDB dumps: --single-transaction while writes go on, a refused password is no restore point, the rows come back", async (t) => {
  const image = await ensureDbImage("mariadb");
  // Scope minimal: the imported test image (no registry digest) would otherwise be saved, 400 MB.
  const env = await testRepoEnv("  scope: minimal\n");
  const project = testName("mydump");
  const dir = await Deno.makeTempDir({ prefix: `stowage-${project}-` });
  const secret = `my-${crypto.randomUUID()}`;
  const [label, value] = TEST_LABEL.split("=");
  await Deno.writeTextFile(
    `${dir}/docker-compose.yml`,
    `version: "2.4"
services:
  db:
    image: ${image}
    environment:
      MARIADB_ROOT_PASSWORD: \${ROOT_PASSWORD}
      MARIADB_DATABASE: shop
    volumes:
      - my_data:/var/lib/mysql
    labels:
      stowage.dump-mode: dump
      ${label}: "${value}"
volumes:
  my_data:
    labels:
      ${label}: "${value}"
`,
  );
  let rootPassword = secret;
  const compose = (...args: string[]) =>
    sh("docker-compose", ["-p", project, ...args], {
      cwd: dir,
      env: { ROOT_PASSWORD: rootPassword },
    });
  const db = `${project}_db_1`;
  // The test's own client gets the password through its environment too.
  const sql = async (query: string) =>
    (await sh("docker", [
      "exec",
      "-e",
      "MYSQL_PWD",
      db,
      "mariadb",
      "-uroot",
      "-N",
      "-B",
      "-e",
      query,
    ], {
      env: { MYSQL_PWD: secret },
    })).stdout.trim();
  const ready = () =>
    waitFor(
      "MariaDB to accept connections",
      async () =>
        (await sh(
          "docker",
          ["exec", "-e", "MYSQL_PWD", db, "mariadb", "-uroot", "-e", "select 1"],
          {
            check: false,
            env: { MYSQL_PWD: secret },
          },
        )).code === 0,
    );

  try {
    await compose("up", "-d");
    await ready();
    await sql(
      "CREATE TABLE shop.items (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(64) NOT NULL) ENGINE=InnoDB",
    );
    await sql(
      "INSERT INTO shop.items (body) SELECT MD5(seq) FROM shop.seq_1_to_50000",
    );
    await sql("CREATE DATABASE empty_db");

    let firstBackup = "";
    let rowsInDump = 0;
    await t.step(
      "a running MariaDB is dumped while rows are written: nothing stops, every database checked, no password in any argv",
      async () => {
        const writer = new Deno.Command("docker", {
          args: [
            "exec",
            "-e",
            "MYSQL_PWD",
            db,
            "sh",
            "-c",
            // One session, a row every 10 ms, for as long as the backup runs.
            "while [ ! -e /tmp/stop-writing ]; do echo \"INSERT INTO shop.items (body) VALUES ('w');\"; sleep 0.01; done | mariadb -uroot",
          ],
          env: { MYSQL_PWD: secret },
          stdout: "null",
          stderr: "null",
        }).spawn();
        const child = spawnStowage(["backup", "--unit", project, "--json"], { env: env.env });
        let leaked = "";
        let seen = 0;
        let done = false;
        const exited = child.output();
        exited.finally(() => (done = true));
        while (!done) {
          await new Promise((r) => setTimeout(r, 20));
          for (const line of await procCmdlines()) {
            if (line.includes(secret)) leaked = line;
            if (/mariadb-dump|stdin-filename dumps\/db\/shop\.sql/.test(line)) seen++;
          }
        }
        const out = await exited;
        await sh("docker", ["exec", db, "touch", "/tmp/stop-writing"]);
        await writer.status;
        const stdout = new TextDecoder().decode(out.stdout);
        const stderr = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 0, stderr);
        assert.equal(leaked, "", "the password appeared in a process's argv");
        assert.ok(seen > 0, "the argv watch never saw the dump running");
        assert.ok(!stdout.includes(secret) && !stderr.includes(secret));
        const report = JSON.parse(stdout);
        const unit = report.units.find((u: { unit: string }) => u.unit === project);
        assert.equal(unit.outcome, "ok");
        assert.deepEqual(unit.containersStopped, []);
        assert.equal(unit.downtimeMs, 0);
        const dumps = unit.snapshots.filter((s: { type: string }) => s.type === "dump")
          .map((s: { item: string }) => s.item).sort();
        assert.deepEqual(dumps, ["db/empty_db", "db/shop"]);
        firstBackup = report.backupId;
        const id = unit.snapshots.find((s: { item: string }) => s.item === "db/shop").snapshotId;
        const text = await env.restic("dump", id, "/dumps/db/shop.sql");
        assert.match(text, /-- Dump completed/);
        // The row tuples of the items table, however the extended inserts are wrapped.
        rowsInDump = text.match(/\(\d+,'[0-9a-fw]*'\)/g)?.length ?? 0;
        assert.ok(rowsInDump >= 50000, `${rowsInDump} rows in the dump`);
      },
    );

    await t.step(
      "a root password the server refuses fails the unit and leaves no restore point that --latest picks",
      async () => {
        rootPassword = `wrong-${crypto.randomUUID()}`; // the data volume keeps the old one
        await compose("up", "-d");
        await ready();
        const r = await stowage(["backup", "--unit", project, "--json"], { env: env.env });
        assert.notEqual(r.code, 0);
        const unit = JSON.parse(r.stdout).units[0];
        assert.equal(unit.outcome, "failed");
        assert.match(unit.error, /Access denied for user 'root'/);
        assert.ok(!r.stdout.includes(rootPassword) && !r.stderr.includes(rootPassword));
        const ids = await backupIds(env, project);
        assert.deepEqual(ids.complete, [firstBackup]);
        assert.equal(ids.dumps.length, 2, "the failed run stored no dump");
        rootPassword = secret;
      },
    );

    await t.step(
      "restore --only dumps into a fresh stack brings back every row of the dump",
      async () => {
        await removeComposeProject(project);
        await compose("up", "-d");
        await ready();
        assert.equal(await sql("SHOW DATABASES LIKE 'empty_db'"), "");
        const r = await stowage(
          ["restore", "--unit", project, "--latest", "--only", "dumps", "--yes"],
          { env: env.env },
        );
        assert.equal(r.code, 0, r.stderr + r.stdout);
        assert.match(r.stdout, new RegExp(firstBackup));
        assert.equal(await sql("SELECT COUNT(*) FROM shop.items"), String(rowsInDump));
        assert.equal(await sql("SHOW DATABASES LIKE 'empty_db'"), "empty_db");
      },
    );

    await t.step(
      "backup.verify_dumps loads every dump into a throwaway container and finds the dump's row counts",
      async () => {
        const config = `${env.dir}/verify.yaml`;
        await Deno.writeTextFile(
          config,
          (await Deno.readTextFile(env.configPath)) + "  verify_dumps: true\n",
          { mode: 0o600 },
        );
        const r = await stowage(["backup", "--unit", project], {
          env: { ...env.env, STOWAGE_CONFIG: config },
        });
        assert.equal(r.code, 0, r.stderr + r.stdout);
        assert.match(
          r.stdout + r.stderr,
          /dumps of db verified: 2 database\(s\) loaded into a throwaway container, 1 table\(s\) with the row counts of the dump/,
        );
        assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret));
        const left = await sh("docker", ["ps", "-aq", "--filter", `label=stowage.verify=${db}`]);
        assert.equal(left.stdout.trim(), "");
      },
    );
  } finally {
    await removeComposeProject(project);
    await env.cleanup();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
