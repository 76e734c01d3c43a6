/**
 * Real database images for the tests, built from Debian bookworm's packages (no image registry is
 * reachable): `mmdebstrap --variant=apt --include=<packages> bookworm` gives a root filesystem,
 * `docker import` turns it into an image whose entry point initialises and starts the server the
 * way the official images do, from the same variables (POSTGRES_USER, POSTGRES_PASSWORD,
 * POSTGRES_DB and their _FILE forms; MARIADB_ROOT_PASSWORD / MYSQL_ROOT_PASSWORD, MARIADB_DATABASE,
 * MARIADB_USER, MARIADB_PASSWORD), so stowage's detection and credential handling meet what they
 * meet in production.
 *
 * The tag carries a hash of the recipe (packages + entry point): a changed recipe builds a new
 * image, an unchanged one is found in the engine. Building takes 60-90 s per image; `.ci/run`
 * builds both in its "test image" step so the suite finds them. Concurrent callers (test files
 * run in parallel) serialise on a lock file, so each image is built once.
 */
import { sh } from "./docker.ts";

export type DbKind = "postgres" | "mariadb";

export const POSTGRES_ENTRYPOINT = `#!/bin/sh
# Entry point of stowage's test PostgreSQL image: the official image's variables, Debian's server.
set -eu
file_env() {
  eval "f=\\\${$1_FILE:-}"
  if [ -n "$f" ]; then eval "$1=\\$(cat \\"\\$f\\")"; export "$1"; fi
}
file_env POSTGRES_PASSWORD
file_env POSTGRES_USER
file_env POSTGRES_DB
POSTGRES_USER="\${POSTGRES_USER:-postgres}"
POSTGRES_DB="\${POSTGRES_DB:-$POSTGRES_USER}"
PGDATA="\${PGDATA:-/var/lib/postgresql/data}"
export PGDATA
mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
chmod 2775 /run/postgresql
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "\${POSTGRES_PASSWORD:-}" ]; then
    echo "stowage-test postgres: POSTGRES_PASSWORD is not set" >&2
    exit 1
  fi
  pw="$(mktemp)"
  printf '%s\\n' "$POSTGRES_PASSWORD" > "$pw"
  chown postgres "$pw"
  as_pg initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pw" \\
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pw"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != "postgres" ]; then
    as_pg postgres --single -D "$PGDATA" -j postgres >/dev/null <<EOF
CREATE DATABASE "$POSTGRES_DB" OWNER "$POSTGRES_USER";
EOF
  fi
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" "$@"
`;

export const MARIADB_ENTRYPOINT = `#!/bin/sh
# Entry point of stowage's test MariaDB image: the official image's variables, Debian's server.
set -eu
file_env() {
  eval "f=\\\${$1_FILE:-}"
  if [ -n "$f" ]; then eval "$1=\\$(cat \\"\\$f\\")"; export "$1"; fi
}
file_env MARIADB_ROOT_PASSWORD
file_env MYSQL_ROOT_PASSWORD
file_env MARIADB_PASSWORD
ROOT_PW="\${MARIADB_ROOT_PASSWORD:-\${MYSQL_ROOT_PASSWORD:-}}"
DB="\${MARIADB_DATABASE:-\${MYSQL_DATABASE:-}}"
DATADIR=/var/lib/mysql
mkdir -p "$DATADIR" /run/mysqld
chown mysql:mysql "$DATADIR" /run/mysqld
if [ ! -d "$DATADIR/mysql" ]; then
  if [ -z "$ROOT_PW" ]; then
    printf '%s\\n' "stowage-test mariadb: MARIADB_ROOT_PASSWORD is not set" >&2
    exit 1
  fi
  mariadb-install-db --user=mysql --datadir="$DATADIR" --auth-root-authentication-method=normal \\
    --skip-test-db >/dev/null
  sql="$(mktemp)"
  esc="$(printf '%s' "$ROOT_PW" | sed "s/\\\\\\\\/\\\\\\\\\\\\\\\\/g; s/'/\\\\\\\\'/g")"
  {
    printf '%s\\n' "FLUSH PRIVILEGES;"
    printf '%s\\n' "ALTER USER 'root'@'localhost' IDENTIFIED BY '$esc';"
    printf '%s\\n' "CREATE USER 'root'@'%' IDENTIFIED BY '$esc';"
    printf '%s\\n' "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "$DB" ]; then printf '%s\\n' "CREATE DATABASE IF NOT EXISTS \\\`$DB\\\`;"; fi
    if [ -n "\${MARIADB_USER:-}" ] && [ -n "\${MARIADB_PASSWORD:-}" ]; then
      echo "CREATE USER '$MARIADB_USER'@'%' IDENTIFIED BY '$MARIADB_PASSWORD';"
      if [ -n "$DB" ]; then echo "GRANT ALL ON \\\`$DB\\\`.* TO '$MARIADB_USER'@'%';"; fi
    fi
  } > "$sql"
  chown mysql "$sql"
  mariadbd --user=mysql --datadir="$DATADIR" --bootstrap < "$sql" >/dev/null 2>&1
  rm -f "$sql"
fi
exec mariadbd --user=mysql --datadir="$DATADIR" --bind-address=0.0.0.0 "$@"
`;

