import assert from "node:assert/strict";
import { configSchema, type NotifyTarget } from "../config/schema.ts";
import { runReport, unitReport } from "../service/test_helpers.ts";
import {
  backupSummary,
  buildDelivery,
  describeTarget,
  errorSummary,
  eventsOf,
  type NotifyEvent,
  type NotifyOperation,
  outcomeEvent,
  parseCredentials,
  parseHeaders,
  pingUrl,
  restoreSummary,
  startSummary,
  summaryText,
  summaryTitle,
  targetsFor,
} from "./mod.ts";
import { notifyCheck } from "./doctor.ts";

const targets = (raw: unknown[]): NotifyTarget[] => configSchema.parse({ notify: raw }).notify;

Deno.test("outcome: a failed unit or bundle is a failure, a unit's warning a warning, else success", () => {
  const ok = runReport("2025-01-01T02:00:00Z", [["wp", "ok"], ["db", "skipped"]]);
  assert.equal(outcomeEvent(ok), "success");
  assert.equal(outcomeEvent(runReport("2025-01-01T02:00:00Z", [["wp", "failed"]])), "failure");
  assert.equal(outcomeEvent({ ...ok, ok: false }), "failure");
  const warned = {
    ...ok,
    units: [unitReport("wp", "ok", "2025-01-01T02:00:00Z", { warnings: ["slow to start"] })],
  };
  assert.equal(outcomeEvent(warned), "warning");
});

Deno.test("routing: `on` decides; the default is failure and warning, healthchecks hears every event", () => {
  const t = targets([
    { name: "ops", webhook: "https://h.example/x" },
    { name: "all", ntfy: "https://n.example/t", on: ["success", "failure", "start"] },
    { name: "hc", healthchecks: "https://hc.example/u" },
  ]);
  assert.deepEqual(eventsOf(t[0]), ["failure", "warning"]);
  const names = (event: NotifyEvent, only?: string, operation: NotifyOperation = "backup") =>
    targetsFor(t, { event, operation }, only).map((x) => x.name);
  assert.deepEqual(names("start"), ["all", "hc"]);
  assert.deepEqual(names("success"), ["all", "hc"]);
  assert.deepEqual(names("warning"), ["ops", "hc"]);
  assert.deepEqual(names("failure"), ["ops", "all", "hc"]);
  assert.deepEqual(names("test"), ["ops", "all", "hc"]);
  assert.deepEqual(names("test", "hc"), ["hc"]);
  // A restore is no backup heartbeat.
  assert.deepEqual(names("start", undefined, "restore"), ["all"]);
  assert.deepEqual(names("failure", undefined, "restore"), ["ops", "all"]);
  assert.equal(describeTarget(t[0]), `'ops' (webhook https://h.example/**REDACTED**)`);
});

Deno.test("summary: per unit outcome, downtime, bytes and errors, with credentials in errors hidden", () => {
  const r = runReport("2025-01-01T02:00:00Z", [["wp", "ok"], ["db", "failed"]]);
  r.units[1].error = "pg_dump: PGPASSWORD=hunter2 refused";
  const s = backupSummary(r);
  assert.equal(s.event, "failure");
  assert.equal(s.ok, false);
  assert.equal(s.backup_id, r.backupId);
  assert.equal(s.units[0].downtime_seconds, 3);
  assert.equal(s.units[0].bytes_added, 42);
  assert.deepEqual(s.errors, ["db: pg_dump: PGPASSWORD=**REDACTED** refused"]);
  assert.ok(!JSON.stringify(s).includes("hunter2"));
  assert.equal(summaryTitle(s), "stowage backup FAILED on test-host: 1 of 2 units failed");
  const text = summaryText(s);
  assert.match(text, /^- wp: ok, down 3 s, added 42 B$/m);
  assert.match(
    text,
    /^- db: failed, down 3 s, added 0 B: pg_dump: PGPASSWORD=\*\*REDACTED\*\* refused$/m,
  );
  const e = errorSummary({
    operation: "backup",
    host: "h",
    startedAt: new Date(0),
    at: new Date(2000),
    error: "Cannot open repository\nsecond line",
  });
  assert.equal(summaryTitle(e), "stowage backup FAILED on h: Cannot open repository second line");
  assert.equal(e.duration_seconds, 2);
});

