import assert from "node:assert/strict";
import { configSchema } from "../config/schema.ts";
import type { ContainerInfo, Unit } from "../model.ts";
import { bareUnit } from "../restore/hooks.ts";
import {
  compareRowCounts,
  decideDumps,
  detectEngine,
  DumpCheck,
  dumpCommand,
  dumpCredentials,
  dumpsCheck,
  listDatabasesCommand,
  loadCommand,
  mysqlDefaults,
  MysqlRowCounter,
  parseDatabaseList,
  PgRowCounter,
  planWithDumps,
} from "./dumps.ts";

function ctr(name: string, image: string, extra: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: name,
    name,
    service: name.replace(/^app-|-1$/g, ""),
    image,
    imageId: `sha256:${name}`,
    state: "running",
    running: true,
    hasHealthcheck: false,
    labels: {},
    mounts: [],
    networks: {},
    networkMode: "default",
    ...extra,
  };
}

function stack(containers: ContainerInfo[]): Unit {
  const u = bareUnit("app", "stack");
  u.containers = containers;
  u.volumes = containers.flatMap((c) =>
    c.mounts.filter((m) => m.type === "volume").map((m) => ({
      name: m.source,
      driver: "local",
      mountpoint: `/var/lib/docker/volumes/${m.source}/_data`,
      labels: {},
      options: {},
      usedBy: [c.name],
      external: false,
    }))
  ) as Unit["volumes"];
  return u;
}

const cfg = (doc: Record<string, unknown> = {}) => configSchema.parse(doc);
const dataMount = (v: string) => ({
  type: "volume" as const,
  source: v,
  destination: "/var/lib/postgresql/data",
  readOnly: false,
});

Deno.test("detection knows postgres, mariadb and mysql images by name, whatever registry or tag", () => {
  assert.equal(detectEngine("postgres:16-alpine"), "postgres");
  assert.equal(detectEngine("docker.io/library/postgres@sha256:abc"), "postgres");
  assert.equal(detectEngine("registry:5000/team/mariadb:11"), "mariadb");
  assert.equal(detectEngine("mysql:8"), "mariadb");
  assert.equal(detectEngine("nginx:latest"), undefined);
  assert.equal(detectEngine("postgres-exporter:1"), undefined);
});

Deno.test("a detected database is dumped in mode both; config and labels override detection", () => {
  const u = stack([
    ctr("app-db-1", "postgres:16"),
    ctr("app-maria-1", "nginx", {
      labels: { "stowage.dump": "mariadb", "stowage.dump-mode": "dump" },
    }),
    ctr("app-off-1", "mysql:8", { labels: { "stowage.dump": "none" } }),
    ctr("app-cfg-1", "postgres:15"),
  ]);
  const d = decideDumps(u, cfg({ units: { app: { services: { cfg: { mode: "cold" } } } } }));
  assert.deepEqual(
    d.targets.map((t) => [t.service, t.engine, t.mode, t.source]),
    [["db", "postgres", "both", "detected"], ["maria", "mariadb", "dump", "label"]],
  );
  assert.deepEqual(d.problems, []);
});

Deno.test("with detect_databases off a database image is only proposed, a label still counts", () => {
  const u = stack([
    ctr("app-db-1", "postgres:16"),
    ctr("app-x-1", "busybox", { labels: { "stowage.dump": "postgres" } }),
  ]);
  const d = decideDumps(u, cfg({ backup: { detect_databases: false } }));
  assert.deepEqual(d.targets.map((t) => t.service), ["x"]);
  assert.equal(d.proposals.length, 1);
  assert.match(d.proposals[0], /service 'db' looks like postgres/);
});

Deno.test("an unknown stowage.dump or dump-mode label is a problem, not silently ignored", () => {
  const u = stack([
    ctr("app-a-1", "x", { labels: { "stowage.dump": "oracle" } }),
    ctr("app-b-1", "postgres", { labels: { "stowage.dump-mode": "hot" } }),
  ]);
  const d = decideDumps(u, cfg());
  assert.equal(d.targets.length, 0);
  assert.equal(d.problems.length, 2);
  assert.match(d.problems[0], /stowage.dump="oracle"/);
  assert.match(d.problems[1], /stowage.dump-mode="hot"/);
});

