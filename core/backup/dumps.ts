/**
 * Database dumps, the decisions (docs/dumps.md): which services of a unit are databases and how
 * each is saved (label `stowage.dump` / `stowage.dump-mode`, config
 * `units.U.services.S.{dump,mode}`, detection by image name when `backup.detect_databases`), how
 * the plan changes for them (mode `dump`: not stopped, data volumes not copied), the commands run
 * inside the database's container with the credentials from its own environment (never in argv),
 * and the check a dump's output must pass before it counts. Pure; core/backup/dump_exec.ts runs it.
 */
import type { Config } from "../config/schema.ts";
import type { ContainerInfo, Scope, Unit } from "../model.ts";
import { planUnit, type UnitPlan } from "./plan.ts";
import type { Check } from "../doctor.ts";

export type DumpEngine = "postgres" | "mariadb";
export type DumpMode = "dump" | "cold" | "both";

export const DUMP_LABEL = "stowage.dump";
export const DUMP_MODE_LABEL = "stowage.dump-mode";

/** One database service to dump. */
export interface DumpTarget {
  container: string;
  /** Compose service, or the container's name for a standalone container. */
  service: string;
  engine: DumpEngine;
  mode: DumpMode;
  /** Why it is dumped: its label, the config, or its image name (detection). */
  source: "label" | "config" | "detected";
  /** Named volumes it mounts read-write: not copied in mode `dump`. */
  volumes: string[];
}

export interface DumpDecision {
  targets: DumpTarget[];
  /** A label or config naming what cannot be dumped: the unit fails before anything is touched. */
  problems: string[];
  /** Databases found by image name while `backup.detect_databases` is off (dry-run proposes them). */
  proposals: string[];
  /** Database services that are not running: saved cold, never dumped. */
  notes: string[];
}

const ENGINE_OF: Record<string, DumpEngine | "none"> = {
  postgres: "postgres",
  mariadb: "mariadb",
  mysql: "mariadb",
  none: "none",
};
const MODES = new Set<string>(["dump", "cold", "both"]);

/** `postgres` for `docker.io/library/postgres:16-alpine`, `bitnami/postgresql@sha256:...`. */
export function detectEngine(image: string): DumpEngine | undefined {
  const noDigest = image.split("@")[0];
  const lastSegment = noDigest.split("/").pop() ?? "";
  const name = lastSegment.split(":")[0].toLowerCase();
  if (name === "postgres" || name === "postgresql" || name === "postgis") return "postgres";
  if (name === "mariadb" || name === "mysql") return "mariadb";
  return undefined;
}

/** The services of a unit to dump, from labels, config and (when on) detection. */
export function decideDumps(unit: Unit, config: Config): DumpDecision {
  const decision: DumpDecision = { targets: [], problems: [], proposals: [], notes: [] };
  const services = config.units[unit.name]?.services ?? {};
  for (const c of unit.containers) {
    const service = c.service ?? c.name;
    const cfg = services[service];
    const label = c.labels[DUMP_LABEL];
    const modeLabel = c.labels[DUMP_MODE_LABEL];
    let engine: DumpEngine | "none" | undefined;
    let source: DumpTarget["source"] = "detected";
    if (cfg?.dump !== undefined) {
      engine = ENGINE_OF[cfg.dump];
      source = "config";
    } else if (label !== undefined) {
      engine = ENGINE_OF[label.trim().toLowerCase()];
      source = "label";
      if (engine === undefined) {
        decision.problems.push(
          `service '${service}': label ${DUMP_LABEL}=${
            JSON.stringify(label.slice(0, 60))
          } is not one of postgres, mariadb, mysql, none`,
        );
        continue;
      }
    } else {
      const detected = detectEngine(c.image);
      if (detected && !config.backup.detect_databases) {
        decision.proposals.push(
          `service '${service}' looks like ${detected} (image ${c.image}): set the label ${DUMP_LABEL}=${detected} or backup.detect_databases to dump it hot`,
        );
        continue;
      }
      engine = detected;
    }
    if (engine === undefined || engine === "none") continue;
    let mode: DumpMode = "both";
    if (cfg?.mode !== undefined) mode = cfg.mode;
    else if (modeLabel !== undefined) {
      const m = modeLabel.trim().toLowerCase();
      if (!MODES.has(m)) {
        decision.problems.push(
          `service '${service}': label ${DUMP_MODE_LABEL}=${
            JSON.stringify(modeLabel.slice(0, 60))
          } is not one of dump, cold, both`,
        );
        continue;
      }
      mode = m as DumpMode;
    }
    if (mode === "cold") continue;
    if (!c.running) {
      // A stopped database's files are consistent: the cold copy saves it.
      decision.notes.push(
        `service '${service}' (${engine}) is not running: its volumes are copied, no dump is taken`,
      );
      continue;
    }
    decision.targets.push({
      container: c.name,
      service,
      engine,
      mode,
      source,
      volumes: dataVolumes(c),
    });
  }
  return decision;
}

