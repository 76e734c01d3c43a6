/**
 * The config wizard on a real pseudo-terminal: a backend menu, then only what the chosen backend
 * needs; secrets read without echo, never on the screen, kept in 0600 files; relative paths
 * refused; the repository, password file, scope and retention each stated once.
 */
import assert from "node:assert/strict";
import { isolatedEnv } from "./support/cli.ts";
import { KEY, onTerminal, type TerminalRun } from "./support/terminal.ts";
import { startRestServer } from "./support/rest_server.ts";

const show = (r: TerminalRun) =>
  `exit ${r.code}${r.timedOut ? " (TIMED OUT: killed)" : ""}\n${r.output}`;

const MENU = "Where should backups go?";
/** The menu's order: local, SFTP, Tailscale, REST, S3, B2, Azure, GCS, rclone. */
const pick = (index: number) => KEY.down.repeat(index) + KEY.enter;
const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;
const count = (text: string, what: RegExp) => text.match(new RegExp(what, "g"))?.length ?? 0;

Deno.test("config new, S3: only S3's questions, the secret key never on screen, credentials in a 0600 env file", async () => {
  const e = await isolatedEnv();
  const secret = "s3-secret-" + crypto.randomUUID();
  try {
    const r = await onTerminal(["admin", "config", "new", "--config", e.configPath], {
      env: e.env,
      answers: [
        [MENU, pick(4)],
        ["Endpoint", KEY.enter], // the default, s3.amazonaws.com
        ["Bucket", `stowage-bucket${KEY.enter}`],
        ["Folder in the bucket", `host1${KEY.enter}`],
        ["Region", KEY.enter],
        ["Access key ID", `AKIDWIZARD${KEY.enter}`],
        ["Secret access key", `${secret}${KEY.enter}`],
        ["Password file", KEY.enter],
        ["Backup scope", KEY.enter],
      ],
    });
    assert.equal(r.timedOut, false, show(r));
    assert.equal(r.answered, 9, show(r));
    assert.equal(r.code, 0, show(r));
    // Every backend is on the menu, one line each.
    for (const b of ["Local folder", "SFTP", "Tailscale peer", "REST server", "S3-compatible"]) {
      assert.match(r.output, new RegExp(b), show(r));
    }
    for (const b of ["Backblaze B2", "Azure Blob", "Google Cloud Storage", "rclone"]) {
      assert.match(r.output, new RegExp(b), show(r));
    }
    assert.ok(!r.output.includes(secret), `the secret reached the screen:\n${show(r)}`);
    assert.doesNotMatch(
      r.output,
      /SSH private key|Server URL|Storage account|Project ID/,
      "other backends' questions",
    );

    const envFile = `${e.dir}/repository.env`;
    assert.equal(await mode(envFile), 0o600);
    const envText = await Deno.readTextFile(envFile);
    assert.match(envText, new RegExp(`^AWS_SECRET_ACCESS_KEY='${secret}'$`, "m"));
    assert.match(envText, /^AWS_ACCESS_KEY_ID='AKIDWIZARD'$/m);
    assert.equal(await mode(e.configPath), 0o600);
    const config = await Deno.readTextFile(e.configPath);
    assert.match(config, /location: s3:s3\.amazonaws\.com\/stowage-bucket\/host1/);
    assert.match(config, new RegExp(`env_file: ${envFile}`));
    assert.ok(!config.includes(secret), "the secret is only in the env file");
    assert.match(r.output, new RegExp(`Credentials: +${envFile} \\(mode 0600\\)`));
    assert.match(r.output, /Retention: +keeps the latest 3, 7 daily, 4 weekly and 6 monthly/);
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
});

Deno.test("setup, local folder: a relative path is refused, then the repository is created and each line said once", async () => {
  const e = await isolatedEnv();
  const repo = `${e.dir}/local-repo`;
  try {
    const relative = "backups/restic";
    const r = await onTerminal(["setup", "--config", e.configPath], {
      env: e.env,
      answers: [
        [MENU, KEY.enter], // local is first
        // Replace the suggested folder with a relative one.
        ["Repository folder", "\x7f".repeat(200) + relative + KEY.enter],
        ["relative paths are refused", "\x7f".repeat(relative.length) + repo + KEY.enter],
        ["Password file", KEY.enter],
        ["Backup scope", KEY.enter],
      ],
      timeoutMs: 90_000,
    });
    assert.equal(r.timedOut, false, show(r));
    assert.equal(r.answered, 5, show(r));
    assert.equal(r.code, 0, show(r));
    // A sign of life while dependencies are checked, before the first question.
    assert.match(r.output.slice(0, r.typedAt[0]), /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] checking dependencies/);
    await Deno.stat(`${repo}/config`); // a restic repository
    assert.match(await Deno.readTextFile(e.configPath), new RegExp(`location: ${repo}`));
    const summary = r.output.slice(r.output.indexOf("stowage is set up"));
    assert.equal(count(r.output, /Repository: /), 1, show(r));
    assert.equal(count(r.output, /Password file: \//), 1, show(r));
    assert.match(summary, /Retention: +keeps the latest 3, 7 daily/);
    assert.match(summary, /stowage admin service write-units +nightly backups under systemd/);
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
});

Deno.test("setup, REST with a user: the password is read without echo, the repository is created on the real server", async () => {
  const e = await isolatedEnv();
  await using server = await startRestServer(e.dir);
  try {
    const r = await onTerminal(["setup", "--config", e.configPath], {
      env: e.env,
      answers: [
        [MENU, pick(3)],
        ["Server URL", `http://127.0.0.1:${server.port}/wizard/${KEY.enter}`],
        ["User", `${server.user}${KEY.enter}`],
        ["Password", `${server.password}${KEY.enter}`],
        ["Password file", KEY.enter],
        ["Backup scope", KEY.enter],
      ],
      timeoutMs: 90_000,
    });
    assert.equal(r.timedOut, false, show(r));
    assert.equal(r.code, 0, show(r));
    assert.ok(!r.output.includes(server.password), `the password reached the screen:\n${show(r)}`);
    assert.match(r.output, /Repository: +rest:http:\/\/stowage:\*\*REDACTED\*\*@127\.0\.0\.1/);
    await Deno.stat(`${server.dir}/wizard/config`); // created on the server
    // restic 0.14 reads REST credentials only from the URL: in the config, which is 0600.
    assert.equal(await mode(e.configPath), 0o600);
    assert.doesNotMatch(
      r.output,
      /SSH private key|Bucket|Access key ID/,
      "other backends' questions",
    );
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
});
