/**
 * Issue 16's "done when" for notifications, against real receivers on loopback: an HTTP server in
 * this test records what webhook, ntfy and healthchecks targets send; Debian's aiosmtpd
 * (`python3-aiosmtpd`; STARTTLS with a certificate from a throwaway CA, AUTH required) receives
 * the mail; a command target writes its stdin to a file. A failed backup of the fixture stack (its
 * pre hook fails, so nothing stops) reaches every failure target, and so does a run that cannot
 * open its repository; a good one pings healthchecks' base URL; a restore reports to all but the
 * heartbeat; a dead target fails no run and is counted; `admin notify test` reports each target.
 * One stack, one repository, one set of receivers, shared through steps.
 */
import { EXIT_CODES } from "../cli/exit_codes.ts";
import assert from "node:assert/strict";
import { createFixtureStack } from "./support/fixture.ts";
import { cleanupDocker, docker } from "./support/docker.ts";
import { stowage } from "./support/cli.ts";
import { testRepoEnv } from "./support/repo.ts";
import { freePort, SMTP_LOGIN, startSmtpServer } from "./support/smtp.ts";
import type { RunReport } from "../core/report.ts";
import type { NotifySummary } from "../core/notify/summary.ts";

interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** When it arrived (ms since the epoch). */
  at: number;
}

/** An HTTP receiver on 127.0.0.1 that answers 200 and keeps every request. */
function recorder() {
  const requests: Recorded[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    requests.push({
      method: req.method,
      path: new URL(req.url).pathname,
      headers: Object.fromEntries(req.headers),
      body: await req.text(),
      at: Date.now(),
    });
    // The first request to /flaky fails, as a receiver in a restart would.
    const path = new URL(req.url).pathname;
    if (path === "/flaky" && requests.filter((r) => r.path === path).length === 1) {
      return new Response("restarting", { status: 503 });
    }
    return new Response("OK");
  });
  return { requests, url: `http://127.0.0.1:${server.addr.port}`, server };
}

