import assert from "node:assert/strict";
import { classifyResticFailure, redactLocation, StderrTail } from "./errors.ts";

// stderr as restic 0.14.0 printed it on this machine (captured, not invented).
const MISSING_LOCAL = [
  "Fatal: unable to open config file: stat /tmp/rt/repo/config: no such file or directory",
  "Is there a repository at the following location?",
  "/tmp/rt/repo",
];
const MISSING_SFTP = [
  "Fatal: unable to open config file: Lstat: file does not exist",
  "Is there a repository at the following location?",
  "sftp://root@127.0.0.1:43063//tmp/rt/sftprepo",
];
const WRONG_PASSWORD = ["Fatal: wrong password or no key found"];
const LOCKED = [
  "unable to create lock in backend: repository is already locked by PID 7821 on vm by root (UID 0, GID 0)",
  "lock was created at 2026-11-26 02:41:31 (2.200702859s ago)",
  "storage ID a93bde35",
  "the `unlock` command can be used to remove stale locks",
];
const INTERRUPTED = ["\x1b[2Ksignal interrupt received, cleaning up"];
const PARTIAL = ["Warning: at least one source file could not be read"];
const NO_PASSWORD_FILE = ["Resolving password failed: Fatal: /tmp/rt/nope does not exist"];
const EMPTY_PASSWORD = [
  "reading repository password from stdin",
  "Fatal: an empty password is not a password",
];
const DUMP_MISSING = ['cannot dump file: path "/nope" not found in snapshot'];
const UNKNOWN_ID = ['invalid id "nothere": no matching ID found for prefix "nothere"'];
const SFTP_UNREACHABLE = [
  "subprocess ssh: ssh: connect to host 127.0.0.1 port 22: Connection refused",
  "Fatal: unable to open repository at sftp:nobody@127.0.0.1:/x: unable to start the sftp session, error: EOF",
];
const INIT_EXISTS = ["Fatal: create repository at repo failed: config file already exists"];
const CHECK_FAILED = [
  "error for tree 5e5da83a:",
  "  id 5e5da83a16833481ee1b0eb12e7a17210330e068b88076c23ba8bc401363080a not found in repository",
  "Fatal: repository contains errors",
];

Deno.test("missing repository (local and sftp) is repo.missing, naming action and location", () => {
  const e = classifyResticFailure(1, MISSING_LOCAL, "list snapshots", "/tmp/rt/repo");
  assert.equal(e.code, "repo.missing");
  assert.equal(e.message, "Cannot list snapshots: there is no restic repository at '/tmp/rt/repo'");
  assert.ok(e.hint);
  const s = classifyResticFailure(
    1,
    MISSING_SFTP,
    "back up '/x'",
    "sftp://root@127.0.0.1:43063//tmp/rt/sftprepo",
  );
  assert.equal(s.code, "repo.missing");
  assert.match(s.message, /sftp:\/\/root@127\.0\.0\.1:43063\/\/tmp\/rt\/sftprepo/);
  // restic 0.17+ says it with exit code 10 as well.
  assert.equal(classifyResticFailure(10, [], "x", "/r").code, "repo.missing");
});

Deno.test("wrong password, missing or empty password file are repo.password", () => {
  assert.equal(classifyResticFailure(1, WRONG_PASSWORD, "open", "/r").code, "repo.password");
  assert.equal(classifyResticFailure(12, [], "open", "/r").code, "repo.password");
  const e = classifyResticFailure(1, NO_PASSWORD_FILE, "open", "/r");
  assert.equal(e.code, "repo.password");
  assert.match(e.message, /missing or empty/);
  assert.equal(classifyResticFailure(1, EMPTY_PASSWORD, "open", "/r").code, "repo.password");
});

Deno.test("a lock is repo.locked and names its holder", () => {
  const e = classifyResticFailure(1, LOCKED, "prune the repository", "/r");
  assert.equal(e.code, "repo.locked");
  assert.equal(
    e.message,
    "Cannot prune the repository: the repository at '/r' is locked by PID 7821 on vm by root",
  );
  assert.match(e.hint ?? "", /stale/);
  assert.equal(classifyResticFailure(11, [], "x", "/r").code, "repo.locked");
});

Deno.test("exit 130 or restic's signal line is interrupted", () => {
  assert.equal(classifyResticFailure(130, INTERRUPTED, "back up", "/r").code, "interrupted");
  assert.equal(classifyResticFailure(1, INTERRUPTED, "back up", "/r").code, "interrupted");
});

Deno.test("exit 3 (unreadable source files) is a distinct repo.error", () => {
  const e = classifyResticFailure(3, PARTIAL, "back up '/data'", "/r");
  assert.equal(e.code, "repo.error");
  assert.match(
    e.message,
    /^Cannot back up '\/data' completely: some source files could not be read/,
  );
});

