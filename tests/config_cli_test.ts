/**
 * The config commands, `version`, `setup`, help and usage errors, run as a user runs them:
 * `deno run -P=stowage main.ts ...` (tests/support/cli.ts), without a terminal on stdin.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { type CliResult, isolatedEnv, stowage } from "./support/cli.ts";
import { EXIT_CODES } from "../cli/exit_codes.ts";

const mode = async (path: string) => ((await Deno.stat(path)).mode ?? 0) & 0o777;
const out = (r: CliResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

async function withEnv(
  config: string | undefined,
  fn: (e: Awaited<ReturnType<typeof isolatedEnv>>) => Promise<void>,
) {
  const e = await isolatedEnv(config);
  try {
    await fn(e);
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
}

/** Every failure is one `stowage:` line (plus detail lines) and a hint, never a stack. */
function assertCleanFailure(r: CliResult, code: number) {
  assert.equal(r.code, code, out(r));
  assert.match(r.stderr, /^stowage: .+/m, out(r));
  assert.match(r.stderr, /^hint: .+/m, out(r));
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, "no stack trace");
}

Deno.test("config new: flags write a 0600 config and a 0600 password file that is never printed", async () => {
  await withEnv(undefined, async (e) => {
    const configPath = `${e.dir}/etc/stowage/config.yaml`;
    const passwordFile = `${e.dir}/keys/repo.password`;
    const r = await stowage([
      "admin",
      "config",
      "new",
      "--config",
      configPath,
      "--repository",
      `${e.dir}/repo`,
      "--password-file",
      passwordFile,
      "--scope",
      "full",
    ], { env: e.env });
    assert.equal(r.code, 0, out(r));
    assert.equal(await mode(configPath), 0o600);
    assert.equal(await mode(`${e.dir}/etc/stowage`), 0o700, "created parent dir is 0700");
    assert.equal(await mode(passwordFile), 0o600);
    const password = await Deno.readTextFile(passwordFile);
    assert.match(password, /^[A-Za-z0-9]{48}$/);
    assert.ok(!r.stdout.includes(password) && !r.stderr.includes(password), "password printed");
    assert.match(r.stdout, new RegExp(`Password file: ${passwordFile} \\(created`));
    const text = await Deno.readTextFile(configPath);
    assert.match(text, new RegExp(`location: ${e.dir}/repo`));
    assert.match(text, new RegExp(`password_file: ${passwordFile}`));
    assert.match(text, /scope: full/);
    assert.ok(!text.includes(password));

    // The written file is valid, and a second `new` refuses without --force.
    const valid = await stowage(["admin", "config", "validate", configPath], { env: e.env });
    assert.equal(valid.code, 0, out(valid));
    const again = await stowage(["admin", "config", "new", "--config", configPath], { env: e.env });
    assertCleanFailure(again, EXIT_CODES.usage);
    assert.match(again.stderr, /already exists/);
    assert.match(again.stderr, /--force/);

    // --force replaces the config but keeps an existing password file as it is.
    const forced = await stowage(
      [
        "admin",
        "config",
        "new",
        "--config",
        configPath,
        "--password-file",
        passwordFile,
        "--force",
        "--json",
      ],
      { env: e.env },
    );
    assert.equal(forced.code, 0, out(forced));
    const doc = JSON.parse(forced.stdout);
    assert.equal(doc.passwordFile.created, false);
    assert.equal(doc.repository.isDefault, true);
    assert.equal(await Deno.readTextFile(passwordFile), password);
    assert.ok(!forced.stdout.includes(password));
  });
});

Deno.test("config new: without a terminal and without --repository it uses the embedded default and says so", async () => {
  await withEnv(undefined, async (e) => {
    const r = await stowage(["admin", "config", "new"], {
      env: { ...e.env, STOWAGE_CONFIG: e.configPath },
    });
    assert.equal(r.code, 0, out(r));
    assert.match(
      r.stdout,
      new RegExp(`Repository: +${e.stateDir}/repository \\(the embedded default`),
    );
    assert.equal(await mode(`${e.stateDir}/repository.password`), 0o600);
    const text = await Deno.readTextFile(e.configPath);
    assert.ok(!text.includes("location:"), "the default location stays implicit");
  });
});

