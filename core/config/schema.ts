/**
 * The config schema: the single source of truth for types, defaults, validation,
 * `admin config schema` (JSON Schema) and docs/config.md. Every key carries a description.
 */
import { z } from "zod";
import { shown } from "../text.ts";
import { isLoopback, parseListen } from "../service/listen.ts";
import { redactUrl } from "../secrets.ts";

const got = (input: unknown) => shown(input);

const seconds = (what: string, min: number, max: number, def: number) =>
  z
    .number({ error: (i) => `expected ${what} from ${min} to ${max}, got ${got(i.input)}` })
    .int({ error: (i) => `expected ${what} from ${min} to ${max}, got ${got(i.input)}` })
    .min(min, { error: (i) => `expected ${what} from ${min} to ${max}, got ${got(i.input)}` })
    .max(max, { error: (i) => `expected ${what} from ${min} to ${max}, got ${got(i.input)}` })
    .default(def);

const count = (what: string) =>
  z
    .number({ error: (i) => `expected ${what} (a whole number, 0 or more), got ${got(i.input)}` })
    .int({ error: (i) => `expected ${what} (a whole number, 0 or more), got ${got(i.input)}` })
    .min(0, { error: (i) => `expected ${what} (a whole number, 0 or more), got ${got(i.input)}` });

const text = (what: string) =>
  z.string({ error: (i) => `expected ${what} (text), got ${got(i.input)}` }).min(1, {
    error: `expected ${what}, got an empty string`,
  });

// deno-lint-ignore no-control-regex
const hasControl = (s: string) => /[\x00-\x1f\x7f-\x9f\u2028\u2029]/.test(s);

/**
 * A file or directory path: absolute, because a relative one would depend on the directory
 * stowage happens to be started from (systemd starts it in /). `home` also allows `~/...`, for
 * the keys whose readers expand it from HOME (password, key, known_hosts and env files).
 */
const absolutePath = (what: string, opts: { home?: boolean } = {}) =>
  text(what)
    .refine((p) => !hasControl(p), {
      error: (i) => `expected ${what}, got ${got(i.input)} (it contains a control character)`,
    })
    .refine((p) => p.startsWith("/") || (!!opts.home && (p === "~" || p.startsWith("~/"))), {
      error: (i) =>
        `expected an absolute path (${what}${opts.home ? "; ~/ works too" : ""}), got ${
          got(i.input)
        }: a relative path would depend on the working directory`,
    });

/** restic's local backend is a path too: `/path` or `local:/path`; other backends have a scheme. */
const repositoryLocation = text("a restic repository location")
  .refine((l) => !hasControl(l), {
    error: (i) =>
      `expected a restic repository location, got ${
        got(i.input)
      } (it contains a control character)`,
  })
  .refine((l) => {
    const local = l.startsWith("local:") ? l.slice("local:".length) : l;
    return local.startsWith("/") || (!l.startsWith("local:") && /^[a-z0-9]+:/.test(l));
  }, {
    error: (i) =>
      `expected a remote location (sftp:, rest:, s3:, ...) or an absolute path, got ${
        got(i.input)
      }: a relative path would depend on the working directory`,
  });

/**
 * The daemon's rule for status.listen (core/service/listen.ts), applied when the config is read:
 * an address it would refuse must fail `config validate`, not restart the service forever.
 */
function checkStatusListen(
  s: { listen?: string; token_file?: string },
  ctx: z.RefinementCtx,
) {
  if (s.listen === undefined) return;
  let addr;
  try {
    addr = parseListen(s.listen);
  } catch {
    ctx.addIssue({
      code: "custom",
      path: ["listen"],
      message: `expected HOST:PORT (e.g. 127.0.0.1:9876), got ${got(s.listen)}`,
    });
    return;
  }
  if (!isLoopback(addr.hostname) && s.token_file === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["listen"],
      message: `${
        got(s.listen)
      } is not a loopback address and status.token_file is not set: the daemon refuses to serve /status to the network without a bearer token`,
    });
  }
}

const list = (what: string) =>
  z.array(text(what), { error: (i) => `expected a list of ${what}, got ${got(i.input)}` });

export const scopeSchema = z.enum(["minimal", "standard", "full"], {
  error: (i) => `expected one of minimal, standard, full, got ${got(i.input)}`,
});