Deno.test("a stopped database is not dumped: its volume is copied cold, and a note says so", () => {
  const u = stack([ctr("app-db-1", "postgres", { running: false, state: "exited" })]);
  const d = decideDumps(u, cfg());
  assert.equal(d.targets.length, 0);
  assert.match(d.notes[0], /not running/);
});

Deno.test("mode dump: the database is neither stopped nor copied, the other services still are", () => {
  const u = stack([
    ctr("app-db-1", "postgres", {
      labels: { "stowage.dump-mode": "dump" },
      mounts: [dataMount("app_pg")],
    }),
    ctr("app-web-1", "nginx", { mounts: [{ ...dataMount("app_web"), destination: "/srv" }] }),
  ]);
  const plan = planWithDumps(u, cfg());
  assert.deepEqual(plan.stop, ["app-web-1"]);
  assert.deepEqual(plan.start, ["app-web-1"]);
  assert.deepEqual(plan.items.filter((i) => i.type === "volume").map((i) => i.item), ["app_web"]);
  assert.ok(plan.gaps.some((g) => g.item === "app_pg" && /logical dump/.test(g.reason)));
  // Mode both (the default) keeps the cold copy as it was.
  const both = planWithDumps(
    stack([ctr("app-db-1", "postgres", { mounts: [dataMount("v")] })]),
    cfg(),
  );
  assert.deepEqual(both.stop, ["app-db-1"]);
  assert.deepEqual(both.items.filter((i) => i.type === "volume").map((i) => i.item), ["v"]);
});

Deno.test("credentials come from the official images' variables, _FILE when no value is set", () => {
  assert.deepEqual(dumpCredentials("postgres", { POSTGRES_USER: "u", POSTGRES_PASSWORD: "p" }), {
    user: "u",
    password: "p",
    passwordFile: undefined,
  });
  assert.deepEqual(dumpCredentials("postgres", { POSTGRES_PASSWORD_FILE: "/run/secrets/pg" }), {
    user: "postgres",
    password: undefined,
    passwordFile: "/run/secrets/pg",
  });
  assert.equal(dumpCredentials("mariadb", { MYSQL_ROOT_PASSWORD: "m" }).password, "m");
  assert.equal(
    dumpCredentials("mariadb", { MARIADB_ROOT_PASSWORD_FILE: "/s" }).passwordFile,
    "/s",
  );
  // A relative or control-character path is not read.
  assert.equal(
    dumpCredentials("mariadb", { MARIADB_ROOT_PASSWORD_FILE: "s" }).passwordFile,
    undefined,
  );
});

Deno.test("no command carries the password in its argv, every one carries it in its env", () => {
  const secret = "pa ss'\"word";
  for (const engine of ["postgres", "mariadb"] as const) {
    for (
      const cmd of [
        dumpCommand(engine, "app", "root", secret),
        listDatabasesCommand(engine, secret, "root"),
        loadCommand(engine, "app", "root", secret),
      ]
    ) {
      assert.ok(!cmd.argv.join(" ").includes("pa ss"), cmd.argv.join(" "));
      assert.ok(cmd.env.some((e) => e.includes("pa ss")));
    }
  }
  assert.ok(dumpCommand("mariadb", "app", "root", "x").argv[2].includes("--single-transaction"));
});

Deno.test("the MariaDB option file quotes the password with the option-file escapes", () => {
  assert.equal(
    mysqlDefaults("root", 'a"b\\c\nd'),
    '[client]\nuser="root"\npassword="a\\"b\\\\c\\nd"',
  );
  assert.equal(mysqlDefaults("root", undefined), '[client]\nuser="root"');
});

Deno.test("MariaDB's own databases are never dumped", () => {
  assert.deepEqual(
    parseDatabaseList("mariadb", "information_schema\napp\nmysql\nperformance_schema\nsys\nshop\n"),
    ["app", "shop"],
  );
  assert.deepEqual(parseDatabaseList("postgres", "app\npostgres\n"), ["app", "postgres"]);
});

const enc = (s: string) => new TextEncoder().encode(s);
function checked(engine: "postgres" | "mariadb", text: string, chunk = 7) {
  const c = new DumpCheck(engine);
  for (let i = 0; i < text.length; i += chunk) c.push(enc(text.slice(i, i + chunk)));
  return c;
}
const PG_END = "--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict AbC123xyz\n\n";