interface Recipe {
  repository: string;
  packages: string[];
  entrypoint: string;
  changes: string[];
  /** Shell run on the finished root filesystem ($1). */
  customize?: string;
}

const RECIPES: Record<DbKind, Recipe> = {
  postgres: {
    repository: "stowage-test/postgres",
    packages: ["postgresql-15"],
    entrypoint: POSTGRES_ENTRYPOINT,
    changes: [
      "ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "ENV PGDATA=/var/lib/postgresql/data",
      "ENV LANG=C.UTF-8",
      'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
      "CMD []",
      "EXPOSE 5432",
    ],
  },
  mariadb: {
    repository: "stowage-test/mariadb",
    packages: ["mariadb-server", "mariadb-client"],
    entrypoint: MARIADB_ENTRYPOINT,
    // The package's postinst created a data directory; the entry point initialises its own.
    customize: 'rm -rf "$1"/var/lib/mysql/*',
    changes: [
      "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "ENV LANG=C.UTF-8",
      'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
      "CMD []",
      "EXPOSE 3306",
    ],
  },
};

/** The image tag for a kind: the recipe's hash, so a changed recipe never reuses an old image. */
export async function dbImageTag(kind: DbKind): Promise<string> {
  const r = RECIPES[kind];
  const text = JSON.stringify([r.packages, r.entrypoint, r.changes, r.customize]);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const hex = Array.from(new Uint8Array(digest).slice(0, 6), (b) => b.toString(16).padStart(2, "0"))
    .join("");
  return `${r.repository}:bookworm-${hex}`;
}

const exists = async (tag: string) =>
  (await sh("docker", ["image", "inspect", tag], { check: false })).code === 0;

/**
 * Returns the tag of a real database image, building it first when the engine lacks it. Never
 * skips: a machine without mmdebstrap fails here with the install hint.
 */
export async function ensureDbImage(kind: DbKind): Promise<string> {
  const tag = await dbImageTag(kind);
  if (await exists(tag)) return tag;
  using lock = await Deno.open(`/tmp/stowage-test-dbimage-${kind}.lock`, {
    create: true,
    write: true,
  });
  await lock.lock(true);
  // Another process may have built it while this one waited for the lock.
  if (await exists(tag)) return tag;
  await build(kind, tag);
  return tag;
}

async function build(kind: DbKind, tag: string) {
  const which = await sh("sh", ["-c", "command -v mmdebstrap"], { check: false });
  if (which.code !== 0) {
    throw new Error(
      "mmdebstrap is not installed: the database test images are built with it (bash scripts/install-deps.sh --tests installs it)",
    );
  }
  const r = RECIPES[kind];
  const dir = await Deno.makeTempDir({ prefix: `stowage-dbimg-${kind}-` });
  try {
    const entry = `${dir}/docker-entrypoint.sh`;
    await Deno.writeTextFile(entry, r.entrypoint);
    const tar = `${dir}/rootfs.tar`;
    await sh("mmdebstrap", [
      "--quiet",
      "--variant=apt",
      `--include=${r.packages.join(",")}`,
      "--dpkgopt=path-exclude=/usr/share/doc/*",
      "--dpkgopt=path-exclude=/usr/share/man/*",
      "--dpkgopt=path-exclude=/usr/share/locale/*",
      `--customize-hook=install -m 0755 ${entry} "$1/usr/local/bin/docker-entrypoint.sh"`,
      '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*',
      ...(r.customize ? [`--customize-hook=${r.customize}`] : []),
      "bookworm",
      tar,
    ]);
    await sh("docker", [
      "import",
      ...r.changes.flatMap((c) => ["--change", c]),
      "--message",
      `stowage test image (${kind}) from Debian bookworm packages`,
      tar,
      tag,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const kinds = Deno.args as DbKind[];
  for (const kind of kinds) {
    if (!(kind in RECIPES)) throw new Error(`unknown database image '${kind}'`);
  }
  // Side by side: each build mostly waits on Debian's mirror.
  for (const tag of await Promise.all(kinds.map(ensureDbImage))) console.log(tag);
}
