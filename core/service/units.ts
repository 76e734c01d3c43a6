/**
 * systemd units from the templates in units/, pure: which paths stowage writes (ReadWritePaths),
 * how its command line is quoted for ExecStart, whether a schedule is safe to put in OnCalendar,
 * and the filled-in files. `admin service write-units` does the I/O.
 */
import type { Config } from "../config/schema.ts";
import { StowageError } from "../errors.ts";
import { shownName } from "../text.ts";
import type { StowagePaths } from "../paths.ts";

export interface UnitTemplates {
  service: string;
  backupService: string;
  timer: string;
  /** Shared by both services, filled in where they say {{hardening}}. */
  hardening: string;
  /** Restore drills (`stowage verify`, docs/verify.md), weekly by default. */
  verifyService: string;
  verifyTimer: string;
}

export const DEFAULT_SCHEDULE = "*-*-* 02:00:00";
/** Restore drills: Sunday 04:00, after the night's backup. */
export const DEFAULT_VERIFY_SCHEDULE = "Sun *-*-* 04:00:00";
export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";
export const DOCKER_VOLUMES_DIR = "/var/lib/docker/volumes";

export interface UnitSettings {
  /** argv that runs stowage with global options, e.g. ["/usr/local/bin/stowage", "--config", "/etc/stowage/config.yaml"]. */
  stowage: string[];
  schedule: string;
  /** OnCalendar= of stowage-verify.timer; DEFAULT_VERIFY_SCHEDULE when unset. */
  verifySchedule?: string;
  readWritePaths: string[];
  /** `StateDirectory=` name when the state dir is /var/lib/<name> (systemd then creates it). */
  stateDirectory?: string;
  /** Extra environment for every service (e.g. STOWAGE_STATE_DIR). Never secrets. */
  environment: Record<string, string>;
  version: string;
  /** Arguments for the daemon (e.g. --interval-minutes 60). */
  daemonArgs: string[];
}

export interface RenderedUnit {
  name: string;
  content: string;
}

export const UNIT_NAMES = [
  "stowage.service",
  "stowage.timer",
  "stowage-backup.service",
  "stowage-verify.timer",
  "stowage-verify.service",
] as const;

/**
 * Paths the services must be able to write under ProtectSystem=strict: the state directory (lock,
 * restart journal, results, default repository), a local repository elsewhere, Docker's volume
 * folders (restore writes there), the Engine socket, the recovery bundle directory, and extras.
 */
export function readWritePaths(
  config: Config,
  paths: StowagePaths,
  opts: { dockerHost?: string; extra?: string[] } = {},
): string[] {
  const out: string[] = [paths.stateDir];
  const repo = localRepositoryPath(config.repository.location ?? paths.repository);
  if (repo) out.push(repo);
  out.push(DOCKER_VOLUMES_DIR);
  out.push(dockerSocketPath(config.docker.host ?? opts.dockerHost));
  out.push(config.recovery_bundle_path ?? paths.recoveryDir);
  out.push(...(opts.extra ?? []));
  // Drop paths inside another listed path, keep the order otherwise.
  const norm = [...new Set(out.map(normalizePath))];
  return norm.filter((p) => !norm.some((q) => q !== p && (p.startsWith(q + "/") || q === "/")));
}

/** The directory of a local restic repository, or undefined for remote backends. */
export function localRepositoryPath(location: string): string | undefined {
  if (location.startsWith("local:")) return location.slice("local:".length);
  if (location.startsWith("/")) return location;
  return undefined;
}

export function dockerSocketPath(host: string | undefined): string {
  if (host?.startsWith("unix://")) return host.slice("unix://".length);
  return DEFAULT_DOCKER_SOCKET;
}

function normalizePath(p: string): string {
  let s = p.replace(/\/+/g, "/");
  if (s.length > 1) s = s.replace(/\/$/, "");
  // /var/run is a symlink to /run on every systemd distribution; name the real place.
  if (s === "/var/run" || s.startsWith("/var/run/")) s = s.slice("/var".length);
  return s;
}