Deno.test("unknown snapshot ids and paths are snapshot.notfound", () => {
  assert.equal(classifyResticFailure(1, UNKNOWN_ID, "dump", "/r").code, "snapshot.notfound");
  const e = classifyResticFailure(2, DUMP_MISSING, "read '/nope' from snapshot abc", "/r");
  assert.equal(e.code, "snapshot.notfound");
  assert.match(e.message, /path "\/nope" not found in snapshot/);
});

Deno.test("anything else is repo.error with restic's last line and the tail as details", () => {
  const e = classifyResticFailure(
    1,
    SFTP_UNREACHABLE,
    "list snapshots",
    "sftp:nobody@127.0.0.1:/x",
  );
  assert.equal(e.code, "repo.error");
  assert.equal(
    e.message,
    "Cannot list snapshots: the repository's server does not answer (connection refused; repository 'sftp:nobody@127.0.0.1:/x')",
  );
  assert.deepEqual(e.details, SFTP_UNREACHABLE);
  assert.match(
    classifyResticFailure(1, INIT_EXISTS, "init", "repo").message,
    /config file already exists$/,
  );
  assert.match(
    classifyResticFailure(1, CHECK_FAILED, "check", "/r").message,
    /repository contains errors$/,
  );
  assert.match(classifyResticFailure(1, [], "check", "/r").message, /no error message$/);
});

Deno.test("credentials in a location never reach a message, hint or details", () => {
  const loc = "rest:https://backup:s3cr3t@host:8000/repo";
  const lines = [
    `Fatal: unable to open repository at ${loc}: Head "https://backup:s3cr3t@host:8000/repo/config": dial tcp: connection refused`,
  ];
  const e = classifyResticFailure(1, lines, "list snapshots", loc);
  const all = JSON.stringify({ m: e.message, h: e.hint, d: e.details });
  assert.ok(!all.includes("s3cr3t"), all);
  assert.match(all, /backup:\*\*REDACTED\*\*@host/);
  const m = classifyResticFailure(
    1,
    ["Is there a repository at the following location?", loc],
    "x",
    loc,
  );
  assert.ok(!m.message.includes("s3cr3t"));
  assert.equal(redactLocation("/plain/path"), "/plain/path");
  assert.equal(redactLocation("sftp://user@host:22//p"), "sftp://user@host:22//p");
});

Deno.test("StderrTail keeps the last lines, joins split chunks, strips terminal codes", () => {
  const t = new StderrTail(3);
  t.push("one\ntw");
  t.push("o\n\n\x1b[2Kthree\r\nfour");
  assert.deepEqual(t.lines(), ["two", "three", "four"]);
  const big = new StderrTail(20);
  for (let i = 0; i < 100; i++) big.push(`line ${i}\n`);
  assert.equal(big.lines().length, 20);
  assert.equal(big.lines()[19], "line 99");
});

Deno.test("an unknown or changed SSH host key says so and points at setup", () => {
  const unknown = classifyResticFailure(
    1,
    [
      "subprocess ssh: Host key verification failed.",
      "Fatal: unable to open repository at sftp:nas:/r: unable to start the sftp session, error: EOF",
    ],
    "list snapshots",
    "sftp:nas:/r",
  );
  assert.equal(unknown.code, "repo.error");
  assert.match(unknown.message, /host key .* is not trusted by stowage/);
  assert.match(unknown.hint ?? "", /stowage setup/);
  const changed = classifyResticFailure(
    1,
    [
      "subprocess ssh: @    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
      "subprocess ssh: Host key verification failed.",
    ],
    "list snapshots",
    "sftp:nas:/r",
  );
  assert.match(changed.message, /CHANGED since it was trusted/);
  assert.match(changed.hint ?? "", /another machine/);
});

// Captured from restic 0.14.0 against `rclone serve restic` 1.60 on this machine.
const REST_DOWN = [
  'Fatal: unable to open config file: client.Head: Head "http://127.0.0.1:18799/r/config": dial tcp 127.0.0.1:18799: connect: connection refused',
  "Is there a repository at the following location?",
  "rest:http://127.0.0.1:18799/r/",
];
const REST_UNAUTHORIZED = [
  "Fatal: unable to open config file: unexpected HTTP response (401): 401 Unauthorized",
  "Is there a repository at the following location?",
  "rest:http://u:***@127.0.0.1:18766/r/",
];
const APPEND_ONLY_FORGET = [
  "Remove(<snapshot/21a684ba45>) returned error, retrying after 15.394871241s: blob not removed, server response: 403 Forbidden (403)",
  "unable to remove <snapshot/21a684ba45> from the repository",
  "blob not removed, server response: 403 Forbidden (403)",
  "github.com/restic/restic/internal/backend/rest.(*Backend).Remove",
  "\tgithub.com/restic/restic/internal/backend/rest/rest.go:399",
  "main.deleteFiles.func2",
  "\tgithub.com/restic/restic/cmd/restic/delete.go:47",
  "runtime.goexit",
  "\truntime/asm_amd64.s:1594",
];
const RCLONE_NO_REMOTE = [
  'rclone: 2026/11/29 05:59:27 Failed to create file system for "nope:/tmp/ao/rcrepo": didn\'t find section in config file',
  'Fatal: unable to open repository at rclone:nope:/tmp/ao/rcrepo: error talking HTTP to rclone: Get "http://localhost/file-5577006791947779410": unexpected EOF',
];