/** planUnit with the unit's dumps decided and applied: what backup runs and dry-run shows. */
export function planWithDumps(unit: Unit, config: Config, scopeFlag?: Scope): UnitPlan {
  const plan = planUnit(unit, config, scopeFlag);
  if (plan.skip) return plan;
  const decision = decideDumps(unit, config);
  const empty = decision.targets.length + decision.problems.length + decision.proposals.length +
      decision.notes.length === 0;
  return empty ? plan : { ...applyDumpModes(plan, decision), dumps: decision };
}

/** `doctor`: the database services each unit dumps, what detection proposes, what cannot work. */
export function dumpsCheck(units: Unit[], config: Config): Check {
  const name = "database dumps";
  const found: string[] = [];
  const problems: string[] = [];
  const proposals: string[] = [];
  for (const u of units) {
    if (config.units[u.name]?.skip) continue;
    const d = decideDumps(u, config);
    found.push(
      ...d.targets.map((t) => `${u.name}/${t.service} (${t.engine}, mode ${t.mode}, ${t.source})`),
    );
    problems.push(...d.problems.map((p) => `[${u.name}] ${p}`));
    proposals.push(...d.proposals.map((p) => `[${u.name}] ${p}`));
  }
  if (problems.length > 0) {
    return {
      name,
      status: "fail",
      detail: problems.join("; "),
      hint:
        "Fix the label or set units.UNIT.services.SERVICE.dump / .mode (docs/dumps.md); those units' backups fail until then.",
    };
  }
  if (proposals.length > 0) {
    return {
      name,
      status: "warn",
      detail: proposals.join("; "),
      hint: "Copying a running database's files is not consistent; dump it (docs/dumps.md).",
    };
  }
  return {
    name,
    status: "ok",
    detail: found.length ? `dumped hot: ${found.join(", ")}` : "no database service found",
  };
}

function dataVolumes(c: ContainerInfo): string[] {
  return c.mounts.filter((m) => m.type === "volume" && !m.readOnly).map((m) => m.source);
}

/**
 * The plan with the dumps applied: a database in mode `dump` is neither stopped nor started and
 * its data volumes are not copied (the dump is its backup); mode `both` changes nothing here (the
 * dump is taken first, then the cold copy). A volume another stopped container also writes stays.
 */
