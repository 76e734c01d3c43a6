/**
 * Backends end to end through the CLI, against a real REST server (`rclone serve restic`) and real
 * compose stacks: doctor names the backend and says what is wrong in one line; a backup whose
 * backend is down stops no container; an append-only server takes backups and retention warns;
 * two hosts share one repository without forgetting each other's restore points.
 */
import assert from "node:assert/strict";
import type { RunReport } from "../core/report.ts";
import { isolatedEnv, stowage } from "./support/cli.ts";
import { createFixtureStack, type FixtureStack, withFixtureStack } from "./support/fixture.ts";
import { docker, sh } from "./support/docker.ts";
import { startRestServer, type TestRestServer } from "./support/rest_server.ts";
import { createTestRepository } from "./support/restic_repo.ts";

interface Instance {
  dir: string;
  env: Record<string, string>;
  passwordFile: string;
  configPath: string;
}

/** A stowage instance with its own state dir and config, on `location`. */
async function instance(location: string, password: string, extraYaml = ""): Promise<Instance> {
  const base = await isolatedEnv();
  const passwordFile = `${base.dir}/repo.password`;
  await Deno.writeTextFile(passwordFile, password, { mode: 0o600 });
  await Deno.writeTextFile(
    base.configPath,
    `repository:\n  location: ${location}\n  password_file: ${passwordFile}\nbackup:\n  stop_timeout: 5\n${extraYaml}`,
    { mode: 0o600 },
  );
  return {
    dir: base.dir,
    env: { ...base.env, STOWAGE_CONFIG: base.configPath },
    passwordFile,
    configPath: base.configPath,
  };
}

async function restic(server: TestRestServer, name: string, password: string, ...args: string[]) {
  const pw = await Deno.makeTempFile();
  await Deno.writeTextFile(pw, password);
  try {
    return (await sh("restic", args, {
      env: { RESTIC_REPOSITORY: server.location(name), RESTIC_PASSWORD_FILE: pw },
    })).stdout;
  } finally {
    await Deno.remove(pw);
  }
}

interface Check {
  name: string;
  status: string;
  detail: string;
}

async function repositoryCheck(env: Record<string, string>): Promise<Check> {
  const r = await stowage(["doctor", "--json"], { env });
  const doc = JSON.parse(r.stdout) as { checks: Check[] };
  return doc.checks.find((c) => c.name === "repository")!;
}

async function startedAt(s: FixtureStack): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const svc of ["db", "app", "web"]) {
    out[svc] =
      (await docker("inspect", "-f", "{{.State.Running}} {{.State.StartedAt}}", s.container(svc)))
        .stdout.trim();
  }
  return out;
}

