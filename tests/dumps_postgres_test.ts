/**
 * Hot database dumps against a real PostgreSQL 15 (Debian's package, tests/support/db_images.ts):
 * one stack and one repository, the steps build on each other.
 */
import assert from "node:assert/strict";
import { spawnStowage, stowage } from "./support/cli.ts";
import { removeComposeProject, sh, TEST_LABEL, testName } from "./support/docker.ts";
import { ensureDbImage } from "./support/db_images.ts";
import { testRepoEnv } from "./support/repo.ts";
import { backupIds, procCmdlines, waitFor } from "./support/dumps.ts";

Deno.test("PostgreSQL dumps: hot and checked, a failed one is no restore point, restore --only dumps brings the rows back", async (t) => {
  const image = await ensureDbImage("postgres");
  // Scope minimal: the imported test image (no registry digest) would otherwise be saved, 400 MB.
  const env = await testRepoEnv("  scope: minimal\n");
  const project = testName("pgdump");
  const dir = await Deno.makeTempDir({ prefix: `stowage-${project}-` });
  const secret = `pg-${crypto.randomUUID()}`;
  const [label, value] = TEST_LABEL.split("=");
  await Deno.writeTextFile(
    `${dir}/docker-compose.yml`,
    `version: "2.4"
services:
  db:
    image: ${image}
    environment:
      POSTGRES_USER: \${PG_USER}
      POSTGRES_PASSWORD: \${PG_PASSWORD}
      POSTGRES_DB: shop
    volumes:
      - pg_data:/var/lib/postgresql/data
    labels:
      stowage.dump-mode: dump
      ${label}: "${value}"
volumes:
  pg_data:
    labels:
      ${label}: "${value}"
`,
  );
  let pgUser = "app";
  const compose = (...args: string[]) =>
    sh("docker-compose", ["-p", project, ...args], {
      cwd: dir,
      env: { PG_USER: pgUser, PG_PASSWORD: secret },
    });
  const db = `${project}_db_1`;
  const psql = async (sql: string, database = "shop") =>
    (await sh("docker", ["exec", db, "psql", "-U", "app", "-XAt", "-d", database, "-c", sql]))
      .stdout.trim();
  const ready = () =>
    waitFor(
      "PostgreSQL to accept connections",
      async () =>
        (await sh("docker", ["exec", db, "psql", "-U", "app", "-d", "shop", "-c", "select 1"], {
          check: false,
        })).code === 0,
    );

  try {
    await compose("up", "-d");
    await ready();
    await psql("CREATE TABLE items (id serial PRIMARY KEY, body text NOT NULL)");
    await psql("INSERT INTO items (body) SELECT md5(g::text) FROM generate_series(1, 50000) g");
    await psql("CREATE DATABASE empty_db");

    let firstBackup = "";
    let rowsInDump = 0;
    await t.step(
      "a running PostgreSQL is dumped while rows are written: nothing stops, downtime 0, one checked dump per database, no password in any argv",
      async () => {
        // dry-run shows the plan: the dump, no stop, the data volume not copied.
        const dry = await stowage(["dry-run", "--unit", project], { env: env.env });
        assert.equal(dry.code, 0, dry.stderr);
        assert.match(
          dry.stdout,
          new RegExp(`dump +postgres in ${db} \\(service db, mode dump, detected\\)`),
        );
        assert.match(dry.stdout, /stop order: +\(nothing running\)/);
        assert.doesNotMatch(dry.stdout, /left as they are/);
        assert.match(dry.stdout, new RegExp(`NOT backed up: ${project}_pg_data: .*logical dump`));
        // Writes go on during the whole backup.
        const writer = new Deno.Command("docker", {
          args: [
            "exec",
            db,
            "sh",
            "-c",
            // One session, a row every 10 ms, for as long as the backup runs.
            "while [ ! -e /tmp/stop-writing ]; do echo \"INSERT INTO items (body) VALUES ('w');\"; sleep 0.01; done | psql -U app -d shop -q",
          ],
          stdout: "null",
          stderr: "null",
        }).spawn();
        const child = spawnStowage(["backup", "--unit", project, "--json"], { env: env.env });
        const seen = new Set<string>();
        let leaked = "";
        const exited = child.output();
        let done = false;
        exited.finally(() => (done = true));
        while (!done) {
          await new Promise((r) => setTimeout(r, 20));
          for (const line of await procCmdlines()) {
            if (line.includes(secret)) leaked = line;
            if (/pg_dump|stdin-filename dumps\/db\/shop\.sql/.test(line)) seen.add(line);
          }
        }
        const out = await exited;
        await sh("docker", ["exec", db, "touch", "/tmp/stop-writing"]);
        await writer.status;
        const stdout = new TextDecoder().decode(out.stdout);
        const stderr = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 0, stderr);
        assert.equal(leaked, "", "the password appeared in a process's argv");
        assert.ok(seen.size > 0, "the argv watch never saw the dump running");
        assert.ok(!stdout.includes(secret) && !stderr.includes(secret));
        const report = JSON.parse(stdout);
        const unit = report.units.find((u: { unit: string }) => u.unit === project);
        assert.equal(unit.outcome, "ok");
        assert.deepEqual(unit.containersStopped, []);
        assert.equal(unit.downtimeMs, 0);
        const dumps = unit.snapshots.filter((s: { type: string }) => s.type === "dump")
          .map((s: { item: string }) => s.item).sort();
        assert.deepEqual(dumps, ["db/empty_db", "db/postgres", "db/shop"]);
        // The report carries each dump's bytes and duration.
        for (const d of unit.snapshots.filter((s: { type: string }) => s.type === "dump")) {
          assert.ok(d.bytesProcessed > 0 && d.durationMs > 0, JSON.stringify(d));
        }
        // Mode dump: the data volume is not copied.
        assert.ok(!unit.snapshots.some((s: { type: string }) => s.type === "volume"));
        firstBackup = report.backupId;

        // The stored dump is complete (marker past pg 15's \unrestrict) and holds the rows.
        const id = unit.snapshots.find((s: { item: string }) => s.item === "db/shop").snapshotId;
        const sql = await env.restic("dump", id, "/dumps/db/shop.sql");
        assert.match(sql, /-- PostgreSQL database dump complete/);
        const copy = sql.split("\nCOPY public.items ")[1].split("\n\\.\n")[0];
        rowsInDump = copy.split("\n").length - 1;
        assert.ok(rowsInDump >= 50000, `${rowsInDump} rows in the dump`);
        // The empty database still has a valid, checked dump.
        const emptyId = unit.snapshots.find((s: { item: string }) => s.item === "db/empty_db")
          .snapshotId;
        assert.match(
          await env.restic("dump", emptyId, "/dumps/db/empty_db.sql"),
          /-- PostgreSQL database dump complete/,
        );
      },
    );

    await t.step(
      "credentials the server refuses fail the unit and leave no restore point that --latest picks",
      async () => {
        pgUser = "nobody"; // the container's environment names a role that does not exist
        try {
          await compose("up", "-d");
          await waitFor(
            "the recreated container to run",
            async () =>
              (await sh("docker", ["inspect", "-f", "{{.State.Running}}", db])).stdout.trim() ===
                "true",
          );
          await ready();
          const r = await stowage(["backup", "--unit", project, "--json"], { env: env.env });
          assert.notEqual(r.code, 0);
          const unit = JSON.parse(r.stdout).units[0];
          assert.equal(unit.outcome, "failed");
          assert.match(unit.error, /role "nobody" does not exist/);
          assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret));
          const ids = await backupIds(env, project);
          assert.deepEqual(ids.complete, [firstBackup]);
          assert.equal(ids.dumps.length, 3, "the failed run stored no dump");
        } finally {
          pgUser = "app"; // the next step starts a fresh stack with it
        }
      },
    );

    await t.step(
      "restore --only dumps into a fresh stack brings back every row of the dump",
      async () => {
        await removeComposeProject(project);
        await compose("up", "-d");
        await ready();
        assert.equal(
          await psql("SELECT count(*) FROM pg_database WHERE datname = 'empty_db'"),
          "0",
        );
        await psql("CREATE TABLE made_after (x int)");
        const r = await stowage(
          ["restore", "--unit", project, "--latest", "--only", "dumps", "--yes"],
          { env: env.env },
        );
        assert.equal(r.code, 0, r.stderr + r.stdout);
        assert.match(r.stdout + r.stderr, new RegExp(firstBackup));
        assert.equal(await psql("SELECT count(*) FROM items"), String(rowsInDump));
        assert.equal(
          await psql("SELECT count(*) FROM pg_database WHERE datname = 'empty_db'"),
          "1",
        );
        assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret));
        // What was there before the load was dumped first, under the backup id it prints.
        const safety = /saved under backup id (\S+)/.exec(r.stdout)?.[1];
        assert.ok(safety, r.stdout);
        const pre = JSON.parse(
          await env.restic("snapshots", "--json", "--tag", `type=pre-restore,backup_id=${safety}`),
        ) as { tags: string[] }[];
        assert.deepEqual(
          pre.map((s) => s.tags.find((t) => t.startsWith("database="))).sort(),
          ["database=postgres", "database=shop"],
        );
        const id = JSON.parse(
          await env.restic("snapshots", "--json", "--tag", `backup_id=${safety},database=shop`),
        )[0].id;
        assert.match(
          await env.restic("dump", id, "/dumps/db/shop.sql"),
          /TABLE public\.made_after/,
        );
      },
    );

    await t.step(
      "restore --only dumps --to-dir writes the .sql file and nothing else",
      async () => {
        const out = await Deno.makeTempDir({ prefix: "stowage-dumps-out-" });
        try {
          const r = await stowage(
            [
              "restore",
              "--unit",
              project,
              "--latest",
              "--only",
              "dumps",
              "--database",
              "shop",
              "--to-dir",
              out,
              "--yes",
            ],
            { env: env.env },
          );
          assert.equal(r.code, 0, r.stderr + r.stdout);
          // --dry-run says what would be loaded and changes nothing.
          const dry = await stowage([
            "restore",
            "--unit",
            project,
            "--latest",
            "--only",
            "dumps",
            "--dry-run",
          ], {
            env: env.env,
          });
          assert.equal(dry.code, 0, dry.stderr);
          assert.match(
            dry.stdout,
            /Would load 3 database dump\(s\)[^\n]*\n {2}db\/empty_db\n {2}db\/postgres\n {2}db\/shop\n/,
          );
          const sql = await Deno.readTextFile(`${out}/dumps/db/shop.sql`);
          assert.match(sql, /-- PostgreSQL database dump complete/);
          const files = [];
          for await (const e of Deno.readDir(`${out}/dumps/db`)) files.push(e.name);
          assert.deepEqual(files, ["shop.sql"]);
        } finally {
          await Deno.remove(out, { recursive: true });
        }
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
          /dumps of db verified: 3 database\(s\) loaded into a throwaway container, [1-9]\d* table\(s\) with the row counts of the dump/,
        );
        assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret));
        // The throwaway container is gone.
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
