/**
 * A PostgreSQL-style dump before the backup: `pg_dumpall` runs inside the `db` service and its
 * output lands in a file on the database's volume, so the snapshot holds a consistent dump next
 * to the raw files. The dump is written to a temporary name and renamed when complete, so a
 * failed dump never replaces a good one.
 *
 * Config:
 *   units:
 *     myapp:
 *       hooks:
 *         pre_backup: [{ module: /etc/stowage/hooks/pg_dump.ts, timeout: 600 }]
 */
import type { Hook } from "@stowage/hooks-sdk";

const SERVICE = "db";
const DUMP = "/data/stowage-dump.sql";
const USER = "postgres";

export default {
  sdk: 1,
  name: "pg-dump",

  async preBackup(ctx) {
    const db = ctx.containers.find((c) => c.service === SERVICE);
    if (!db || db.state !== "running") {
      // Without a running database there is nothing consistent to dump: skip this unit's backup.
      return { skip: `service '${SERVICE}' is not running` };
    }
    const script = `pg_dumpall -U "$1" > "$2.tmp" && mv "$2.tmp" "$2"`;
    const res = await ctx.exec(SERVICE, ["sh", "-c", script, "sh", USER, DUMP]);
    if (res.exitCode !== 0) {
      throw new Error(
        `pg_dumpall in '${db.name}' exited with code ${res.exitCode}: ${res.stderr.trim()}`,
      );
    }
    ctx.log.info(`dumped the databases of '${db.name}' to ${DUMP}`);
  },
} satisfies Hook;