export const retentionSchema = z
  .strictObject({
    latest: count("how many latest snapshots to keep").optional().describe(
      "Keep the N most recent.",
    ),
    hourly: count("how many hourly snapshots to keep").optional().describe(
      "Keep one per hour for N hours.",
    ),
    daily: count("how many daily snapshots to keep").optional().describe(
      "Keep one per day for N days.",
    ),
    weekly: count("how many weekly snapshots to keep").optional().describe(
      "Keep one per week for N weeks.",
    ),
    monthly: count("how many monthly snapshots to keep").optional().describe(
      "Keep one per month for N months.",
    ),
    yearly: count("how many yearly snapshots to keep").optional().describe(
      "Keep one per year for N years.",
    ),
  })
  .describe(
    "Which restore points to keep, per unit and host; a point is kept or forgotten whole, incomplete points count for no rule, and the newest complete point is never removed (docs/backup.md).",
  );

const hookCommon = {
  timeout: seconds("a hook timeout in seconds", 1, 86400, 180).describe(
    "Kill the hook and its children after this many seconds.",
  ),
  mode: z
    .enum(["essential", "optional"], {
      error: (i) => `expected essential or optional, got ${got(i.input)}`,
    })
    .default("essential")
    .describe(
      "essential: a failure skips the unit; optional: a failure is logged and the run goes on.",
    ),
};

export const hookSpecSchema = z.union(
  [
    z.strictObject({
      run: z
        .union([text("a command"), z.array(z.string()).min(1)], {
          error: (i) => `expected a program path or an argv list, got ${got(i.input)}`,
        })
        .describe(
          "A shell command line (string, run with sh -c) or an argv list (run directly, no shell). See docs/hooks.md.",
        ),
      ...hookCommon,
    }),
    z.strictObject({
      module: text("a TypeScript module path").describe(
        "Path of a TypeScript hook module (see hooks-sdk/).",
      ),
      ...hookCommon,
    }),
  ],
  { error: () => "expected a hook: { run: ... } or { module: ... }" },
);

export const hooksSchema = z
  .strictObject({
    pre_backup: z.array(hookSpecSchema).default([]).describe(
      "Before any container of the unit stops.",
    ),
    post_backup: z.array(hookSpecSchema).default([]).describe(
      "After the unit's containers started again, always.",
    ),
    pre_restore: z.array(hookSpecSchema).default([]).describe("Before a restore touches anything."),
    post_restore: z.array(hookSpecSchema).default([]).describe("After a restore, always."),
    verify: z.array(hookSpecSchema).default([]).describe(
      "In a restore drill (`stowage verify`), once the sandbox is healthy; exec reaches sandbox containers and a failure fails the drill.",
    ),
  })
  .describe("Commands and modules run around every backup and restore.");

const volumeConfig = z.strictObject({
  exclude: list("exclude patterns").default([]).describe(
    "restic exclude patterns for this volume.",
  ),
  retention: retentionSchema.optional(),
  skip: z.boolean().default(false).describe("Do not back up this volume."),
});

/** What `stowage.dump` and `units.U.services.S.dump` name (docs/dumps.md); `none` turns detection off. */
export const DUMP_ENGINES = ["postgres", "mariadb", "mysql", "none"] as const;
export const DUMP_MODES = ["dump", "cold", "both"] as const;

const serviceConfig = z.strictObject({
  dump: z.enum(DUMP_ENGINES).optional().describe(
    "Dump this service as a database: postgres, mariadb, mysql, or none (no dump, even when detected). Overrides the stowage.dump label and detection (docs/dumps.md).",
  ),
  mode: z.enum(DUMP_MODES).optional().describe(
    "dump: dumped while running, not stopped, its data volumes not copied (zero downtime); cold: stopped and copied only; both: dumped, then stopped and copied (the default). Overrides the stowage.dump-mode label.",
  ),
});

export const unitConfigSchema = z.strictObject({
  skip: z.boolean().default(false).describe("Leave this unit out of backups."),
  scope: scopeSchema.optional().describe("Overrides backup.scope for this unit."),
  exclude: list("exclude patterns").default([]).describe(
    "restic exclude patterns for every volume and bind mount of the unit.",
  ),
  volumes: z.record(z.string(), volumeConfig).default({}).describe(
    "Per volume settings, by volume name.",
  ),
  retention: retentionSchema.optional(),
  hooks: hooksSchema.optional(),
  services: z.record(z.string(), serviceConfig).default({}).describe(
    "Per service settings (a standalone container: its name), by service name: database dumps.",
  ),
});

