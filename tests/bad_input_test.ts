/**
 * The bad-input corpus: flags, values and config files a careless user or an attacker hands to
 * the real CLI (tests/support/cli.ts: `deno run` under the stowage permission set). Every case
 * asserts the contract of docs/exit-codes.md for an expected failure:
 *
 * - the documented exit code (cli/exit_codes.ts, by error code name);
 * - stdout is empty;
 * - stderr is exactly: one line `stowage: MESSAGE` (at most 300 characters, not "internal
 *   error"), then `details` lines indented by two spaces (0 unless the case says so), then one
 *   line `hint: HINT`; the message matches the case's pattern;
 * - no stack trace: no `    at ` frame, no `internal error`, no JavaScript error class name;
 * - nothing changed on disk: a listing (path, type, size, mode, mtime) of the shared temp dir,
 *   which holds the config files and the state dir, is the same before and after;
 * - cases that reach Docker: the test's containers (their state too), volumes and networks,
 *   found by the test label, are the same before and after.
 *
 * Most cases need neither Docker nor a repository; they share one temp dir.
 */
import assert from "node:assert/strict";
import { stowage } from "./support/cli.ts";
import { docker, ensureTestImage, sh, TEST_LABEL, testName } from "./support/docker.ts";
import { EXIT_CODES } from "../cli/exit_codes.ts";

type Code = keyof typeof EXIT_CODES;

interface Case {
  name: string;
  args: string[];
  /** Config file: a name in the shared dir (made below) used as STOWAGE_CONFIG. */
  config?: string;
  code: Code;
  message: RegExp;
  /** Detail lines between the message and the hint (every config problem after the first). */
  details?: number;
  /** The case reaches the Docker Engine: compare the test's Docker objects too. */
  docker?: boolean;
}

const DIR = await Deno.makeTempDir({ prefix: "stowage-bad-input-" });
const STATE = `${DIR}/state`;
const UNIT = testName("badinput");
const INJECT = "ExecStartPre=/bin/touch /tmp/stowage-pwned";

/** Config files by name; Uint8Array for raw bytes. */
const CONFIGS: Record<string, string | Uint8Array> = {
  "ok.yaml": "backup:\n  scope: minimal\n",
  "syntax.yaml": "backup: [\n  scope: minimal\n",
  "tabs.yaml": "backup:\n\tscope: minimal\n",
  "duplicate.yaml": "backup:\n  scope: minimal\n  scope: full\n",
  "alias-bomb.yaml": aliasBomb(),
  "latin1.yaml": new Uint8Array([...new TextEncoder().encode("state_dir: /srv/"), 0xe9, 0x0a]),
  "binary.yaml": new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0xff, 0xfe, 0x00]),
  "list.yaml": "- backup\n- restore\n",
  "scalar.yaml": "just some words\n",
  "unknown-key.yaml": "repostory:\n  location: /srv/repo\n",
  "wrong-type.yaml": "backup:\n  stop_timeout: soon\n",
  "bad-enum.yaml": "backup:\n  scope: everything\n",
  "out-of-range.yaml": "backup:\n  parallel_volumes: 99\n",
  "negative-retention.yaml": "retention:\n  daily: -1\n",
  "mapping-for-list.yaml": "backup:\n  exclude: {a: 1}\n",
  "bad-log-level.yaml": "log_level: loud\n",
  "bad-hook.yaml": "hooks:\n  pre_backup:\n    - nope: 1\n",
  "hook-timeout.yaml": "hooks:\n  pre_backup:\n    - run: 'true'\n      timeout: 1y\n",
  "relative-state.yaml": "state_dir: var/stowage\n",
  "relative-location.yaml": "repository:\n  location: backups/repo\n",
  "relative-local.yaml": "repository:\n  location: local:repo\n",
  "relative-password.yaml": "repository:\n  password_file: ./repository.password\n",
  "relative-all.yaml":
    "state_dir: state\nrepository:\n  location: repo\n  password_file: pw\nrecovery_bundle_path: b\n",
  "control-path.yaml": 'state_dir: "/srv/a\\nExecStartPre=/bin/true"\n',
  "listen-open.yaml": "status:\n  listen: 0.0.0.0:9876\n",
  "listen-bad.yaml": "status:\n  listen: everywhere\n",
  "huge-value.yaml": `backup:\n  stop_timeout: ${"9".repeat(3_000_000)}x\n`,
  "missing-password.yaml": `repository:\n  password_file: ${DIR}/no-such.password\n`,
  "units-as-list.yaml": "units:\n  - web\n",
  "empty-units-key.yaml": "units:\n  '':\n    skip: maybe\n",
};