Deno.test({
  name:
    "notifications: a failed backup reaches webhook, ntfy, healthchecks /fail, mail and command; a good one pings; a dead target fails nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const http = recorder();
    const dir = await Deno.makeTempDir({ prefix: "stowage-notify-" });
    const smtp = await startSmtpServer(dir, { mode: "starttls", login: SMTP_LOGIN });
    const s = await createFixtureStack({ name: "notify" });
    const flag = `${dir}/ready`;
    const headersFile = `${dir}/headers`;
    await Deno.writeTextFile(headersFile, "X-Auth: hdr-s3cret\n", { mode: 0o600 });
    const commandOut = `${dir}/command.json`;
    const credentials = `${dir}/smtp.cred`;
    await Deno.writeTextFile(credentials, `${SMTP_LOGIN.join(":")}\n`, { mode: 0o600 });
    const dead = freePort();
    const env = await testRepoEnv(`units:
  ${s.project}:
    hooks:
      pre_backup: [{ run: "test -e ${flag} || { echo database busy >&2; exit 3; }" }]
notify:
  - { name: hook, webhook: "${http.url}/hook/wh-s3cret", headers_file: ${headersFile}, on: [failure, success] }
  - { name: phone, ntfy: "${http.url}/ntfy-s3cret" }
  - { name: hc, healthchecks: "${http.url}/ping/uuid-s3cret" }
  - name: mail
    email:
      server: "127.0.0.1:${smtp.port}"
      security: starttls
      ca_file: ${smtp.ca}
      credentials_file: ${credentials}
      from: stowage@test.example
      to: [ops@test.example]
  - { name: script, command: "cat > ${commandOut}", on: [failure] }
  - { name: dead, webhook: "http://127.0.0.1:${dead}/x-s3cret", on: [failure, success], timeout: 2, retries: 1 }
  - { name: flaky, webhook: "${http.url}/flaky", on: [failure] }
`);
    // What the targets under test received (the flaky one is checked through the run report).
    const paths = (from = 0) =>
      http.requests.slice(from).filter((r) => r.path !== "/flaky").map((r) =>
        `${r.method} ${r.path}`
      );
    const noSecret = (text: string) => {
      for (
        const secret of [
          "wh-s3cret",
          "ntfy-s3cret",
          "uuid-s3cret",
          "x-s3cret",
          "hdr-s3cret",
          "pa:ss",
        ]
      ) {
        assert.ok(!text.includes(secret), `'${secret}' leaked:\n${text}`);
      }
    };
    try {
      await s.up();
      const startedAt = async () =>
        (await docker("inspect", "-f", "{{.State.StartedAt}}", s.container("db"))).stdout;
      const before = await startedAt();

      await t.step(
        "a failed backup notifies every failure target after its start ping",
        async () => {
          const r = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
          assert.equal(r.code, 12, r.stderr);
          noSecret(r.stdout + r.stderr);
          const report = JSON.parse(r.stdout) as RunReport;
          assert.equal(report.units[0].outcome, "failed");
          assert.equal(await startedAt(), before, "the failing pre hook stopped nothing");

          assert.equal(paths()[0], "POST /ping/uuid-s3cret/start", "the start ping comes first");
          assert.deepEqual(paths().slice(1).sort(), [
            "POST /hook/wh-s3cret",
            "POST /ntfy-s3cret",
            "POST /ping/uuid-s3cret/fail",
          ]);
          const byPath = (p: string) => http.requests.find((x) => x.path === p)!;
          const hook = byPath("/hook/wh-s3cret");
          assert.equal(hook.headers["content-type"], "application/json");
          assert.equal(hook.headers["x-auth"], "hdr-s3cret", "the headers file's header");
          const summary = JSON.parse(hook.body) as NotifySummary;
          assert.equal(summary.event, "failure");
          assert.equal(summary.backup_id, report.backupId);
          assert.equal(summary.units[0].unit, s.project);
          assert.equal(summary.units[0].outcome, "failed");
          assert.match(summary.errors[0], /pre_backup hook failed.*database busy/);

          const ntfy = byPath("/ntfy-s3cret");
          assert.equal(ntfy.headers.priority, "5");
          assert.match(ntfy.headers.title, /stowage backup FAILED on \S+: 1 of 1 units failed/);
          assert.match(ntfy.headers.tags, /rotating_light/);
          assert.match(ntfy.body, new RegExp(`- ${s.project}: failed`));
          assert.match(byPath("/ping/uuid-s3cret/fail").body, /pre_backup hook failed/);

          const mails = await smtp.messages();
          assert.equal(mails.length, 1);
          assert.match(mails[0].headers, /^Subject: stowage backup FAILED on /m);
          assert.match(mails[0].headers, /^To: ops@test.example$/m);
          assert.match(mails[0].text, /database busy/);

          const fromCommand = JSON.parse(await Deno.readTextFile(commandOut)) as NotifySummary;
          assert.equal(fromCommand.event, "failure");

          // The dead target: tried twice, logged by name with its address hidden, counted.
          assert.match(
            r.stderr,
            /could not notify 'dead' \(webhook http:\/\/127\.0\.0\.1:\d+\/\*\*REDACTED\*\*\) of failure \(2 attempts\)/,
          );
          const sent = report.notifications ?? [];
          assert.deepEqual(
            sent.filter((n) => !n.ok).map((n) => `${n.target}:${n.event}:${n.attempts}`),
            ["dead:failure:2"],
          );
          assert.equal(sent.filter((n) => n.ok).length, 7, JSON.stringify(sent));
          // A receiver that fails once gets the message on the retry.
          const flaky = sent.find((n) => n.target === "flaky");
          assert.deepEqual([flaky?.ok, flaky?.attempts], [true, 2]);
        },
      );

      await t.step(
        "a run that ends before any unit (wrong repository password) is a failure too",
        async () => {
          const wrong = `${dir}/wrong.password`;
          await Deno.writeTextFile(wrong, "not-the-password", { mode: 0o600 });
          const config = `${dir}/wrong.yaml`;
          await Deno.writeTextFile(
            config,
            (await Deno.readTextFile(env.configPath)).replace(env.passwordFile, wrong),
            { mode: 0o600 },
          );
          const from = http.requests.length;
          const r = await stowage(["backup", "--unit", s.project], {
            env: { ...env.env, STOWAGE_CONFIG: config },
          });
          assert.equal(r.code, 8, r.stderr);
          noSecret(r.stdout + r.stderr);
          assert.deepEqual(paths(from).sort(), [
            "POST /hook/wh-s3cret",
            "POST /ntfy-s3cret",
            "POST /ping/uuid-s3cret/fail",
          ], "no /start: the run ended before it could stop anything");
          const summary = JSON.parse(
            http.requests.slice(from).find((x) => x.path === "/hook/wh-s3cret")!.body,
          ) as NotifySummary;
          assert.equal(summary.event, "failure");
          assert.deepEqual(summary.units, []);
          assert.match(summary.errors[0], /password/i);
          assert.equal((await smtp.messages()).length, 2);
        },
      );

      await t.step(
        "a good backup pings healthchecks' base URL; failure-only targets stay quiet",
        async () => {
          await Deno.writeTextFile(flag, "");
          const from = http.requests.length;
          const r = await stowage(["backup", "--unit", s.project], { env: env.env });
          assert.equal(r.code, 0, `the dead target must not fail the backup:\n${r.stderr}`);
          noSecret(r.stdout + r.stderr);
          assert.deepEqual(paths(from).sort(), [
            "POST /hook/wh-s3cret",
            "POST /ping/uuid-s3cret",
            "POST /ping/uuid-s3cret/start",
          ]);
          assert.equal(paths(from)[0], "POST /ping/uuid-s3cret/start");
          const ok = JSON.parse(
            http.requests.slice(from).find((x) => x.path === "/hook/wh-s3cret")!.body,
          );
          assert.equal(ok.event, "success");
          assert.ok(ok.units[0].downtime_seconds > 0, JSON.stringify(ok));
          // Never inside downtime: /start came before the first container stopped, the outcome
          // after the last one started again (the Engine's own times, on this host's clock).
          const times = (
            await docker(
              "inspect",
              "-f",
              "{{.State.FinishedAt}} {{.State.StartedAt}}",
              ...["db", "app", "web"].map((c) => s.container(c)),
            )
          ).stdout.trim().split("\n").map((l) => l.split(" ").map((t) => Date.parse(t)));
          const firstStop = Math.min(...times.map(([stopped]) => stopped));
          const lastStart = Math.max(...times.map(([, started]) => started));
          const at = (p: string) => http.requests.slice(from).find((x) => x.path === p)!.at;
          assert.ok(at("/ping/uuid-s3cret/start") < firstStop, "start ping before the first stop");
          assert.ok(at("/hook/wh-s3cret") > lastStart, "outcome after the last start");
          assert.ok(at("/ping/uuid-s3cret") > lastStart, "success ping after the last start");
          assert.equal((await smtp.messages()).length, 2, "no mail for a success");
          assert.match(r.stderr, /could not notify 'dead'/);
        },
      );

      await t.step("the dead target's failures are counted and doctor names it", async () => {
        const results = JSON.parse(await Deno.readTextFile(`${env.stateDir}/results.json`));
        assert.equal(results.notify.dead.failuresTotal, 3);
        assert.equal(results.notify.hc.sentTotal, 5);
        assert.equal(results.notify.hc.failuresTotal, 0);
        noSecret(JSON.stringify(results));
        const d = await stowage(["doctor", "--json"], { env: env.env });
        const check =
          (JSON.parse(d.stdout).checks as { name: string; status: string; detail: string }[])
            .find((c) => c.name === "notifications");
        assert.equal(check?.status, "warn", d.stdout);
        assert.match(check!.detail, /'dead': the last message \(success, .*\) failed/);
        noSecret(d.stdout);
      });

      await t.step("a restore reports its outcome, but never to the backup heartbeat", async () => {
        const from = http.requests.length;
        const out = `${dir}/restored`;
        const r = await stowage(
          ["restore", "--unit", s.project, "--latest", "--to-dir", out, "--yes"],
          { env: env.env },
        );
        assert.equal(r.code, 0, r.stderr);
        noSecret(r.stdout + r.stderr);
        assert.deepEqual(paths(from), ["POST /hook/wh-s3cret"]);
        const summary = JSON.parse(
          http.requests.slice(from).find((x) => x.path === "/hook/wh-s3cret")!.body,
        ) as NotifySummary;
        assert.equal(summary.operation, "restore");
        assert.equal(summary.event, "success");
        assert.equal(summary.units[0].outcome, "restored");
      });

      await t.step(
        "admin notify test reports each target; one failing target exits 25",
        async () => {
          const from = http.requests.length;
          const r = await stowage(["admin", "notify", "test", "--json"], { env: env.env });
          assert.equal(r.code, EXIT_CODES["notify.failed"], r.stderr);
          noSecret(r.stdout + r.stderr);
          const doc = JSON.parse(r.stdout) as {
            ok: boolean;
            targets: { target: string; ok: boolean }[];
          };
          assert.equal(doc.ok, false);
          assert.deepEqual(
            doc.targets.map((x) => `${x.target}:${x.ok}`),
            [
              "hook:true",
              "phone:true",
              "hc:true",
              "mail:true",
              "script:true",
              "dead:false",
              "flaky:true",
            ],
          );
          // healthchecks gets /log: recorded without changing the check's state.
          assert.ok(paths(from).includes("POST /ping/uuid-s3cret/log"), paths(from).join("\n"));
          assert.equal((await smtp.messages()).length, 3);

          const one = await stowage(["admin", "notify", "test", "--target", "hc"], {
            env: env.env,
          });
          assert.equal(one.code, 0, one.stderr);
          assert.match(one.stdout, /^ok +hc \(healthchecks\): delivered$/m);
          const typo = await stowage(["admin", "notify", "test", "--target", "hcc"], {
            env: env.env,
          });
          assert.equal(typo.code, 2);
          assert.match(typo.stderr, /Unknown notification target 'hcc'; did you mean 'hc'/);

          // A headers file others may read is refused before anything is sent.
          const loose = `${dir}/loose-headers`;
          await Deno.writeTextFile(loose, "Authorization: Bearer t\n", { mode: 0o644 });
          await Deno.chmod(loose, 0o644);
          const config = `${dir}/loose.yaml`;
          await Deno.writeTextFile(
            config,
            (await Deno.readTextFile(env.configPath)) +
              `  - { name: loose, webhook: "${http.url}/loose", headers_file: ${loose} }\n`,
            { mode: 0o600 },
          );
          const before = http.requests.length;
          const l = await stowage(["admin", "notify", "test", "--target", "loose"], {
            env: { ...env.env, STOWAGE_CONFIG: config },
          });
          assert.equal(l.code, EXIT_CODES["notify.failed"], l.stderr);
          assert.match(l.stdout, /FAIL {2}loose \(webhook\): .*has mode 0644: others may read it/);
          assert.equal(http.requests.length, before);
        },
      );

      await t.step("config show hides the notification URLs' paths", async () => {
        const r = await stowage(["admin", "config", "show"], { env: env.env });
        assert.equal(r.code, 0, r.stderr);
        noSecret(r.stdout);
        assert.match(r.stdout, /http:\/\/127\.0\.0\.1:\d+\/\*\*REDACTED\*\*/);
      });
    } finally {
      await s.down();
      await cleanupDocker();
      await smtp.stop();
      await http.server.shutdown();
      await env.cleanup();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await Deno.remove(s.dir, { recursive: true }).catch(() => {});
    }
  },
});