/** What a notification target may be told about (docs/notify.md). */
export const NOTIFY_EVENTS = ["failure", "success", "start", "warning"] as const;
export type NotifyEventName = (typeof NOTIFY_EVENTS)[number];
/** The kinds of notification targets; a target has exactly one of these keys. */
export const NOTIFY_KINDS = ["webhook", "ntfy", "healthchecks", "email", "command"] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];

/**
 * An http(s) URL. Its path and query are a credential (webhook, topic, ping UUID), so an error
 * never echoes the value: only `scheme://host` (core/secrets.ts redactUrl).
 */
const notifyUrl = (what: string) =>
  z.string({ error: (i) => `expected ${what} (text), got ${got(i.input)}` })
    .refine((u) => {
      try {
        const url = new URL(u);
        return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "" &&
          !hasControl(u);
      } catch {
        return false;
      }
    }, {
      error: (i) =>
        `expected ${what} (http:// or https://), got ${
          typeof i.input === "string" ? redactUrl(i.input) : got(i.input)
        }`,
    });

/** A bare address (user@host): it becomes a mail header and an SMTP command, so one line only. */
const mailAddress = (what: string) =>
  text(what).regex(/^[^\s<>@,;:"()\[\]\\]+@[A-Za-z0-9.-]+$/, {
    error: (i) => `expected ${what} like name@example.com, got ${got(i.input)}`,
  });

const emailSchema = z.strictObject({
  server: text("an SMTP server as host:port")
    .refine((s) => /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(s), {
      error: (i) =>
        `expected an SMTP server as host:port (e.g. smtp.example.com:587), got ${got(i.input)}`,
    })
    .describe("SMTP server as host:port, e.g. smtp.example.com:587."),
  security: z
    .enum(["starttls", "tls", "none"], {
      error: (i) => `expected one of starttls, tls, none, got ${got(i.input)}`,
    })
    .default("starttls")
    .describe(
      "starttls: plain connection upgraded with STARTTLS (refused when the server does not offer it); tls: TLS from the first byte (port 465); none: no encryption (a local relay only).",
    ),
  from: mailAddress("a sender address").describe("The From: address."),
  to: z.array(mailAddress("a recipient address"), {
    error: (i) => `expected a list of recipient addresses, got ${got(i.input)}`,
  }).min(1, { error: "expected at least one recipient address" }).describe("Recipients."),
  credentials_file: absolutePath("a credentials file path").optional().describe(
    "File (mode 0600) whose first line is USER:PASSWORD for SMTP AUTH; sent only over TLS.",
  ),
  ca_file: absolutePath("a CA certificate file path").optional().describe(
    "PEM CA certificate(s) to trust for this server's TLS certificate, beyond the system's.",
  ),
});

export const notifyTargetSchema = z
  .strictObject({
    name: text("a target name")
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
        error: (i) =>
          `expected a target name (letters, digits, '.', '_', '-', at most 64), got ${
            got(i.input)
          }`,
      })
      .describe("The target's name: in logs, /metrics, doctor and `admin notify test --target`."),
    webhook: notifyUrl("a webhook URL").optional().describe(
      "POST the run summary as JSON to this URL. Secret (shown as scheme://host only).",
    ),
    ntfy: notifyUrl("an ntfy topic URL").optional().describe(
      "POST a text message to this ntfy topic URL (e.g. https://ntfy.sh/TOPIC), priority and tags by outcome. Secret.",
    ),
    healthchecks: notifyUrl("a ping URL").optional().describe(
      "Ping URL base (healthchecks.io and compatible): /start when a run starts, the URL itself on success, /fail on failure, the summary as body. Secret.",
    ),
    email: emailSchema.optional().describe("Send the summary by mail over SMTP."),
    command: z
      .union([text("a command"), z.array(z.string()).min(1)], {
        error: (i) => `expected a command line or an argv list, got ${got(i.input)}`,
      })
      .optional()
      .describe(
        "Run this program with the summary as JSON on stdin: a shell command line (string) or an argv list (no shell).",
      ),
    on: z
      .array(
        z.enum(NOTIFY_EVENTS, {
          error: (i) => `expected one of ${NOTIFY_EVENTS.join(", ")}, got ${got(i.input)}`,
        }),
        { error: (i) => `expected a list of events, got ${got(i.input)}` },
      )
      .min(1, { error: "expected at least one event (failure, success, start, warning)" })
      .optional()
      .describe(
        "Events this target is told about. Default: failure and warning; for healthchecks every event (it is a heartbeat).",
      ),
    headers_file: absolutePath("a headers file path").optional().describe(
      "webhook and ntfy: a file (mode 0600) of `Name: value` lines added as HTTP headers (e.g. Authorization).",
    ),
    timeout: seconds("a timeout in seconds", 1, 120, 10).describe(
      "Seconds one attempt may take.",
    ),
    retries: seconds("a number of retries", 0, 5, 2).describe(
      "Attempts after the first when one fails.",
    ),
  })
  .superRefine((t, ctx) => {
    const kinds = NOTIFY_KINDS.filter((k) => t[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: kinds.length === 0
          ? `target ${got(t.name)} has no kind: give exactly one of ${NOTIFY_KINDS.join(", ")}`
          : `target ${got(t.name)} has ${kinds.join(" and ")}: give exactly one kind per target`,
      });
    }
    if (t.headers_file !== undefined && t.webhook === undefined && t.ntfy === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["headers_file"],
        message: "headers_file works only with webhook or ntfy",
      });
    }
  });

