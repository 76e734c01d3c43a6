import assert from "node:assert/strict";
import { checkConfigText, parseConfigText } from "./validate.ts";
import { isStowageError } from "../errors.ts";

const problems = (text: string) => {
  const r = checkConfigText(text);
  assert.equal(r.ok, false, "expected the config to be rejected");
  return r.ok ? [] : r.problems;
};

Deno.test("validate: an empty file is the defaults", () => {
  const r = checkConfigText("");
  assert.ok(r.ok);
  assert.equal(r.config.backup.stop_timeout, 30);
  assert.equal(r.config.backup.scope, "standard");
});

Deno.test("validate: wrong type names the path, the expectation and the value", () => {
  assert.deepEqual(problems("backup:\n  stop_timeout: abc\n"), [
    `At 'backup.stop_timeout': expected a number of seconds from 1 to 3600, got "abc"`,
  ]);
});

Deno.test("validate: unknown keys are errors with a did-you-mean, at any depth", () => {
  assert.deepEqual(problems("repostory: {}\nbackup:\n  stop_timout: 3\n"), [
    "At 'backup.stop_timout': unknown key (did you mean 'stop_timeout'?)",
    "At 'repostory': unknown key (did you mean 'repository'?)",
  ]);
  assert.deepEqual(problems("zzzzzz: 1\n"), ["At 'zzzzzz': unknown key"]);
});

Deno.test("validate: every problem is listed at once", () => {
  const p = problems(
    "backup:\n  stop_timeout: 0\n  scope: big\nretention:\n  daily: -1\nunits:\n  web:\n    skip: maybe\nlog_level: loud\n",
  );
  assert.equal(p.length, 5, p.join("\n"));
  assert.ok(p.includes(`At 'backup.scope': expected one of minimal, standard, full, got "big"`));
  assert.ok(p.includes(`At 'units.web.skip': expected true or false, got "maybe"`));
  assert.ok(p.includes(`At 'log_level': expected one of debug, info, warning, error, got "loud"`));
});

Deno.test("validate: hook specs report the form they aim at, or both forms", () => {
  const p = problems(
    "hooks:\n  pre_backup:\n    - run: 3\n    - modul: x.ts\n    - module: 5\n    - run: x\n      timeout: abc\n    - just a string\n",
  );
  assert.deepEqual(p, [
    "At 'hooks.pre_backup.0.run': expected a program path or an argv list, got 3",
    "At 'hooks.pre_backup.1': expected a hook: { run: ... } or { module: ... }",
    "At 'hooks.pre_backup.1.modul': unknown key (did you mean 'module'?)",
    "At 'hooks.pre_backup.2.module': expected a TypeScript module path (text), got 5",
    `At 'hooks.pre_backup.3.timeout': expected a hook timeout in seconds from 1 to 86400, got "abc"`,
    "At 'hooks.pre_backup.4': expected a hook: { run: ... } or { module: ... }",
  ]);
});

Deno.test("validate: an empty section and a list at the top level are explained", () => {
  assert.deepEqual(problems("backup:\n"), [
    "At 'backup': expected a mapping of keys, got an empty value",
  ]);
  assert.deepEqual(problems("- a\n- b\n"), [
    "At the top level: expected a mapping of keys, got a list",
  ]);
});

Deno.test("validate: malformed YAML gives line and column for each error, code config.parse", () => {
  const r = checkConfigText("a: 1\na: 2\nb: [\n");
  assert.ok(!r.ok);
  assert.equal(r.code, "config.parse");
  assert.equal(r.problems.length, 2);
  assert.match(r.problems[0], /^line 2, column 1: Map keys must be unique/);
  assert.match(r.problems[1], /^line \d+, column \d+: /);
});

Deno.test("parseConfigText throws one StowageError: first problem in the message, the rest as details", () => {
  try {
    parseConfigText("backup:\n  stop_timeout: abc\nfoo: 1\n", "/etc/stowage/config.yaml");
    assert.fail("should throw");
  } catch (e) {
    assert.ok(isStowageError(e, "config.invalid"));
    assert.match(
      e.message,
      /^Config '\/etc\/stowage\/config\.yaml' has 2 problems: At 'backup\.stop_timeout'/,
    );
    assert.deepEqual(e.details, ["At 'foo': unknown key"]);
    assert.ok(e.hint);
  }
  assert.throws(() => parseConfigText("a: [", "x.yaml"), (e) => isStowageError(e, "config.parse"));
});