export function applyDumpModes(plan: UnitPlan, decision: DumpDecision): UnitPlan {
  const hot = decision.targets.filter((t) => t.mode === "dump");
  if (hot.length === 0) return plan;
  const hotNames = new Set(hot.map((t) => t.container));
  const writtenByOthers = new Set(
    plan.unit.containers.filter((c) => !hotNames.has(c.name)).flatMap(dataVolumes),
  );
  const skipVolumes = new Set(
    hot.flatMap((t) => t.volumes).filter((v) => !writtenByOthers.has(v)),
  );
  return {
    ...plan,
    stop: plan.stop.filter((n) => !hotNames.has(n)),
    start: plan.start.filter((n) => !hotNames.has(n)),
    items: plan.items.filter((i) => !(i.type === "volume" && skipVolumes.has(i.item))),
    gaps: [
      ...plan.gaps,
      ...[...skipVolumes].map((v) => ({
        kind: "skipped-by-config" as const,
        item: v,
        reason: `data volume of a database in mode dump: saved as its logical dump, not copied`,
      })),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Credentials and commands

/** How a dump authenticates: values for the exec's environment, never for argv. */
export interface DumpCredentials {
  user: string;
  /** The password itself, from the container's environment. */
  password?: string;
  /** A path inside the container holding the password (`*_PASSWORD_FILE`), read there. */
  passwordFile?: string;
}

/** `KEY=VALUE` lines of a container's Config.Env as a record (the last one wins, as in Docker). */
export function envRecord(env: string[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of env ?? []) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

// deno-lint-ignore no-control-regex
const SAFE_FILE = /^\/[^\u0000-\u001f\u007f]*$/;

/** The credentials the official images set up, read from the database container's environment. */
export function dumpCredentials(engine: DumpEngine, env: Record<string, string>): DumpCredentials {
  const file = (name: string) => {
    const p = env[`${name}_FILE`];
    return p !== undefined && SAFE_FILE.test(p) ? p : undefined;
  };
  if (engine === "postgres") {
    return {
      user: env.POSTGRES_USER || "postgres",
      password: env.POSTGRES_PASSWORD || undefined,
      passwordFile: env.POSTGRES_PASSWORD ? undefined : file("POSTGRES_PASSWORD"),
    };
  }
  const password = env.MARIADB_ROOT_PASSWORD || env.MYSQL_ROOT_PASSWORD || undefined;
  return {
    user: "root",
    password,
    passwordFile: password
      ? undefined
      : file("MARIADB_ROOT_PASSWORD") ?? file("MYSQL_ROOT_PASSWORD"),
  };
}

/** A command for the Engine's exec: argv holds no secret, env does. */
export interface ExecCommand {
  argv: string[];
  env: string[];
}

/** Reads a `*_PASSWORD_FILE` inside the container; the path travels in env, the answer on stdout. */
export function readSecretFileCommand(path: string): ExecCommand {
  return {
    argv: ["sh", "-c", 'exec cat -- "$STOWAGE_SECRET_FILE"'],
    env: [`STOWAGE_SECRET_FILE=${path}`],
  };
}

/** The password read from a file: one trailing newline is not part of it (as the images do). */
export function passwordFromFile(text: string): string {
  return text.replace(/\r?\n$/, "");
}

const PG_LIST =
  "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname";

/**
 * A MariaDB/MySQL client or dump program run through sh, its credentials an option file on fd 3
 * (a here-document from the exec's environment), never in argv. `args` is shell text after the
 * option file; `arg`, when given, is its `$1`.
 */
function mysqlCommand(
  program: "client" | "dump",
  args: string,
  user: string,
  password: string | undefined,
  arg?: string,
): ExecCommand {
  const [find, bin] = program === "client" ? [MYSQL_CLIENT, "$client"] : [MYSQL_DUMP, "$dump"];
  return {
    argv: [
      "sh",
      "-c",
      `${find}exec "${bin}" --defaults-extra-file=/dev/fd/3${args ? ` ${args}` : ""} 3<<EOF
$STOWAGE_DB_DEFAULTS
EOF`,
      ...(arg === undefined ? [] : ["sh", arg]),
    ],
    env: [`STOWAGE_DB_DEFAULTS=${mysqlDefaults(user, password)}`],
  };
}

/** Lists the databases to dump, one name a line. */
export function listDatabasesCommand(
  engine: DumpEngine,
  password: string | undefined,
  user: string,
): ExecCommand {
  if (engine === "postgres") {
    return {
      argv: ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", PG_LIST],
      env: pgEnv(user, password),
    };
  }
  return mysqlCommand("client", "-N -B -e 'SHOW DATABASES'", user, password);
}

/** Databases MariaDB/MySQL keep for themselves: never dumped. */
const MYSQL_SYSTEM = new Set(["information_schema", "performance_schema", "mysql", "sys"]);

/** The names from the list command's output, without the engine's own databases. */
export function parseDatabaseList(engine: DumpEngine, stdout: string): string[] {
  const names = stdout.split("\n").map((l) => l.replace(/\r$/, "")).filter((l) => l !== "");
  return engine === "mariadb" ? names.filter((n) => !MYSQL_SYSTEM.has(n)) : names;
}

/** Dumps one database to stdout (plain SQL that drops and recreates its objects when loaded). */
export function dumpCommand(
  engine: DumpEngine,
  database: string,
  user: string,
  password: string | undefined,
): ExecCommand {
  if (engine === "postgres") {
    return {
      argv: ["pg_dump", "--no-password", "--clean", "--if-exists", "-d", database],
      env: pgEnv(user, password),
    };
  }
  return mysqlCommand(
    "dump",
    '--single-transaction --routines --events --triggers --hex-blob --databases "$1"',
    user,
    password,
    database,
  );
}

/** Loads a dump read from stdin into one database (restore --only dumps). */
export function loadCommand(
  engine: DumpEngine,
  database: string,
  user: string,
  password: string | undefined,
): ExecCommand {
  if (engine === "postgres") {
    // The dump drops and recreates its objects; the database itself must exist.
    return {
      argv: [
        "sh",
        "-c",
        `psql -X -q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1 ||
  createdb -- "$1" || exit 1
exec psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$1"`,
        "sh",
        database,
      ],
      env: pgEnv(user, password),
    };
  }
  return mysqlCommand("client", "", user, password);
}

/** `SELECT count(*)` of one table, the table quoted as the dump quoted it (verify_dumps). */
export function countRowsCommand(
  engine: DumpEngine,
  database: string,
  table: string,
  user: string,
  password: string | undefined,
): ExecCommand {
  if (engine === "postgres") {
    return {
      argv: ["psql", "-X", "-A", "-t", "-d", database, "-c", `SELECT count(*) FROM ${table}`],
      env: pgEnv(user, password),
    };
  }
  return mysqlCommand(
    "client",
    '-N -B -e "$1"',
    user,
    password,
    `SELECT COUNT(*) FROM \`${database}\`.${table}`,
  );
}

function pgEnv(user: string, password: string | undefined): string[] {
  // Over the local socket, as the images' own tools connect; the password when it asks for one.
  return [`PGUSER=${user}`, ...(password !== undefined ? [`PGPASSWORD=${password}`] : [])];
}

const MYSQL_CLIENT =
  `if command -v mariadb >/dev/null 2>&1; then client=mariadb; else client=mysql; fi\n`;
const MYSQL_DUMP =
  `if command -v mariadb-dump >/dev/null 2>&1; then dump=mariadb-dump; else dump=mysqldump; fi\n`;

/**
 * An option file for the MariaDB/MySQL clients, handed to them on a file descriptor from a shell
 * here-document whose text comes from the exec's environment: the password is in no argv and in
 * no file. Values are quoted with the option-file escapes.
 */
export function mysqlDefaults(user: string, password: string | undefined): string {
  const q = (v: string) =>
    `"${
      v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n").replaceAll(
        "\r",
        "\\r",
      )
    }"`;
  const lines = ["[client]", `user=${q(user)}`];
  if (password !== undefined) lines.push(`password=${q(password)}`);
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// The check

/** The line each tool writes when it finished the dump. */
export const COMPLETION_MARKERS: Record<DumpEngine, RegExp> = {
  postgres: /^-- PostgreSQL database dump complete$/,
  mariadb: /^-- Dump completed( on .*)?$/,
};
/** What may follow the marker: pg_dump 15.20+ ends with `\unrestrict <token>`, comments, blanks. */
const AFTER_MARKER = /^(|--.*|\\unrestrict \S+)$/;
const TAIL = 4096;

/**
 * Watches a dump's bytes as they stream past: their count and the last 4 KiB, where the tool's
 * completion marker must be. `verdict` says whether the dump counts.
 */
export class DumpCheck {
  bytes = 0;
  #tail = new Uint8Array(0);

  constructor(readonly engine: DumpEngine) {}

  push(chunk: Uint8Array) {
    this.bytes += chunk.length;
    const joined = new Uint8Array(Math.min(TAIL, this.#tail.length + chunk.length));
    const fromChunk = Math.min(chunk.length, joined.length);
    const fromTail = joined.length - fromChunk;
    joined.set(this.#tail.subarray(this.#tail.length - fromTail), 0);
    joined.set(chunk.subarray(chunk.length - fromChunk), fromTail);
    this.#tail = joined;
  }

  /** undefined when the dump counts, otherwise why not. */
  verdict(exitCode: number, stderr: string): string | undefined {
    const err = stderrTail(stderr);
    if (exitCode !== 0) return `the dump exited with code ${exitCode}${err ? `: ${err}` : ""}`;
    if (this.bytes === 0) return `the dump is empty (0 bytes)${err ? `: ${err}` : ""}`;
    const lines = new TextDecoder().decode(this.#tail).split("\n").map((l) => l.replace(/\r$/, ""));
    const marker = COMPLETION_MARKERS[this.engine];
    let at = -1;
    for (let i = lines.length - 1; i >= 0; i--) {
      if (marker.test(lines[i])) {
        at = i;
        break;
      }
    }
    if (at < 0 || !lines.slice(at + 1).every((l) => AFTER_MARKER.test(l))) {
      return `the dump does not end with its completion marker (${
        this.engine === "postgres" ? "-- PostgreSQL database dump complete" : "-- Dump completed"
      }): it is incomplete`;
    }
    return undefined;
  }
}

/** The last lines of a tool's stderr, for an error message. */
export function stderrTail(stderr: string): string {
  const lines = stderr.trim().split("\n").filter(Boolean);
  const text = lines.slice(-3).join(" / ");
  return text.length > 400 ? `...${text.slice(-400)}` : text;
}

/** The file name a dump is stored under in its snapshot and written to by `--to-dir`. */
export function dumpFileName(service: string, database: string): string {
  return `dumps/${service}/${database}.sql`;
}

/**
 * Counts the rows of each table in a plain pg_dump as it streams past: the lines between
 * `COPY <table> (...) FROM stdin;` and `\.` (one row a line; newlines in values are escaped).
 * `backup.verify_dumps` compares them with the tables after loading the dump elsewhere.
 */
export class PgRowCounter {
  readonly rows = new Map<string, number>();
  #partial = "";
  #table: string | undefined;
  #decoder = new TextDecoder();

  push(chunk: Uint8Array) {
    const text = this.#partial + this.#decoder.decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) this.#line(line);
  }

  #line(line: string) {
    if (this.#table !== undefined) {
      if (line === "\\.") this.#table = undefined;
      else this.rows.set(this.#table, (this.rows.get(this.#table) ?? 0) + 1);
      return;
    }
    const m = /^COPY (.+?) (?:\(.*\) )?FROM stdin;$/.exec(line);
    if (m) {
      this.#table = m[1];
      this.rows.set(m[1], this.rows.get(m[1]) ?? 0);
    }
  }
}

/** Differences between the row counts in a dump and after loading it; empty when they agree. */
export function compareRowCounts(
  expected: ReadonlyMap<string, number>,
  actual: ReadonlyMap<string, number>,
): string[] {
  const out: string[] = [];
  for (const [table, n] of expected) {
    const got = actual.get(table);
    if (got !== n) {
      out.push(`${table}: ${n} rows in the dump, ${got ?? "no table"} after loading it`);
    }
  }
  return out;
}

/**
 * Counts the rows of each table in a mariadb-dump/mysqldump as it streams past: the top-level
 * tuples of every `INSERT INTO \`table\` VALUES (...),(...);`, on one line or one tuple a line,
 * with quoted strings (and their backslash escapes) skipped. Tables keep the dump's quoting.
 */
export class MysqlRowCounter {
  readonly rows = new Map<string, number>();
  #line = "";
  #skipLine = false;
  #table: string | undefined;
  #depth = 0;
  #quote: string | undefined;
  #escaped = false;
  #decoder = new TextDecoder();

  push(chunk: Uint8Array) {
    this.#feed(this.#decoder.decode(chunk, { stream: true }));
  }

  #feed(text: string) {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (this.#table === undefined) {
        if (ch === "\n") {
          this.#line = "";
          this.#skipLine = false;
          continue;
        }
        if (this.#skipLine) continue;
        this.#line += ch;
        const head = /^INSERT INTO (`(?:[^`]|``)+`) VALUES/.exec(this.#line);
        if (head) {
          this.#table = head[1];
          this.rows.set(head[1], this.rows.get(head[1]) ?? 0);
          this.#line = "";
        } else if (
          !"INSERT INTO `".startsWith(this.#line.slice(0, 13)) || this.#line.length > 400
        ) {
          this.#skipLine = true;
          this.#line = "";
        }
        continue;
      }
      if (this.#quote !== undefined) {
        if (this.#escaped) this.#escaped = false;
        else if (ch === "\\") this.#escaped = true;
        else if (ch === this.#quote) this.#quote = undefined;
        continue;
      }
      if (ch === "'" || ch === '"') this.#quote = ch;
      else if (ch === "(") {
        if (this.#depth === 0) this.rows.set(this.#table, this.rows.get(this.#table)! + 1);
        this.#depth++;
      } else if (ch === ")") this.#depth--;
      else if (ch === ";" && this.#depth === 0) {
        this.#table = undefined;
        this.#skipLine = true; // the rest of this line
      }
    }
  }
}