const notifySchema = z
  .array(notifyTargetSchema, { error: (i) => `expected a list of targets, got ${got(i.input)}` })
  .default([])
  // `when`: names are compared even while another target has a problem, so every problem shows.
  .superRefine((targets, ctx) => {
    const seen = new Set<string>();
    (Array.isArray(targets) ? targets : []).forEach((t: unknown, i) => {
      const name = (t as { name?: unknown } | null)?.name;
      if (typeof name !== "string") return;
      if (seen.has(name)) {
        ctx.addIssue({
          code: "custom",
          path: [i, "name"],
          message: `target name ${got(name)} is used twice; names must be unique`,
        });
      }
      seen.add(name);
    });
  }, { when: () => true })
  .describe(
    "Notification targets: each a name, one kind (webhook, ntfy, healthchecks, email, command) and the events it gets (docs/notify.md). A failing target never fails the backup.",
  );
/** The backend options a repository has besides its location and password (primary and copies). */
const backendOptions = {
  env: z
    .record(z.string(), z.string())
    .default({})
    .describe(
      "Backend credentials passed to restic as environment (e.g. AWS_ACCESS_KEY_ID). Secret.",
    ),
  env_file: absolutePath("an env file path", { home: true }).optional().describe(
    "A KEY=VALUE file (0600) with backend credentials.",
  ),
  restic_binary: text("a program name or path").default("restic").describe(
    "The restic program.",
  ),
  ssh_key: absolutePath("an SSH private key path", { home: true }).optional().describe(
    "Key for sftp/tailscale backends.",
  ),
  known_hosts: absolutePath("a known_hosts path", { home: true }).optional().describe(
    "known_hosts for sftp/tailscale backends, where `setup` pins trusted host keys (default: <state_dir>/known_hosts, then ~/.ssh/known_hosts).",
  ),
  rclone_config: absolutePath("an rclone config path", { home: true }).optional()
    .describe(
      "rclone's config (0600) for rclone:REMOTE:path locations; reaches rclone as RCLONE_CONFIG in its environment.",
    ),
  append_only: z.boolean({ error: (i) => `expected true or false, got ${got(i.input)}` })
    .default(false).describe(
      "The server refuses deletion (rest-server/rclone --append-only): backups only; retention reports what it would forget instead of forgetting; no warm pass.",
    ),
};

/** A copy's name: it appears in metrics labels, /status, `restore --from` and file names. */
const COPY_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const copySchema = z
  .strictObject({
    name: text("a copy name")
      .regex(COPY_NAME, {
        error: (i) =>
          `expected a copy name (lower-case letters, digits, '-', '_'; at most 63), got ${
            got(i.input)
          }`,
      })
      .describe("Names the copy in /status, /metrics, doctor and `restore --from NAME`."),
    repository: z
      .strictObject({
        location: repositoryLocation.describe(
          "restic location of the copy (any backend the primary repository accepts).",
        ),
        password_file: absolutePath("a password file path", { home: true }).describe(
          "File (mode 0600) holding the copy's password; the copy is created with it when missing.",
        ),
        ...backendOptions,
      }, {
        error: (i) =>
          i.input === undefined
            ? "expected a repository: { location: ..., password_file: ... }"
            : undefined,
      })
      .describe("Where the copy lives and how to reach it, as for `repository`."),
    retention: retentionSchema.optional().describe(
      "Which restore points the copy keeps (whole points, per unit and host). Default: the top-level retention.",
    ),
  })
  .describe("A second repository every restore point is copied to (docs/copies.md).");