function aliasBomb(): string {
  const lines = ["a: &a [x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 9; i++) {
    const [prev, cur] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
    lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(", ")}]`);
  }
  return lines.join("\n") + "\n";
}

const V = ["admin", "config", "validate"];
const W = ["admin", "service", "write-units", "--output-dir", `${DIR}/units`, "--dry-run"];
const R = ["restore", "--unit", "web", "--yes"];

// A table reads best one case per line.
// deno-fmt-ignore
const CASES: Case[] = [
  // Config files that are not files, or not text.
  { name: "config is a FIFO", args: V, config: "fifo.yaml", code: "config.unreadable", message: /not a regular file/ },
  { name: "config is a directory", args: V, config: "dir.yaml", code: "config.unreadable", message: /it is a directory/ },
  { name: "config is a symlink loop", args: V, config: "loop.yaml", code: "config.unreadable", message: /symbolic links loop/ },
  { name: "config path goes through a file", args: V, config: "ok.yaml/inner.yaml", code: "config.unreadable", message: /is a file, not a directory/ },
  { name: "config does not exist", args: V, config: "absent.yaml", code: "config.missing", message: /no such file/ },
  { name: "config is bigger than 8 MiB", args: V, config: "huge.yaml", code: "config.unreadable", message: /more than a config file can be/ },
  { name: "config is Latin-1, not UTF-8", args: V, config: "latin1.yaml", code: "config.unreadable", message: /not UTF-8 text/ },
  { name: "config is a binary", args: V, config: "binary.yaml", code: "config.unreadable", message: /not UTF-8 text/ },
  { name: "--config ''", args: ["--config", "", ...V], code: "usage", message: /--config '': the path is empty/ },
  // Malformed YAML.
  { name: "YAML syntax error", args: V, config: "syntax.yaml", code: "config.parse", message: /not valid YAML \(line \d+/, details: 0 },
  { name: "a tab for indentation", args: V, config: "tabs.yaml", code: "config.parse", message: /not valid YAML/ },
  { name: "duplicate keys", args: V, config: "duplicate.yaml", code: "config.parse", message: /not valid YAML.*unique/i },
  { name: "YAML alias bomb", args: V, config: "alias-bomb.yaml", code: "config.parse", message: /aliases expand too far/ },
  // Valid YAML, wrong shape.
  { name: "top level is a list", args: V, config: "list.yaml", code: "config.invalid", message: /expected a mapping of keys, got a list/ },
  { name: "top level is a scalar", args: V, config: "scalar.yaml", code: "config.invalid", message: /expected a mapping of keys/ },
  { name: "unknown key with did-you-mean", args: V, config: "unknown-key.yaml", code: "config.invalid", message: /'repostory': unknown key \(did you mean 'repository'\?\)/ },
  { name: "wrong type", args: V, config: "wrong-type.yaml", code: "config.invalid", message: /'backup.stop_timeout': expected a number of seconds.*"soon"/ },
  { name: "value not in the enum", args: V, config: "bad-enum.yaml", code: "config.invalid", message: /'backup.scope': expected one of minimal, standard, full, got "everything"/ },
  { name: "number out of range", args: V, config: "out-of-range.yaml", code: "config.invalid", message: /'backup.parallel_volumes'.*from 1 to 16, got 99/ },
  { name: "negative retention", args: V, config: "negative-retention.yaml", code: "config.invalid", message: /'retention.daily'.*0 or more/ },
  { name: "a mapping where a list belongs", args: V, config: "mapping-for-list.yaml", code: "config.invalid", message: /'backup.exclude': expected a list/ },
  { name: "bad log level", args: V, config: "bad-log-level.yaml", code: "config.invalid", message: /'log_level'/ },
  { name: "hook that is neither run nor module", args: V, config: "bad-hook.yaml", code: "config.invalid", message: /'hooks.pre_backup.0'/, details: 1 },
  { name: "hook timeout that is not a number", args: V, config: "hook-timeout.yaml", code: "config.invalid", message: /'hooks.pre_backup.0.timeout'.*"1y"/ },
  { name: "units as a list", args: V, config: "units-as-list.yaml", code: "config.invalid", message: /'units': expected/ },
  { name: "unit with an empty name and a bad flag", args: V, config: "empty-units-key.yaml", code: "config.invalid", message: /'units\.\.skip': expected true or false, got "maybe"/ },
  { name: "3 MB bad value is not echoed whole", args: V, config: "huge-value.yaml", code: "config.invalid", message: /'backup.stop_timeout'.*…/ },
  // Paths that depend on the working directory, control characters, addresses.
  { name: "relative state_dir", args: V, config: "relative-state.yaml", code: "config.invalid", message: /'state_dir': expected an absolute path/ },
  { name: "relative repository location", args: V, config: "relative-location.yaml", code: "config.invalid", message: /'repository.location'.*relative path/ },
  { name: "relative local: location", args: V, config: "relative-local.yaml", code: "config.invalid", message: /'repository.location'.*"local:repo"/ },
  { name: "relative password_file", args: V, config: "relative-password.yaml", code: "config.invalid", message: /'repository.password_file': expected an absolute path/ },
  { name: "four relative paths, all reported at once", args: V, config: "relative-all.yaml", code: "config.invalid", message: /has 4 problems/, details: 3 },
  { name: "line break in a path", args: V, config: "control-path.yaml", code: "config.invalid", message: /'state_dir'.*control character/ },
  { name: "status.listen on the network without a token", args: V, config: "listen-open.yaml", code: "config.invalid", message: /'status.listen'.*not a loopback address.*token_file/ },
  { name: "status.listen that is not HOST:PORT", args: V, config: "listen-bad.yaml", code: "config.invalid", message: /'status.listen': expected HOST:PORT/ },
  { name: "missing password file", args: ["restore", "--list"], config: "missing-password.yaml", code: "repo.password", message: /password file '.*no-such\.password' does not exist/ },
  // Flags.
  { name: "unknown command", args: ["frobnicate"], code: "usage", message: /unknown command 'frobnicate'/ },
  { name: "unknown flag with did-you-mean", args: ["backup", "--jsn"], code: "usage", message: /unknown option '--jsn' \(did you mean --json\?\)/ },
  { name: "flag without its value", args: ["restore", "--before"], code: "usage", message: /'--before <time>' argument missing/ },
  { name: "unknown log level", args: ["--log-level", "loud", ...V], code: "usage", message: /Unknown log level 'loud'/ },
  { name: "unknown scope", args: ["backup", "--scope", "everything"], code: "usage", message: /Unknown scope 'everything'/ },
  { name: "--wait that is not whole seconds", args: ["backup", "--wait", "1.5"], code: "usage", message: /--wait expects a whole number of seconds, got '1.5'/ },
  { name: "--before an impossible date", args: [...R, "--before", "2025-02-30"], code: "usage", message: /2025-02-30 is not a day of the calendar/ },
  { name: "--before an impossible date and time", args: [...R, "--before", "2025-04-31T10:00:00Z"], code: "usage", message: /2025-04-31 is not a day/ },
  { name: "--before that is not a time", args: [...R, "--before", "yesterday"], code: "usage", message: /--before 'yesterday': not a time/ },
  { name: "--backup-id that is not one", args: [...R, "--backup-id", "../../etc"], code: "usage", message: /--backup-id '\.\.\/\.\.\/etc': not a backup id/ },
  { name: "--backup-id written as a time", args: [...R, "--backup-id", "2025-01-31 23:59:59"], code: "usage", message: /not a backup id/ },
  { name: "two restore points at once", args: [...R, "--latest", "--before", "2025-01-01"], code: "usage", message: /cannot be used with|only one of/ },
  { name: "--only with an unknown part", args: [...R, "--latest", "--only", "everything"], code: "usage", message: /Unknown part 'everything'/ },
  { name: "--to-dir that is an existing file", args: [...R, "--latest", "--to-dir", "ok.yaml", "--dry-run"], code: "usage", message: /--to-dir '.*ok\.yaml': it exists and is not a directory/ },
  { name: "--to-dir below a file", args: [...R, "--latest", "--to-dir", "ok.yaml/x"], code: "usage", message: /a part of the path is a file/ },
  { name: "--to-dir ''", args: [...R, "--latest", "--to-dir", ""], code: "usage", message: /the path is empty/ },
  { name: "--to-dir with --start", args: [...R, "--latest", "--to-dir", "/tmp/x", "--start"], code: "usage", message: /--to-dir restores files only/ },
  { name: "--env-file that is a FIFO", args: [...R, "--latest", "--env-file", "fifo.yaml"], code: "usage", message: /--env-file 'fifo\.yaml': it is not a regular file/ },
  { name: "--env-file that does not exist", args: [...R, "--latest", "--env-file", "absent.env"], code: "usage", message: /--env-file 'absent\.env': no such file/ },
  { name: "schedule with a line break", args: [...W, "--schedule", `daily\n${INJECT}`], code: "usage", message: /line break/ },
  { name: "schedule systemd does not accept", args: [...W, "--schedule", "Mon 25:99"], code: "usage", message: /systemd does not accept it/ },
  { name: "read-write path with a line break", args: [...W, "--read-write-path", `/srv\n${INJECT}`], code: "usage", message: /'\/srv\\nExecStartPre.*line break/ },
  { name: "relative read-write path", args: [...W, "--read-write-path", "dumps"], code: "usage", message: /not an absolute path/ },
  { name: "relative --binary", args: [...W, "--binary", "stowage"], code: "usage", message: /--binary 'stowage': it is not an absolute path/ },
  { name: "--interval-minutes 0", args: [...W, "--interval-minutes", "0"], code: "usage", message: /--interval-minutes expects a whole number/ },
  { name: "status address that is not HOST:PORT", args: ["admin", "service", "daemon", "--status-listen", "everywhere"], code: "usage", message: /expected HOST:PORT/ },
  { name: "forget a unit with no results", args: ["admin", "service", "forget-unit", "nope"], code: "unit.notfound", message: /no recorded results/ },
  // Reaches Docker: a mistyped unit fails before the lock, the repository or any container.
  { name: "backup --unit typo", args: ["backup", "--unit", `${UNIT}x`], code: "unit.notfound", message: new RegExp(`Unknown unit '${UNIT}x'; did you mean '${UNIT}'`), docker: true },
  { name: "backup --unit with a line break", args: ["backup", "--unit", `${UNIT}\nx`], code: "unit.notfound", message: /Unknown unit '.*\\nx'/, docker: true },
];

/** Everything under DIR with what a change would alter. */
async function listing(dir = DIR): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      const st = await Deno.lstat(p);
      out.push(
        `${p} ${e.isDirectory ? "d" : e.isSymlink ? "l" : st.isFile ? "f" : "o"} ${st.size} ${
          st.mode?.toString(8)
        } ${st.mtime?.getTime()}`,
      );
      if (e.isDirectory && !e.isSymlink) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

async function dockerObjects(): Promise<string[]> {
  const label = `label=${TEST_LABEL}`;
  const ps = await docker("ps", "-a", "--filter", label, "--format", "{{.Names}} {{.State}}");
  const vols = await docker("volume", "ls", "-q", "--filter", label);
  const nets = await docker("network", "ls", "-q", "--filter", label);
  return [ps.stdout, vols.stdout, nets.stdout].join("\n").split("\n").filter(Boolean).sort();
}

async function setUp() {
  for (const [name, content] of Object.entries(CONFIGS)) {
    const path = `${DIR}/${name}`;
    if (typeof content === "string") await Deno.writeTextFile(path, content, { mode: 0o600 });
    else await Deno.writeFile(path, content, { mode: 0o600 });
  }
  await sh("mkfifo", ["-m", "600", `${DIR}/fifo.yaml`]);
  await Deno.mkdir(`${DIR}/dir.yaml`);
  await Deno.symlink(`${DIR}/loop-b.yaml`, `${DIR}/loop.yaml`);
  await Deno.symlink(`${DIR}/loop.yaml`, `${DIR}/loop-b.yaml`);
  // Sparse: 9 MiB that take no space.
  const huge = await Deno.open(`${DIR}/huge.yaml`, { create: true, write: true, mode: 0o600 });
  await huge.truncate(9 * 1024 * 1024);
  huge.close();
  await Deno.mkdir(STATE, { mode: 0o700 });
}

async function startUnitContainer() {
  const image = await ensureTestImage();
  await docker("run", "-d", "--init", "--name", UNIT, "--label", TEST_LABEL, image);
}

Deno.test("bad input: each case exits with its documented code, one line and a hint, and changes nothing", async (t) => {
  assert.ok(CASES.length >= 40, `the corpus has ${CASES.length} cases`);
  await setUp();
  const needsDocker = CASES.some((c) => c.docker);
  if (needsDocker) await startUnitContainer();
  try {
    for (const c of CASES) {
      await t.step(c.name, async () => {
        const before = await listing();
        const dockerBefore = c.docker ? await dockerObjects() : [];
        const env: Record<string, string> = { STOWAGE_STATE_DIR: STATE };
        env.STOWAGE_CONFIG = `${DIR}/${c.config ?? "ok.yaml"}`;
        const r = await stowage(c.args, {
          env,
          cwd: DIR,
          signal: AbortSignal.timeout(60_000),
        });
        const shown = `${JSON.stringify(c.args).slice(0, 200)}\n--- stderr\n${
          r.stderr.slice(0, 2000)
        }\n--- stdout\n${r.stdout.slice(0, 500)}`;
        assert.equal(r.code, EXIT_CODES[c.code], `exit code for ${c.code}: ${shown}`);
        assert.equal(r.stdout, "", `nothing on stdout: ${shown}`);
        assert.doesNotMatch(r.stderr, /^\s+at /m, `no stack frame: ${shown}`);
        assert.doesNotMatch(r.stderr, /internal error/, shown);
        assert.doesNotMatch(r.stderr, /\b(Type|Reference|Range|Syntax)Error\b|Uncaught/, shown);
        const lines = r.stderr.replace(/\n$/, "").split("\n");
        assert.equal(lines.length, 2 + (c.details ?? 0), `message, details, hint: ${shown}`);
        assert.match(lines[0], /^stowage: \S/, shown);
        assert.ok(lines[0].length <= 300, `message is ${lines[0].length} characters: ${shown}`);
        assert.match(lines[0], c.message, shown);
        for (const d of lines.slice(1, -1)) assert.match(d, /^ {2}\S/, shown);
        assert.match(lines.at(-1)!, /^hint: \S/, shown);
        assert.deepEqual(await listing(), before, `nothing changed on disk: ${shown}`);
        if (c.docker) {
          assert.deepEqual(
            await dockerObjects(),
            dockerBefore,
            `nothing changed in Docker: ${shown}`,
          );
        }
      });
    }
  } finally {
    if (needsDocker) await docker("rm", "-f", UNIT).catch(() => {});
    await Deno.remove(DIR, { recursive: true });
  }
});