Deno.test("a pg_dump that ends with \\unrestrict after its completion marker counts", () => {
  const body = "--\n-- PostgreSQL database dump\n--\nCREATE TABLE t (a int);\n" + "x".repeat(9000);
  assert.equal(checked("postgres", body + "\n" + PG_END).verdict(0, ""), undefined);
  assert.equal(
    checked("postgres", body + "\n" + PG_END, 4096).bytes,
    body.length + 1 + PG_END.length,
  );
});

Deno.test("a dump that is cut off, empty or exited non-zero does not count", () => {
  const body = "--\n-- PostgreSQL database dump\n--\nCOPY t (a) FROM stdin;\n1\n2\n";
  assert.match(checked("postgres", body).verdict(0, "")!, /completion marker/);
  // The marker followed by more data is a marker inside the data, not the end.
  assert.match(
    checked("postgres", body + PG_END + "COPY u FROM stdin;\n").verdict(0, "")!,
    /completion marker/,
  );
  assert.match(checked("postgres", "").verdict(0, "")!, /0 bytes/);
  assert.match(
    checked("postgres", body + PG_END).verdict(
      1,
      'pg_dump: error: password authentication failed for user "x"\n',
    )!,
    /exited with code 1: pg_dump: error: password authentication failed/,
  );
  assert.equal(
    checked("mariadb", "-- MariaDB dump\nINSERT ...;\n-- Dump completed on 2026-11-29  8:06:18\n")
      .verdict(0, ""),
    undefined,
  );
  assert.match(
    checked("mariadb", "-- MariaDB dump\nINSERT ...;\n").verdict(0, "")!,
    /Dump completed/,
  );
});

Deno.test("the row counter counts each COPY block's rows across chunk boundaries", () => {
  const dump = [
    "--",
    "COPY public.items (id, body) FROM stdin;",
    "1\tone",
    "2\ttwo\\nlines",
    "3\tthree",
    "\\.",
    "",
    'COPY public."Odd Name" (x) FROM stdin;',
    "\\.",
    "COPY public.t FROM stdin;",
    "9",
    "\\.",
    PG_END,
  ].join("\n");
  for (const size of [1, 5, 4096]) {
    const c = new PgRowCounter();
    for (let i = 0; i < dump.length; i += size) c.push(enc(dump.slice(i, i + size)));
    assert.deepEqual(
      [...c.rows],
      [["public.items", 3], ['public."Odd Name"', 0], ["public.t", 1]],
    );
  }
  assert.deepEqual(
    compareRowCounts(new Map([["a", 3], ["b", 0]]), new Map([["a", 2]])),
    [
      "a: 3 rows in the dump, 2 after loading it",
      "b: 0 rows in the dump, no table after loading it",
    ],
  );
});

Deno.test("the MariaDB row counter counts tuples on one line or one a line, strings skipped", () => {
  const dump = [
    "-- MariaDB dump",
    "INSERT INTO `items` VALUES",
    "(1,'a),(b'),",
    "(2,'it\\'s (x)'),",
    "(3,NULL);",
    "INSERT INTO `o``dd` VALUES (1,0x00),(2,'\\\\'),(3,\"q\");",
    "INSERT INTO `items` VALUES (4,'d');",
    "CREATE TABLE `empty` (x int);",
    "-- Dump completed on 2026-11-29",
  ].join("\n");
  for (const size of [1, 3, 4096]) {
    const c = new MysqlRowCounter();
    for (let i = 0; i < dump.length; i += size) c.push(enc(dump.slice(i, i + size)));
    assert.deepEqual([...c.rows], [["`items`", 4], ["`o``dd`", 3]]);
  }
});

Deno.test("doctor names the dumped databases, proposes undetected ones and fails on a bad label", () => {
  const u = stack([ctr("app-db-1", "postgres:16", { labels: { "stowage.dump-mode": "dump" } })]);
  const ok = dumpsCheck([u], cfg());
  assert.equal(ok.status, "ok");
  assert.match(ok.detail, /app\/db \(postgres, mode dump, detected\)/);
  assert.equal(dumpsCheck([u], cfg({ backup: { detect_databases: false } })).status, "warn");
  const bad = stack([ctr("app-db-1", "x", { labels: { "stowage.dump": "oracle" } })]);
  assert.equal(dumpsCheck([bad], cfg()).status, "fail");
  assert.equal(
    dumpsCheck([stack([ctr("app-web-1", "nginx")])], cfg()).detail,
    "no database service found",
  );
});