Deno.test("config new: a bad location or scope is a usage error naming the value", async () => {
  await withEnv(undefined, async (e) => {
    const env = { ...e.env, STOWAGE_CONFIG: e.configPath };
    const loc = await stowage(["admin", "config", "new", "--repository", "sfpt:nas:/x"], { env });
    assertCleanFailure(loc, EXIT_CODES.usage);
    assert.match(loc.stderr, /'sfpt:nas:\/x'/);
    const scope = await stowage(["admin", "config", "new", "--scope", "everything"], { env });
    assertCleanFailure(scope, EXIT_CODES.usage);
    assert.match(scope.stderr, /Unknown scope 'everything'/);
    await assert.rejects(Deno.stat(e.configPath), Deno.errors.NotFound);
  });
});

const SECRET_CONFIG = `repository:
  location: rest:https://bob:hunter2-rest@backup.example:8000/web1
  env:
    AWS_ACCESS_KEY_ID: AKIA-not-shown
    AWS_SECRET_ACCESS_KEY: very-secret-value
hooks:
  post_backup:
    - run: ["curl", "-fsS", "-H", "Authorization: Bearer tok-never-shown", "https://hc.example/ping"]
`;

Deno.test("config show: secrets masked in text and JSON, and the file it came from is named", async () => {
  await withEnv(SECRET_CONFIG, async (e) => {
    const secrets = ["hunter2-rest", "AKIA-not-shown", "very-secret-value", "tok-never-shown"];
    const text = await stowage(["admin", "config", "show"], { env: e.env });
    assert.equal(text.code, 0, out(text));
    assert.match(text.stdout, new RegExp(`# Config file: ${e.configPath}`));
    assert.match(text.stdout, /AWS_SECRET_ACCESS_KEY: "\*\*REDACTED\*\*"/);
    const json = await stowage(["admin", "config", "show", "--json"], { env: e.env });
    assert.equal(json.code, 0, out(json));
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.source.path, e.configPath);
    assert.equal(doc.source.embeddedDefault, false);
    assert.equal(doc.config.repository.env.AWS_ACCESS_KEY_ID, "**REDACTED**");
    assert.equal(doc.config.backup.stop_timeout, 30, "defaults are filled in");
    for (const s of secrets) {
      for (const r of [text, json]) {
        assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `'${s}' leaked:\n${out(r)}`);
      }
    }
  });
});

Deno.test("config validate: wrong type, unknown key with did-you-mean, all problems at once", async () => {
  const bad =
    "backup:\n  stop_timeout: abc\n  scop: full\nrepostory: {}\nretention:\n  daily: -1\n";
  await withEnv(bad, async (e) => {
    const r = await stowage(["admin", "config", "validate"], { env: e.env });
    assertCleanFailure(r, EXIT_CODES["config.invalid"]);
    assert.match(r.stderr, /has 4 problems/);
    for (
      const line of [
        `At 'backup.stop_timeout': expected a number of seconds from 1 to 3600, got "abc"`,
        "At 'backup.scop': unknown key (did you mean 'scope'?)",
        "At 'repostory': unknown key (did you mean 'repository'?)",
        "At 'retention.daily': expected how many daily snapshots to keep (a whole number, 0 or more), got -1",
      ]
    ) assert.ok(r.stderr.includes(line), `missing '${line}':\n${out(r)}`);

    const j = await stowage(["admin", "config", "validate", "--json"], { env: e.env });
    assert.equal(j.code, EXIT_CODES["config.invalid"], out(j));
    const doc = JSON.parse(j.stdout);
    assert.equal(doc.ok, false);
    assert.equal(doc.code, "config.invalid");
    assert.equal(doc.problems.length, 4);
  });
});