Deno.test("validate: a YAML alias bomb is a parse error, not an internal error", () => {
  const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(", ")}]`);
  }
  const r = checkConfigText(levels.join("\n") + "\n");
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, "config.parse");
  assert.match(!r.ok ? r.problems[0] : "", /aliases expand too far/);
});

Deno.test("validate: echoed values are cut to a line", () => {
  const huge = "x".repeat(3_000_000);
  const found = problems(`backup:\n  stop_timeout: ${huge}\n${"k".repeat(1000)}: 1\n`);
  assert.equal(found.length, 2);
  for (const p of found) {
    assert.ok(p.length < 300, `problem is ${p.length} characters`);
    assert.match(p, /…/);
  }
  const all = problems(`backup:\n  scope: "a\\nb"\n`);
  assert.equal(all.length, 1);
  assert.doesNotMatch(all[0], /\n/);
});

Deno.test("validate: relative paths are refused, one problem per path, all at once", () => {
  const found = problems(
    [
      "state_dir: var/stowage",
      "repository:",
      "  location: backups/repo",
      "  password_file: ./pw",
      "recovery_bundle_path: bundles",
      "",
    ].join("\n"),
  );
  assert.deepEqual(found.map((p) => p.replace(/:.*/, "")).sort(), [
    "At 'recovery_bundle_path'",
    "At 'repository.location'",
    "At 'repository.password_file'",
    "At 'state_dir'",
  ]);
  for (const p of found) assert.match(p, /relative path would depend on the working directory/);
  assert.deepEqual(problems("repository:\n  location: local:repo\n").length, 1);
  for (const ok of ["/srv/repo", "local:/srv/repo", "sftp:u@h:/r", "rest:https://h/", "s3:h/b"]) {
    assert.ok(checkConfigText(`repository:\n  location: "${ok}"\n`).ok, ok);
  }
});

Deno.test("validate: status.listen follows the daemon's rule (network address needs a token file)", () => {
  assert.match(problems("status:\n  listen: 0.0.0.0:9876\n")[0], /At 'status.listen'.*token_file/);
  assert.match(
    problems("status:\n  listen: nonsense\n")[0],
    /At 'status.listen': expected HOST:PORT/,
  );
  assert.ok(checkConfigText("status:\n  listen: 127.0.0.1:9876\n").ok);
  assert.ok(
    checkConfigText("status:\n  listen: 0.0.0.0:9876\n  token_file: /etc/stowage/token\n").ok,
  );
});

Deno.test("validate notify: targets get defaults; each problem is one line that never echoes a URL's secret", () => {
  const ok = parseConfigText(
    `notify:
  - { name: ops, webhook: "https://hooks.example/backup/s3cret", on: [failure, success] }
  - { name: hc, healthchecks: "https://hc-ping.example/uuid-s3cret" }
  - name: mail
    email: { server: "smtp.example:587", from: "b@example.com", to: ["o@example.com"] }
  - { name: script, command: ["/usr/local/bin/alert"] }
`,
    "test.yml",
  );
  assert.equal(ok.notify.length, 4);
  assert.equal(ok.notify[0].timeout, 10);
  assert.equal(ok.notify[0].retries, 2);
  assert.equal(ok.notify[2].email?.security, "starttls");
  assert.equal(ok.notify[1].on, undefined);

  const p = problems(`notify:
  - { name: a, webhook: "ftp://user:pw@hooks.example/path-s3cret" }
  - { name: a, ntfy: "https://ntfy.example/t", healthchecks: "https://hc.example/x" }
  - { name: c }
  - { name: d, command: "x", headers_file: /etc/h }
  - { name: e, webhok: "https://x.example/" }
  - { name: f, ntfy: "https://ntfy.example/t", on: [failed] }
  - { name: g, email: { server: smtp.example, from: "a@b", to: ["x\\n@y"] } }
`);
  const text = p.join("\n");
  assert.ok(!text.includes("s3cret") && !text.includes("pw@"), text);
  for (const line of p) assert.ok(!line.includes("\n"), line);
  for (
    const want of [
      `At 'notify.0.webhook': expected a webhook URL (http:// or https://), got ftp://hooks.example/**REDACTED**`,
      `At 'notify.1.name': target name "a" is used twice; names must be unique`,
      `At 'notify.1': target "a" has ntfy and healthchecks: give exactly one kind per target`,
      `At 'notify.2': target "c" has no kind: give exactly one of webhook, ntfy, healthchecks, email, command`,
      `At 'notify.3.headers_file': headers_file works only with webhook or ntfy`,
      `At 'notify.4.webhok': unknown key (did you mean 'webhook'?)`,
      `At 'notify.5.on.0': expected one of failure, success, start, warning, got "failed"`,
      `At 'notify.6.email.server': expected an SMTP server as host:port (e.g. smtp.example.com:587), got "smtp.example"`,
    ]
  ) assert.ok(p.includes(want), `missing: ${want}\n---\n${text}`);
  assert.ok(p.some((l) => l.startsWith("At 'notify.6.email.to.0': expected a recipient address")));
});