/** Copy names are unique, and a copy is never the primary repository itself. */
function checkCopies(
  c: {
    repository: { location?: string };
    copies: { name: string; repository: { location: string } }[];
  },
  ctx: z.RefinementCtx,
) {
  const seen = new Set<string>();
  c.copies.forEach((copy, i) => {
    if (seen.has(copy.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["copies", i, "name"],
        message: `copy name ${got(copy.name)} is used twice: give each copy its own name`,
      });
    }
    seen.add(copy.name);
    if (c.repository.location !== undefined && copy.repository.location === c.repository.location) {
      ctx.addIssue({
        code: "custom",
        path: ["copies", i, "repository", "location"],
        message: `copy ${
          got(copy.name)
        } is the primary repository itself: point it at another repository`,
      });
    }
  });
}

export const configSchema = z
  .strictObject({
    repository: z
      .strictObject({
        location: repositoryLocation
          .optional()
          .describe(
            "restic location: /path, sftp:user@host:/path, rest:https://..., s3:..., b2:..., azure:..., gs:..., rclone:..., or tailscale:PEER:/path. Default: <state_dir>/repository.",
          ),
        password_file: absolutePath("a password file path", { home: true })
          .optional()
          .describe(
            "File (mode 0600) holding the repository password. Default: <state_dir>/repository.password, generated.",
          ),
        ...backendOptions,
      })
      .default({ env: {}, restic_binary: "restic", append_only: false })
      .describe("Where snapshots go."),
    copies: z.array(copySchema, {
      error: (i) =>
        `expected a list of copies ({ name, repository, retention }), got ${got(i.input)}`,
    }).default([]).describe(
      "Second repositories each restore point is copied to after the backup (docs/copies.md).",
    ),
    host: text("a host name")
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, {
        error: (i) => `expected a host name (letters, digits, '.', '_', '-'), got ${got(i.input)}`,
      })
      .optional()
      .describe(
        "The host name snapshots carry; retention and `restore` group by it. Several hosts may share one repository with different names. Default: the machine's host name.",
      ),
    state_dir: absolutePath("a directory").optional().describe(
      "Journal, lock, results and the default repository. Default: /var/lib/stowage (root).",
    ),
    docker: z
      .strictObject({
        host: text("a unix:// address").optional().describe(
          "Engine socket, e.g. unix:///var/run/docker.sock. DOCKER_HOST also works.",
        ),
        compose_command: text("a compose command").optional().describe(
          "docker-compose or 'docker compose'. Default: whichever is installed.",
        ),
      })
      .default({})
      .describe("How to reach the Docker Engine and which compose tool to use."),
    backup: z
      .strictObject({
        scope: scopeSchema.default("standard").describe(
          "minimal: volumes; standard: + binds, recipe, networks; full: + Docker daemon config.",
        ),
        stop_timeout: seconds("a number of seconds", 1, 3600, 30).describe(
          "Seconds a container gets to stop before it is killed.",
        ),
        start_timeout: seconds("a number of seconds", 1, 3600, 120).describe(
          "Seconds to wait for a started container to be healthy.",
        ),
        parallel_volumes: seconds("a number of parallel volume backups", 1, 16, 2).describe(
          "restic passes run at once (a unit's folders are one pass, except those with their own excludes or nested in another; each archive-API volume is its own).",
        ),
        exclude: list("exclude patterns").default([]).describe(
          "restic exclude patterns for every volume and bind mount.",
        ),
        redact: list("variable names").default([]).describe(
          "More environment/label names to redact, beyond PASS, SECRET, KEY, TOKEN, API, AUTH, CREDENTIAL.",
        ),
        unsafe_paths: list("paths").default([]).describe(
          "More host paths never backed up as bind mounts.",
        ),
        update_recovery_bundle: z.boolean().default(false).describe(
          "Refresh a disaster-recovery bundle after each run.",
        ),
        warm_pass: z.boolean().default(true).describe(
          "Save the volume and bind folders once while the containers still run, so the stopped pass only reads what changed since (docs/backup.md). Off in an append_only repository, which could not forget these snapshots.",
        ),
        fs_snapshots: z.enum(["auto", "off", "require"]).default("auto").describe(
          "btrfs snapshots while stopped, read after the start: auto, off, or require (fail before any stop if one can't be made); docs/backup.md.",
        ),
        detect_databases: z.boolean().default(true).describe(
          "Dump services whose image is postgres, mariadb or mysql without a stowage.dump label (docs/dumps.md).",
        ),
        verify_dumps: z.boolean().default(false).describe(
          "Load each database dump into a throwaway container of the same image (no network, data in a tmpfs) and compare every table's row count with the dump's; a failure fails the unit (docs/dumps.md).",
        ),
      })
      .default({
        scope: "standard",
        stop_timeout: 30,
        start_timeout: 120,
        parallel_volumes: 2,
        exclude: [],
        redact: [],
        unsafe_paths: [],
        update_recovery_bundle: false,
        warm_pass: true,
        fs_snapshots: "auto",
        detect_databases: true,
        verify_dumps: false,
      })
      .describe("How backups run: scope, timeouts, parallelism, excludes and redaction."),
    retention: retentionSchema.default({ latest: 3, daily: 7, weekly: 4, monthly: 6 }),
    units: z.record(z.string(), unitConfigSchema).default({}).describe(
      "Per unit settings, by unit name.",
    ),
    hooks: hooksSchema.default({
      pre_backup: [],
      post_backup: [],
      pre_restore: [],
      post_restore: [],
      verify: [],
    }),
    recovery_bundle_path: absolutePath("a directory").optional().describe(
      "Where disaster-recovery bundles go. Default: <state_dir>/recovery.",
    ),
    recovery_bundle_retention: seconds("a number of bundles", 1, 1000, 3).describe(
      "Automatic bundles kept.",
    ),
    recovery_bundle_password_file: absolutePath("a password file path").optional().describe(
      "Password file for automatic bundles.",
    ),
    status: z
      .strictObject({
        listen: text("host:port").optional().describe(
          "Status endpoint address, e.g. 127.0.0.1:9876. Off when unset.",
        ),
        token_file: absolutePath("a token file path").optional().describe(
          "Bearer token file, required for non-loopback addresses.",
        ),
        freshness_hours: seconds("a number of hours", 1, 8760, 26).describe(
          "/health fails when a unit's last good backup is older.",
        ),
        verify_max_age_hours: z.number({
          error: (i) => `expected a number of hours from 1 to 87600, got ${got(i.input)}`,
        }).int().min(1).max(87600).optional().describe(
          "/health also fails when a unit's last passed restore drill (`stowage verify`) is older, or there is none. Off when unset.",
        ),
      })
      .superRefine(checkStatusListen)
      .default({ freshness_hours: 26 })
      .describe("The localhost status endpoint of the daemon (/health, /status, /metrics)."),
    notify: notifySchema,
    verify: z
      .strictObject({
        health_timeout: seconds("a number of seconds", 1, 86400, 300).describe(
          "Seconds a sandbox container with a healthcheck gets to become healthy.",
        ),
        settle_seconds: seconds("a number of seconds", 0, 3600, 10).describe(
          "Seconds every sandbox container must stay up without a restart once all are ready.",
        ),
        cpus: z.number({ error: (i) => `expected a number of CPUs, got ${got(i.input)}` })
          .positive({ error: "expected a number of CPUs above 0" }).max(1024).default(1)
          .describe("CPU cap of each sandbox container (e.g. 0.5)."),
        memory_mb: seconds("a number of MiB", 6, 1048576, 1024).describe(
          "Memory cap of each sandbox container, in MiB.",
        ),
        check_read_data_percent: seconds("a percentage", 0, 100, 1).describe(
          "Each drill first checks the repository with `restic check --read-data-subset=N%`; 0 checks the structure only.",
        ),
      })
      .default({
        health_timeout: 300,
        settle_seconds: 10,
        cpus: 1,
        memory_mb: 1024,
        check_read_data_percent: 1,
      })
      .describe("Restore drills (`stowage verify`): how long to wait and what a sandbox may use."),
    log_level: z.enum(["debug", "info", "warning", "error"]).optional().describe(
      "Log level; STOWAGE_LOG_LEVEL and --log-level override.",
    ),
  })
  .superRefine(checkCopies)
  .describe("stowage configuration");

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type HookSpec = z.output<typeof hookSpecSchema>;
export type Hooks = z.output<typeof hooksSchema>;
export type UnitConfig = z.output<typeof unitConfigSchema>;
export type Retention = z.output<typeof retentionSchema>;
export type NotifyTarget = z.output<typeof notifyTargetSchema>;
export type CopyConfig = z.output<typeof copySchema>;

/** Keys whose values are secrets: masked by `config show`, never logged. */
export const SECRET_CONFIG_PATHS = ["repository.env", "copies.*.repository.env"];

export function defaultConfig(): Config {
  return configSchema.parse({});
}