Deno.test("a REST server that is down is one line saying so, not 'no repository'", () => {
  const e = classifyResticFailure(
    1,
    REST_DOWN,
    "open the repository",
    "rest:http://127.0.0.1:18799/r/",
  );
  assert.equal(e.code, "repo.error");
  assert.equal(
    e.message,
    "Cannot open the repository: the repository's server does not answer (connection refused; repository 'rest:http://127.0.0.1:18799/r/')",
  );
});

Deno.test("wrong REST credentials (HTTP 401) say the server refused them, password masked", () => {
  const loc = "rest:http://u:bad@127.0.0.1:18766/r/";
  const e = classifyResticFailure(1, REST_UNAUTHORIZED, "open the repository", loc);
  assert.equal(e.code, "repo.error");
  assert.match(e.message, /refused stowage's credentials \(HTTP 401/);
  assert.ok(!e.message.includes("bad"), e.message);
});

Deno.test("an append-only server refusing a forget is repo.appendonly, even after a Go stack trace", () => {
  const tail = new StderrTail(20);
  // The real stack is longer than the tail: frames must not push the error out.
  tail.push(
    APPEND_ONLY_FORGET.join("\n") + "\n" + APPEND_ONLY_FORGET.slice(3).join("\n").repeat(3),
  );
  const e = classifyResticFailure(1, tail.lines(), "forget 2 snapshot(s)", "rest:http://h/r/");
  assert.equal(e.code, "repo.appendonly");
  assert.match(e.message, /refuses deletion \(append-only\)/);
});

Deno.test("rclone without the named remote says what rclone said", () => {
  const e = classifyResticFailure(
    1,
    RCLONE_NO_REMOTE,
    "list snapshots",
    "rclone:nope:/tmp/ao/rcrepo",
  );
  assert.equal(e.code, "repo.error");
  assert.match(
    e.message,
    /rclone failed to create file system for "nope:.*didn't find section in config file/,
  );
});

Deno.test("an S3 server refusing the access key, or a TLS certificate restic does not trust, is one line saying so", () => {
  const loc = "s3:https://127.0.0.1:45682/bkt/repo";
  const key = classifyResticFailure(
    1,
    [
      "Fatal: unable to open config file: Stat: The AWS Access Key Id you provided does not exist in our records.",
      "Is there a repository at the following location?",
      loc,
    ],
    "open the repository",
    loc,
  );
  assert.equal(key.code, "repo.error");
  assert.equal(
    key.message,
    "Cannot open the repository: the repository's server refused stowage's credentials (The AWS Access Key Id you provided does not exist in our records; repository 's3:https://127.0.0.1:45682/bkt/repo')",
  );
  const cert = classifyResticFailure(
    1,
    [
      'Fatal: unable to open config file: Stat: Get "https://127.0.0.1:45682/bkt/?location=": x509: certificate signed by unknown authority',
      "Is there a repository at the following location?",
      loc,
    ],
    "open the repository",
    loc,
  );
  assert.equal(cert.code, "repo.error");
  assert.match(
    cert.message,
    /TLS certificate is not trusted \(x509: certificate signed by unknown authority; repository 's3:https/,
  );
  assert.match(cert.hint!, /SSL_CERT_FILE/);
});

Deno.test("an SFTP server that does not start a session is one line saying so, not restic's pipe error", () => {
  const loc = "sftp://root@127.0.0.1:1//tmp/nothing";
  const e = classifyResticFailure(
    1,
    [
      `Fatal: unable to open repository at ${loc}: unable to start the sftp session, error: read |0: file already closed`,
    ],
    "open the repository",
    loc,
  );
  assert.equal(e.code, "repo.error");
  assert.equal(
    e.message,
    "Cannot open the repository: the SFTP server did not start a session (ssh could not connect, log in or check the host key; repository 'sftp://root@127.0.0.1:1//tmp/nothing')",
  );
});
