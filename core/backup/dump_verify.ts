/**
 * `backup.verify_dumps` (docs/dumps.md): the dumps just stored are read back from the repository
 * and loaded into a throwaway container of the database's own image (no network, its data in a
 * tmpfs, removed afterwards); every table must then hold as many rows as the dump has for it
 * (PostgreSQL: its COPY block; MariaDB: its INSERT tuples). A failure throws: the unit fails and
 * writes no completion marker.
 */
import { errorMessage, StowageError } from "../errors.ts";
import type { BackupRepository, Clock, DockerEngine } from "../ports.ts";
import {
  compareRowCounts,
  countRowsCommand,
  type DumpCredentials,
  dumpFileName,
  type DumpTarget,
  envRecord,
  listDatabasesCommand,
  loadCommand,
  stderrTail,
} from "./dumps.ts";

export interface SavedDump {
  database: string;
  snapshotId: string;
  /** Rows per table counted while the dump streamed (PostgreSQL with verify_dumps). */
  rows?: Map<string, number>;
}

export type VerifyDeps = {
  engine: Pick<
    DockerEngine,
    | "inspectContainer"
    | "createContainer"
    | "startContainer"
    | "removeContainer"
    | "exec"
    | "execWithStdin"
  >;
  repo: BackupRepository;
  clock: Clock;
};

const READY_TIMEOUT_MS = 120_000;

export async function verifyDumps(
  deps: VerifyDeps,
  target: Pick<DumpTarget, "container" | "service" | "engine">,
  creds: DumpCredentials,
  saved: SavedDump[],
  signal: AbortSignal,
): Promise<{ databases: number; tables: number }> {
  const source = await deps.engine.inspectContainer(target.container);
  const env = envRecord(source.Config.Env);
  const pg = target.engine === "postgres";
  const dataDir = pg ? env.PGDATA || "/var/lib/postgresql/data" : "/var/lib/mysql";
  // A password of its own: the throwaway server never sees the real one.
  const password = crypto.randomUUID();
  const user = pg ? creds.user : "root";
  const name = `stowage-verify-${target.container}-${crypto.randomUUID().slice(0, 8)}`.slice(
    0,
    120,
  );
  const fail = (why: string) =>
    new StowageError(
      "backup.failed",
      `Verifying the dumps of '${target.service}' failed: ${why}`,
      "The dumps were stored but do not load as taken; this backup is not a complete restore point (docs/dumps.md).",
    );
  await deps.engine.createContainer(name, {
    Image: source.Image,
    Env: pg
      ? [
        `POSTGRES_USER=${creds.user}`,
        `POSTGRES_PASSWORD=${password}`,
        ...(env.PGDATA ? [`PGDATA=${env.PGDATA}`] : []),
      ]
      : [`MARIADB_ROOT_PASSWORD=${password}`, `MYSQL_ROOT_PASSWORD=${password}`],
    Labels: { "stowage.verify": target.container },
    HostConfig: { NetworkMode: "none", Tmpfs: { [dataDir]: "" }, AutoRemove: false },
  });
  try {
    await deps.engine.startContainer(name);
    const ready = listDatabasesCommand(target.engine, password, user);
    await waitReady(deps, name, ready, signal, fail);
    let tables = 0;
    for (const d of saved) {
      signal.throwIfAborted();
      const src = await deps.repo.dumpStream!(
        d.snapshotId,
        `/${dumpFileName(target.service, d.database)}`,
        signal,
      );
      const cmd = loadCommand(target.engine, d.database, user, password);
      const r = await deps.engine.execWithStdin(name, cmd.argv, src.stream, {
        env: cmd.env,
        signal,
      });
      await src.done;
      if (r.exitCode !== 0) {
        throw fail(
          `database '${d.database}' did not load (exit ${r.exitCode}): ${stderrTail(r.stderr)}`,
        );
      }
      const expected = d.rows ?? new Map<string, number>();
      const actual = new Map<string, number>();
      for (const table of expected.keys()) {
        const c = countRowsCommand(target.engine, d.database, table, user, password);
        const q = await deps.engine.exec(name, c.argv, { env: c.env, signal });
        if (q.exitCode === 0) actual.set(table, Number(q.stdout.trim()));
      }
      const diff = compareRowCounts(expected, actual);
      if (diff.length > 0) throw fail(`database '${d.database}': ${diff.join("; ")}`);
      tables += expected.size;
    }
    return { databases: saved.length, tables };
  } finally {
    await deps.engine.removeContainer(name, { force: true, volumes: true }).catch(() => {});
  }
}

async function waitReady(
  deps: VerifyDeps,
  name: string,
  probe: { argv: string[]; env: string[] },
  signal: AbortSignal,
  fail: (why: string) => StowageError,
) {
  const deadline = deps.clock.now().getTime() + READY_TIMEOUT_MS;
  let last = "";
  while (true) {
    signal.throwIfAborted();
    try {
      const r = await deps.engine.exec(name, probe.argv, { env: probe.env, signal });
      if (r.exitCode === 0) return;
      last = stderrTail(r.stderr);
    } catch (e) {
      last = errorMessage(e);
    }
    if (deps.clock.now().getTime() > deadline) {
      throw fail(`the throwaway server did not accept connections within 120 s (${last})`);
    }
    await deps.clock.sleep(250);
  }
}