/** `StateDirectory=` value when the state dir is directly under /var/lib. */
export function stateDirectoryName(stateDir: string): string | undefined {
  const m = /^\/var\/lib\/([A-Za-z0-9._-]+)\/?$/.exec(stateDir);
  return m ? m[1] : undefined;
}

/**
 * One ExecStart= word. systemd splits on spaces, honours double quotes with C escapes, expands
 * `%` specifiers and `$VAR`; quoting and doubling keep any path literal.
 */
export function quoteExecArg(arg: string): string {
  const escaped = arg.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return escaped;
  return `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** One path in a path-list setting (ReadWritePaths=): `%` specifiers doubled, quoted when needed. */
export function quotePathArg(path: string): string {
  const escaped = path.replace(/%/g, "%%");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(path)) return escaped;
  return `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/**
 * The program word of ExecStart=. systemd expands no `$VAR` in it (so `$` stays single) and
 * refuses a program path holding `"`, `'` or `\\` ("Executable name contains special characters").
 */
export function quoteExecProgram(path: string): string {
  if (/["'\\]/.test(path)) {
    throw new StowageError(
      "usage",
      `Cannot put the program path '${
        shownName(path)
      }' into a systemd unit: systemd refuses quotes and backslashes in it`,
      "Install stowage under a path without quotes or backslashes (e.g. /usr/local/bin/stowage) and pass --binary.",
    );
  }
  const escaped = path.replace(/%/g, "%%");
  if (/^[A-Za-z0-9_@%+=:,./$-]+$/.test(path)) return escaped;
  return `"${escaped}"`;
}

export function execLine(argv: string[]): string {
  return argv.map((a, i) => (i === 0 ? quoteExecProgram(a) : quoteExecArg(a))).join(" ");
}

const CALENDAR_WORDS = new Set([
  "minutely",
  "hourly",
  "daily",
  "monthly",
  "weekly",
  "yearly",
  "annually",
  "quarterly",
  "semiannually",
]);

function hasControlChar(s: string): boolean {
  return [...s].some((c) => {
    const n = c.codePointAt(0)!;
    // C0, DEL, C1, and the Unicode line/paragraph separators: none belongs in a unit line.
    return n < 0x20 || (n >= 0x7f && n <= 0x9f) || n === 0x2028 || n === 0x2029;
  });
}

/**
 * Every value that goes into a unit file must stay on its line and mean itself: a line break
 * would start a new directive (`/srv\nExecStartPre=...`), a lone surrogate cannot be written
 * as UTF-8. Quoting (quoteExecArg, quotePathArg, envLine) handles the rest: `%`, `$`, `\`, `"`,
 * spaces and `;`.
 */
export function checkUnitValue(what: string, value: string): string {
  if (hasControlChar(value) || !value.isWellFormed()) {
    throw new StowageError(
      "usage",
      `Cannot put ${what} '${
        shownName(value)
      }' into a systemd unit: it contains a line break or control character`,
      "Use a path or value without control characters (rename the file or directory).",
    );
  }
  return value;
}

/**
 * A syntax check for OnCalendar= that runs everywhere (systemd-analyze, when installed, checks
 * the meaning too). Its main job: nothing that could end the line and inject a directive.
 * Returns a problem, or undefined when the value looks like a calendar expression.
 */
export function calendarProblem(schedule: string): string | undefined {
  const s = schedule.trim();
  if (s === "") return "it is empty";
  if (hasControlChar(s)) return "it contains a line break or control character";
  if (s.length > 200) return "it is longer than 200 characters";
  if (CALENDAR_WORDS.has(s.toLowerCase())) return undefined;
  if (!/^[A-Za-z0-9*,.:~/ +_-]+$/.test(s)) {
    return "it contains characters a calendar expression never has";
  }
  if (!/[0-9*]/.test(s)) return "it names no date or time";
  return undefined;
}

export function checkSchedule(schedule: string): string {
  const problem = calendarProblem(schedule);
  if (problem) {
    throw new StowageError(
      "usage",
      `Cannot use schedule '${
        [...schedule].map((c) => (hasControlChar(c) ? "?" : c)).join("")
      }': ${problem}`,
      "Use a systemd calendar expression such as '*-*-* 02:00:00' or 'daily' (see `man systemd.time`).",
    );
  }
  return schedule.trim();
}

/** Fills `{{name}}` placeholders; a line holding only an empty placeholder disappears. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  const lines: string[] = [];
  for (const line of template.split("\n")) {
    const only = /^\{\{([a-z_]+)\}\}$/.exec(line.trim());
    if (only && only[1] in values && values[only[1]] === "") continue;
    lines.push(
      line.replace(/\{\{([a-z_]+)\}\}/g, (_, name: string) => {
        if (!(name in values)) {
          throw new Error(`unit template names unknown placeholder {{${name}}}`);
        }
        return values[name];
      }),
    );
  }
  return lines.join("\n");
}

function envLine(name: string, value: string): string {
  const v = value.replace(/%/g, "%%").replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  return `Environment="${name}=${v}"`;
}

export function renderUnits(t: UnitTemplates, s: UnitSettings): RenderedUnit[] {
  const schedule = checkSchedule(s.schedule);
  const verifySchedule = checkSchedule(s.verifySchedule ?? DEFAULT_VERIFY_SCHEDULE);
  s.stowage.forEach((a, i) => checkUnitValue(i === 0 ? "the program path" : "the argument", a));
  s.daemonArgs.forEach((a) => checkUnitValue("the daemon argument", a));
  for (const p of s.readWritePaths) {
    checkUnitValue("the read-write path", p);
    if (!p.startsWith("/")) {
      throw new StowageError(
        "usage",
        `Cannot put the read-write path '${shownName(p)}' into a systemd unit: it is not absolute`,
        "systemd ignores relative paths there; use absolute paths (STOWAGE_STATE_DIR too).",
      );
    }
  }
  if (s.stateDirectory !== undefined) checkUnitValue("the state directory", s.stateDirectory);
  checkUnitValue("the version", s.version);
  for (const [k, v] of Object.entries(s.environment)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      throw new StowageError(
        "usage",
        `Cannot put environment variable '${
          shownName(k)
        }' into a systemd unit: not a variable name`,
        "Variable names are letters, digits and '_', not starting with a digit.",
      );
    }
    checkUnitValue(`the value of ${k}`, v);
  }
  const hardening = fillTemplate(t.hardening, {
    state_directory: s.stateDirectory
      ? `StateDirectory=${s.stateDirectory}\nStateDirectoryMode=0700`
      : "",
    read_write_paths: s.readWritePaths.map((p) => `ReadWritePaths=-${quotePathArg(p)}`).join("\n"),
  }).trimEnd();
  const environment = Object.entries(s.environment).map(([k, v]) => envLine(k, v)).join("\n");
  const common = {
    version: s.version,
    hardening,
    environment,
    recover_command: execLine([...s.stowage, "admin", "system", "recover-journal"]),
  };
  return [
    {
      name: "stowage.service",
      content: fillTemplate(t.service, {
        ...common,
        daemon_command: execLine([...s.stowage, "admin", "service", "daemon", ...s.daemonArgs]),
      }),
    },
    { name: "stowage.timer", content: fillTemplate(t.timer, { version: s.version, schedule }) },
    {
      name: "stowage-backup.service",
      content: fillTemplate(t.backupService, {
        ...common,
        backup_command: execLine([...s.stowage, "backup"]),
      }),
    },
    {
      name: "stowage-verify.timer",
      content: fillTemplate(t.verifyTimer, { version: s.version, schedule: verifySchedule }),
    },
    {
      name: "stowage-verify.service",
      content: fillTemplate(t.verifyService, {
        ...common,
        verify_command: execLine([...s.stowage, "verify", "--latest"]),
      }),
    },
  ];
}

export const RELOAD_HINTS = [
  "systemctl daemon-reload",
  "systemctl enable --now stowage.timer",
  "systemctl enable --now stowage.service",
  "systemctl enable --now stowage-verify.timer",
];