Deno.test("deliveries: webhook JSON, ntfy priority and tags, healthchecks paths, mail, command stdin", () => {
  const [wh, nt, hc, mail, cmd] = targets([
    { name: "wh", webhook: "https://h.example/hook" },
    { name: "nt", ntfy: "https://ntfy.example/topic" },
    { name: "hc", healthchecks: "https://hc.example/ping/uuid/?rid=1" },
    {
      name: "m",
      email: { server: "[::1]:2525", security: "none", from: "a@b.example", to: ["c@d.example"] },
    },
    { name: "c", command: "cat > /tmp/x" },
  ]);
  const failed = backupSummary(runReport("2025-01-01T02:00:00Z", [["wp", "failed"]]));
  const start = startSummary({ operation: "backup", host: "h", at: new Date(0), units: ["wp"] });

  const w = buildDelivery(wh, failed, { headers: { authorization: "Bearer t" } });
  assert.equal(w.kind, "http");
  if (w.kind !== "http") return;
  assert.equal(w.headers["content-type"], "application/json");
  assert.equal(w.headers.authorization, "Bearer t");
  assert.deepEqual(JSON.parse(w.body), failed);

  const n = buildDelivery(nt, failed);
  if (n.kind !== "http") throw new Error(n.kind);
  assert.equal(n.headers.priority, "5");
  assert.match(n.headers.tags, /rotating_light/);
  assert.match(n.headers.title, /FAILED/);
  assert.equal(
    buildDelivery(nt, start).kind === "http" &&
      (buildDelivery(nt, start) as typeof n).headers.priority,
    "2",
  );

  assert.equal(pingUrl(hc.healthchecks!, "start"), "https://hc.example/ping/uuid/start?rid=1");
  assert.equal(pingUrl(hc.healthchecks!, "failure"), "https://hc.example/ping/uuid/fail?rid=1");
  assert.equal(pingUrl(hc.healthchecks!, "success"), hc.healthchecks);
  assert.equal(pingUrl(hc.healthchecks!, "test"), "https://hc.example/ping/uuid/log?rid=1");

  const m = buildDelivery(mail, failed, { credentials: { user: "u", password: "p" } });
  if (m.kind !== "mail") throw new Error(m.kind);
  assert.equal(m.host, "::1");
  assert.equal(m.port, 2525);
  assert.match(m.subject, /FAILED/);
  assert.deepEqual(m.credentials, { user: "u", password: "p" });

  const c = buildDelivery(cmd, failed);
  if (c.kind !== "command") throw new Error(c.kind);
  assert.deepEqual(c.argv, ["sh", "-c", "cat > /tmp/x"]);
  assert.deepEqual(JSON.parse(c.stdin), failed);
  assert.equal(c.env.STOWAGE_EVENT, "failure");
});

Deno.test("headers and credentials files: parsed, and a bad line is named without its value", () => {
  assert.deepEqual(parseHeaders("# comment\nAuthorization: Bearer abc\n\nX-Tag:  v \n"), {
    authorization: "Bearer abc",
    "x-tag": "v",
  });
  assert.throws(
    () => parseHeaders("Authorization Bearer s3cret"),
    (e: Error) => e.message === "line 1 is not a 'Name: value' header",
  );
  assert.deepEqual(parseCredentials("bob:pa:ss\n"), { user: "bob", password: "pa:ss" });
  assert.throws(() => parseCredentials("bob\n"), /USER:PASSWORD/);
});

Deno.test("doctor: a target whose last message failed is a warning naming it and its error", () => {
  const t = targets([
    { name: "ops", webhook: "https://h.example/x" },
    { name: "hc", healthchecks: "https://hc.example/u" },
  ]);
  const at = "2025-01-01T00:00:00Z";
  const last = { target: "ops", kind: "webhook", event: "failure", ok: false, attempts: 3, at };
  assert.equal(notifyCheck([], undefined), undefined);
  assert.equal(notifyCheck(t, undefined)?.status, "ok");
  const c = notifyCheck(t, {
    ops: { target: "ops", sentTotal: 0, failuresTotal: 2, last: { ...last, error: "refused" } },
  })!;
  assert.equal(c.status, "warn");
  assert.match(c.detail, /'ops': the last message \(failure, .*\) failed: refused \(2 failure/);
  assert.match(c.hint!, /admin notify test --target ops/);
});

Deno.test("restore summary: its one unit restored or failed, a warning when it warned", () => {
  const base = {
    unit: "wp",
    backupId: "2025-01-01T02-00-00Z",
    ok: true,
    startedAt: "2025-01-01T03:00:00.000Z",
    finishedAt: "2025-01-01T03:00:04.000Z",
    durationMs: 4000,
    warnings: [],
  };
  const ok = restoreSummary(base, "h");
  assert.equal(ok.event, "success");
  assert.equal(ok.operation, "restore");
  assert.deepEqual(ok.units.map((u) => u.outcome), ["restored"]);
  assert.equal(restoreSummary({ ...base, warnings: ["slow"] }, "h").event, "warning");
  const failed = restoreSummary(
    { ...base, ok: false, error: { message: "mount failed: password=hunter2" } },
    "h",
  );
  assert.equal(failed.event, "failure");
  assert.deepEqual(failed.errors, ["wp: mount failed: password=**REDACTED**"]);
  assert.equal(summaryTitle(failed), "stowage restore FAILED on h: 1 of 1 units failed");
});