Deno.test("config validate: malformed YAML names line and column; the other commands refuse it too", async () => {
  await withEnv("backup:\n  scope: standard\n stop_timeout: [\n", async (e) => {
    const r = await stowage(["admin", "config", "validate"], { env: e.env });
    assertCleanFailure(r, EXIT_CODES["config.parse"]);
    assert.match(r.stderr, /not valid YAML \(line \d+, column \d+: /);
    const show = await stowage(["admin", "config", "show"], { env: e.env });
    assertCleanFailure(show, EXIT_CODES["config.parse"]);
  });
});

Deno.test("config validate/show: a missing explicit config and a directory are clear errors", async () => {
  await withEnv(undefined, async (e) => {
    const missing = await stowage(["admin", "config", "show", "--config", `${e.dir}/nope.yaml`], {
      env: e.env,
    });
    assertCleanFailure(missing, EXIT_CODES["config.missing"]);
    assert.match(missing.stderr, /nope\.yaml': no such file/);
    const viaEnv = await stowage(["admin", "config", "validate"], {
      env: { ...e.env, STOWAGE_CONFIG: `${e.dir}/nope.yaml` },
    });
    assertCleanFailure(viaEnv, EXIT_CODES["config.missing"]);
    const dir = await stowage(["admin", "config", "validate", e.dir], { env: e.env });
    assertCleanFailure(dir, EXIT_CODES["config.unreadable"]);
    assert.match(dir.stderr, /it is a directory/);
  });
});

/**
 * Root reads any file whatever its mode, so the unreadable-file case runs the CLI as `nobody`
 * (setpriv). That user cannot read root's Deno cache, so it gets a private copy.
 */
async function asNobody(
  args: string[],
  home: string,
  denoDir: string,
): Promise<CliResult> {
  const root = new URL("../", import.meta.url).pathname;
  const o = await new Deno.Command("setpriv", {
    args: [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "env",
      "-i",
      `HOME=${home}`,
      `DENO_DIR=${denoDir}`,
      "NO_COLOR=1",
      `PATH=${Deno.env.get("PATH")}`,
      Deno.execPath(),
      "run",
      "-P=stowage",
      "--no-prompt",
      "--quiet",
      `${root}main.ts`,
      ...args,
    ],
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

function denoDir(): string {
  const fromEnv = Deno.env.get("DENO_DIR");
  if (fromEnv) return fromEnv;
  return `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`;
}

Deno.test({
  name:
    "as a non-root user: an unreadable config is config.unreadable; reading config writes nothing",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "stowage-nobody-" });
    try {
      await Deno.chmod(dir, 0o755);
      await new Deno.Command("cp", { args: ["-r", denoDir(), `${dir}/deno`] }).output();
      await Deno.mkdir(`${dir}/home`);
      await new Deno.Command("chown", { args: ["-R", "65534:65534", `${dir}/deno`, `${dir}/home`] })
        .output();
      const secret = `${dir}/config.yaml`;
      await Deno.writeTextFile(secret, "backup:\n  scope: full\n", { mode: 0o600 });
      await Deno.chmod(secret, 0o000);

      const r = await asNobody(
        ["admin", "config", "validate", secret],
        `${dir}/home`,
        `${dir}/deno`,
      );
      assertCleanFailure(r, EXIT_CODES["config.unreadable"]);
      assert.match(r.stderr, /config\.yaml': permission denied/);

      // No file at the user's default path: the embedded default is shown, nothing is created.
      const show = await asNobody(["admin", "config", "show"], `${dir}/home`, `${dir}/deno`);
      assert.equal(show.code, 0, out(show));
      assert.match(
        show.stdout,
        new RegExp(
          `No config file at ${dir}/home/.config/stowage/config.yaml: the embedded default`,
        ),
      );
      assert.match(
        show.stdout,
        new RegExp(`Repository: ${dir}/home/.local/share/stowage/repository`),
      );
      const version = await asNobody(["version"], `${dir}/home`, `${dir}/deno`);
      assert.equal(version.code, 0, out(version));
      const created: string[] = [];
      for await (const entry of Deno.readDir(`${dir}/home`)) created.push(entry.name);
      assert.deepEqual(created.filter((n) => n !== ".cache"), [], "reading config wrote files");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("config schema: JSON Schema with descriptions that accepts good and rejects bad configs", async () => {
  const r = await stowage(["admin", "config", "schema"]);
  assert.equal(r.code, 0, out(r));
  const schema = JSON.parse(r.stdout);
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  assert.equal(schema.type, "object");
  assert.equal(schema.additionalProperties, false);
  const undescribed: string[] = [];
  const walk = (node: Record<string, unknown>, path: string) => {
    const props = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const [k, v] of Object.entries(props)) {
      if (!v.description) undescribed.push(`${path}${k}`);
      walk(v, `${path}${k}.`);
    }
  };
  walk(schema, "");
  assert.deepEqual(undescribed, [], "every key carries a description");
  // The JSON Schema means what the zod schema means: read it back and use it.
  const back = z.fromJSONSchema(schema);
  assert.ok(back.safeParse({ backup: { scope: "full", stop_timeout: 60 } }).success);
  assert.ok(!back.safeParse({ backup: { stop_timeout: "abc" } }).success);
  assert.ok(!back.safeParse({ repostory: {} }).success);
});

Deno.test("config reset: refuses without a terminal unless --yes, then keeps the old file as .bak", async () => {
  const original = "backup:\n  scope: full\n";
  await withEnv(original, async (e) => {
    const refused = await stowage(["admin", "config", "reset"], { env: e.env });
    assertCleanFailure(refused, EXIT_CODES["not.terminal"]);
    assert.match(refused.stderr, /--yes/);
    assert.equal(await Deno.readTextFile(e.configPath), original);

    const done = await stowage(["admin", "config", "reset", "--yes"], { env: e.env });
    assert.equal(done.code, 0, out(done));
    assert.equal(await Deno.readTextFile(`${e.configPath}.bak`), original);
    assert.equal(await mode(`${e.configPath}.bak`), 0o600);
    assert.equal(await mode(e.configPath), 0o600);
    const show = JSON.parse(
      (await stowage(["admin", "config", "show", "--json"], { env: e.env })).stdout,
    );
    assert.equal(show.config.backup.scope, "standard");
  });
});

Deno.test("config edit: an invalid result keeps the old file and lists every problem; a valid one is saved", async () => {
  const original = "# my comment\nbackup:\n  scope: full\n";
  await withEnv(original, async (e) => {
    // EDITOR runs through sh like git's: the temp copy's path arrives as "$1".
    const bad = `sh -c 'printf "backup:\\n  stop_timeout: abc\\nfoo: 1\\n" > "$1"' sh`;
    const r = await stowage(["admin", "config", "edit"], { env: { ...e.env, EDITOR: bad } });
    assertCleanFailure(r, EXIT_CODES["config.invalid"]);
    assert.match(r.stderr, /Not saved: the edited config has 2 problems/);
    assert.match(r.stderr, /At 'backup\.stop_timeout': expected a number of seconds/);
    assert.match(r.stderr, /At 'foo': unknown key/);
    assert.equal(await Deno.readTextFile(e.configPath), original, "old file kept");

    const broken = `sh -c 'printf "backup: [" > "$1"' sh`;
    const p = await stowage(["admin", "config", "edit"], { env: { ...e.env, VISUAL: broken } });
    assertCleanFailure(p, EXIT_CODES["config.parse"]);
    assert.equal(await Deno.readTextFile(e.configPath), original);

    const same = await stowage(["admin", "config", "edit"], { env: { ...e.env, EDITOR: "true" } });
    assert.equal(same.code, 0, out(same));
    assert.match(same.stdout, /No changes/);

    const good = `sh -c 'printf "# edited\\nbackup:\\n  stop_timeout: 90\\n" > "$1"' sh`;
    const ok = await stowage(["admin", "config", "edit"], { env: { ...e.env, EDITOR: good } });
    assert.equal(ok.code, 0, out(ok));
    assert.equal(await Deno.readTextFile(e.configPath), "# edited\nbackup:\n  stop_timeout: 90\n");
    assert.equal(await mode(e.configPath), 0o600);

    const failing = await stowage(["admin", "config", "edit"], {
      env: { ...e.env, EDITOR: "false" },
    });
    assertCleanFailure(failing, EXIT_CODES.io);
    assert.match(failing.stderr, /exited with code 1/);
  });
});

Deno.test("version --json: version, format and hooks SDK", async () => {
  const r = await stowage(["version", "--json"]);
  assert.equal(r.code, 0, out(r));
  const doc = JSON.parse(r.stdout);
  assert.match(doc.version, /^\d+\.\d+\.\d+/);
  assert.equal(typeof doc.format, "number");
  assert.ok(doc.hooks_sdk !== undefined);
});

Deno.test("an unknown command or flag exits 2 with a one-line error", async () => {
  for (
    const args of [["frobnicate"], ["admin", "config", "show", "--no-such-flag"], [
      "admin",
      "config",
      "nope",
    ]]
  ) {
    const r = await stowage(args);
    assert.equal(r.code, EXIT_CODES.usage, `${args.join(" ")}\n${out(r)}`);
    assert.match(r.stderr, /^stowage: (unknown|too many)/, out(r));
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/);
  }
});

Deno.test("setup without a terminal: writes a config, creates the repository, says what is next; twice is safe", async () => {
  await withEnv(undefined, async (e) => {
    const env = { ...e.env, STOWAGE_CONFIG: e.configPath };
    const first = await stowage(["setup"], { env });
    assert.equal(first.code, 0, out(first));
    assert.match(first.stdout, /restic +ok +0\.\d+/);
    assert.match(first.stdout, /Repository: +.*\(created now\)/);
    assert.match(first.stdout, /stowage backup/);
    assert.equal(await mode(e.configPath), 0o600);
    const password = await Deno.readTextFile(`${e.stateDir}/repository.password`);
    assert.ok(!first.stdout.includes(password) && !first.stderr.includes(password));
    await Deno.stat(`${e.stateDir}/repository/config`); // restic made it

    const second = await stowage(["setup", "--json"], { env });
    assert.equal(second.code, 0, out(second));
    const doc = JSON.parse(second.stdout);
    assert.equal(doc.config.created, false);
    assert.equal(doc.repository.created, false);
    assert.equal(doc.passwordFile.created, false);
    assert.equal(await Deno.readTextFile(`${e.stateDir}/repository.password`), password);
  });
});

/**
 * Drives the CLI on a real pseudo-terminal (`script`), answering each prompt when it appears:
 * `answers` maps text the prompt shows to the keys to type.
 */
async function onTerminal(
  args: string[],
  env: Record<string, string>,
  answers: [string, string][],
): Promise<{ code: number; output: string }> {
  const root = new URL("../", import.meta.url).pathname;
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const cmd = [
    Deno.execPath(),
    "run",
    "-P=stowage",
    "--no-prompt",
    "--quiet",
    `${root}main.ts`,
    ...args,
  ]
    .map(quote).join(" ");
  const child = new Deno.Command("script", {
    args: ["-qec", cmd, "/dev/null"],
    cwd: root,
    env: { NO_COLOR: "1", TERM: "xterm", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const decoder = new TextDecoder();
  let output = "";
  let next = 0;
  // A prompt that never shows would wait for input forever: end it rather than hang the suite.
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  // Read to the end (cancelling stdout early would SIGPIPE the CLI), answering on the way.
  const reader = child.stdout.getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    output += decoder.decode(value, { stream: true });
    while (next < answers.length && output.includes(answers[next][0])) {
      await writer.write(new TextEncoder().encode(answers[next][1]));
      next++;
    }
  }
  await writer.close().catch(() => {});
  const status = await child.status;
  clearTimeout(guard);
  await child.stderr.cancel();
  return { code: status.code, output };
}

Deno.test("config new on a terminal: the wizard asks for what the flags did not give", async () => {
  await withEnv(undefined, async (e) => {
    const r = await onTerminal(["admin", "config", "new", "--config", e.configPath], e.env, [
      ["Where should backups go?", "\r"], // the first entry: a local folder
      ["Repository folder", `${e.dir}/wizard-repo\r`],
      ["Password file", "\r"],
      ["Backup scope", "\x1b[B\r"], // the cursor starts on "standard"; one down is "full"
    ]);
    assert.equal(r.code, 0, r.output);
    const text = await Deno.readTextFile(e.configPath);
    assert.match(text, new RegExp(`location: ${e.dir}/wizard-repo`));
    assert.match(text, /scope: full/);
    assert.ok(!text.includes("password_file"), "the default password file stays implicit");
    const password = await Deno.readTextFile(`${e.stateDir}/repository.password`);
    assert.ok(!r.output.includes(password), "password shown on the terminal");
  });
});