Deno.test("doctor names the REST server and says in one line: fine, wrong credentials, wrong password, server down", async () => {
  const root = await Deno.makeTempDir({ prefix: "stowage-backends-" });
  const server = await startRestServer(root);
  const password = "repo-" + crypto.randomUUID();
  try {
    await createTestRepository(`${server.dir}/r`, password);
    const ok = await instance(server.location("r"), password);
    const c = await repositoryCheck(ok.env);
    assert.equal(c.status, "ok", c.detail);
    assert.match(
      c.detail,
      /^REST server rest:http:\/\/stowage:\*\*REDACTED\*\*@127\.0\.0\.1:\d+\/r\/: 0 snapshots/,
    );

    const badCred = await instance(
      server.location("r").replace(server.password, "not-the-password"),
      password,
    );
    const b = await repositoryCheck(badCred.env);
    assert.equal(b.status, "fail");
    assert.match(b.detail, /^REST server .*refused stowage's credentials \(HTTP 401/);
    assert.ok(!b.detail.includes("not-the-password"), b.detail);

    const badPw = await instance(server.location("r"), "wrong-password");
    const p = await repositoryCheck(badPw.env);
    assert.equal(p.status, "fail");
    assert.match(p.detail, /^REST server .*password file does not open the repository/);

    await server.stop();
    const d = await repositoryCheck(ok.env);
    assert.equal(d.status, "fail");
    assert.match(d.detail, /^REST server .*server does not answer \(connection refused/);
    for (const x of [b, p, d]) assert.ok(!x.detail.includes("\n"), `not one line: ${x.detail}`);
    assert.ok(!JSON.stringify([c, b, p, d]).includes(server.password));
  } finally {
    await server.stop();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});

Deno.test("backups through a REST server, on shared fixture stacks", async (t) => {
  // One stack serves every step (a stack costs docker-compose, three containers and a network);
  // each step has its own REST server and repository, and leaves the stack's containers running.
  await withFixtureStack({ name: "fleetx" }, async (x) => {
    await t.step(
      "a backup with the REST server down stops no container and says the server does not answer",
      () => serverDown(x),
    );
    await t.step(
      "an append-only REST server: backups succeed and retention warns that it cannot forget there",
      () => appendOnly(x),
    );
    await t.step(
      "two hosts, one REST repository: concurrent backups, retention per host, --all-hosts, restore --host",
      () => twoHosts(x),
    );
  });
});

async function serverDown(s: FixtureStack) {
  const root = await Deno.makeTempDir({ prefix: "stowage-backends-" });
  const server = await startRestServer(root);
  try {
    const password = "repo-" + crypto.randomUUID();
    await createTestRepository(`${server.dir}/r`, password);
    const inst = await instance(server.location("r"), password);
    const before = await startedAt(s);
    await server.stop();
    const r = await stowage(["backup", "--unit", s.project], { env: inst.env });
    assert.equal(r.code, 10, r.stderr);
    assert.match(r.stderr, /server does not answer \(connection refused/);
    assert.deepEqual(await startedAt(s), before, "a container was stopped or restarted");
    for (const v of Object.values(before)) assert.match(v, /^true /);
  } finally {
    await server.stop();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

async function appendOnly(s: FixtureStack) {
  const root = await Deno.makeTempDir({ prefix: "stowage-backends-" });
  const server = await startRestServer(root, { appendOnly: true });
  try {
    const password = "repo-" + crypto.randomUUID();
    await createTestRepository(`${server.dir}/r`, password);
    const inst = await instance(
      server.location("r"),
      password,
      "retention:\n  latest: 1\n",
    );
    await Deno.writeTextFile(
      inst.configPath,
      (await Deno.readTextFile(inst.configPath)).replace(
        "repository:\n",
        "repository:\n  append_only: true\n",
      ),
    );
    // The folders' snapshots of the previous round: the only parent a cold pass may compare with.
    let previous: string[] = [];
    for (const round of [1, 2]) {
      const r = await stowage(["backup", "--unit", s.project, "--json"], { env: inst.env });
      assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
      const report = JSON.parse(r.stdout) as RunReport;
      const u = report.units.find((x) => x.unit === s.project)!;
      assert.equal(u.outcome, "ok");
      // No warm pass: the server would refuse to forget its snapshot. A warm pass would be the
      // stopped pass's parent, so each folder's parent shows one ran even if its snapshot went:
      // none in the first round, the first round's own snapshot in the second.
      const folders = u.snapshots.filter((x) => ["data", "volume", "bind"].includes(x.type));
      assert.ok(folders.length > 0, JSON.stringify(u.snapshots));
      for (const f of folders) {
        const from = previous.filter((id) => f.parent && id.startsWith(f.parent.slice(0, 8)));
        assert.ok(
          round === 1 ? f.parent === undefined : from.length === 1,
          `round ${round}: ${f.item} was compared with ${f.parent}, not with [${previous}]`,
        );
      }
      previous = [...new Set(folders.map((f) => f.snapshotId))];
      assert.ok(!u.warnings.some((w) => /warm/.test(w)), u.warnings.join("\n"));
      if (round === 2) {
        assert.ok(
          u.warnings.some((w) => /retention cannot forget in an append-only repository/.test(w)),
          u.warnings.join("\n"),
        );
        assert.equal(u.forgotten ?? 0, 0);
      }
    }
    const tags = (JSON.parse(await restic(server, "r", password, "snapshots", "--json")) as {
      tags?: string[];
    }[]).flatMap((x) => x.tags ?? []);
    assert.ok(!tags.includes("stowage-warm"), "no warm-pass snapshot is left behind");
    const ids = new Set(tags.filter((t) => t.startsWith("backup_id=")));
    assert.ok(ids.size >= 2, `both restore points stay: ${[...ids]}`);
  } finally {
    await server.stop();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

async function twoHosts(x: FixtureStack) {
  const root = await Deno.makeTempDir({ prefix: "stowage-backends-" });
  const server = await startRestServer(root);
  const y = await createFixtureStack({ name: "fleety" });
  try {
    await y.up();
    const password = "repo-" + crypto.randomUUID();
    await createTestRepository(`${server.dir}/fleet`, password);
    const keep1 = "retention:\n  latest: 1\n";
    const alpha = await instance(server.location("fleet"), password, `host: alpha\n${keep1}`);
    const beta = await instance(server.location("fleet"), password, `host: beta\n${keep1}`);

    // Concurrently, each host its own unit, into the one repository.
    const [a1, b1] = await Promise.all([
      stowage(["backup", "--unit", x.project, "--json"], { env: alpha.env }),
      stowage(["backup", "--unit", y.project, "--json"], { env: beta.env }),
    ]);
    assert.equal(a1.code, 0, a1.stderr);
    assert.equal(b1.code, 0, b1.stderr);
    assert.equal((JSON.parse(a1.stdout) as RunReport).host, "alpha");
    assert.equal((JSON.parse(b1.stdout) as RunReport).host, "beta");

    // beta backs up x too, twice: its retention (latest: 1) forgets its own older x point only.
    for (let i = 0; i < 2; i++) {
      const r = await stowage(["backup", "--unit", x.project], { env: beta.env });
      assert.equal(r.code, 0, r.stderr);
    }
    const points = async () => {
      const snaps = JSON.parse(await restic(server, "fleet", password, "snapshots", "--json")) as {
        hostname: string;
        tags?: string[];
      }[];
      const byHost: Record<string, Set<string>> = {};
      for (const sn of snaps.filter((sn) => sn.tags?.includes(`unit=${x.project}`))) {
        const id = sn.tags!.find((t) => t.startsWith("backup_id="))!;
        (byHost[sn.hostname] ??= new Set()).add(id);
      }
      return Object.fromEntries(Object.entries(byHost).map(([h, s]) => [h, s.size]));
    };
    assert.deepEqual(await points(), { alpha: 1, beta: 1 });

    // snapshot list: this host's points by default, the fleet with --all-hosts.
    const own = await stowage(["admin", "snapshot", "list", "--json", "--no-sizes"], {
      env: alpha.env,
    });
    assert.equal(own.code, 0, own.stderr);
    const ownDoc = JSON.parse(own.stdout) as {
      units: { unit: string; restorePoints: { host: string }[] }[];
      otherHosts: string[];
    };
    assert.deepEqual(ownDoc.otherHosts, ["beta"]);
    assert.ok(
      ownDoc.units.flatMap((u) => u.restorePoints).every((p) => p.host === "alpha"),
      own.stdout,
    );
    const fleet = await stowage([
      "admin",
      "snapshot",
      "list",
      "--all-hosts",
      "--json",
      "--no-sizes",
    ], {
      env: alpha.env,
    });
    const fleetDoc = JSON.parse(fleet.stdout) as typeof ownDoc;
    const hostsOf = (unit: string) =>
      [...new Set(fleetDoc.units.find((u) => u.unit === unit)!.restorePoints.map((p) => p.host))]
        .sort();
    assert.deepEqual(hostsOf(x.project), ["alpha", "beta"]);
    assert.deepEqual(hostsOf(y.project), ["beta"]);

    // alpha restores beta's unit y (the new-server case), into a folder.
    const out = `${root}/restored`;
    const r = await stowage(
      ["restore", "--unit", y.project, "--host", "beta", "--latest", "--to-dir", out, "--yes"],
      { env: alpha.env },
    );
    assert.equal(r.code, 0, r.stderr);
    const restoredVolumes = [...Deno.readDirSync(`${out}/volumes`)].map((e) => e.name).sort();
    assert.deepEqual(restoredVolumes, [y.volume("app_data"), y.volume("db_data")].sort());
    const none = await stowage(
      [
        "restore",
        "--unit",
        y.project,
        "--host",
        "gamma",
        "--latest",
        "--to-dir",
        `${out}-2`,
        "--yes",
      ],
      { env: alpha.env },
    );
    assert.equal(none.code, 6, none.stderr);
    assert.match(none.stderr, /host 'gamma' made no restore point/);
  } finally {
    await y.down();
    await server.stop();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}
