/**
 * The SMTP client against aiosmtpd (a real server, tests/support/smtp.ts) in each security mode:
 * implicit TLS delivers; a server without STARTTLS is refused under `starttls` (no silent
 * downgrade); credentials never go over a plain connection; a wrong password is the server's
 * answer, not a delivery.
 */
import assert from "node:assert/strict";
import { SMTP_LOGIN, startSmtpServer } from "../../tests/support/smtp.ts";
import type { MailDelivery } from "../../core/notify/route.ts";
import { sendMail } from "./smtp.ts";

const mail = (port: number, extra: Partial<MailDelivery>): MailDelivery => ({
  kind: "mail",
  host: "127.0.0.1",
  port,
  security: "starttls",
  from: "stowage@test.example",
  to: ["ops@test.example", "dev@test.example"],
  subject: "stowage backup FAILED on h: ✗",
  text: "line one\n.a line starting with a dot\n",
  ...extra,
});
const opts = { timeoutMs: 10_000, helo: "test-host" };

Deno.test("smtp: tls from the first byte delivers; the subject is encoded, the body intact", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-smtps-" });
  const server = await startSmtpServer(dir, { mode: "smtps" });
  try {
    await sendMail(mail(server.port, { security: "tls", caFile: server.ca }), opts);
    const [m] = await server.messages();
    assert.match(m.headers, /^Subject: =\?UTF-8\?B\?/m);
    assert.match(m.headers, /^To: ops@test.example, dev@test.example$/m);
    assert.equal(m.text, "line one\r\n.a line starting with a dot\r\n");
    // Without the CA the certificate is not trusted: refused, nothing delivered.
    await assert.rejects(sendMail(mail(server.port, { security: "tls" }), opts));
    assert.equal((await server.messages()).length, 1);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("smtp: no STARTTLS on offer is refused, credentials never go in plain text", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-smtp-plain-" });
  const server = await startSmtpServer(dir, { mode: "plain" });
  try {
    await assert.rejects(
      sendMail(mail(server.port, {}), opts),
      /the server does not offer STARTTLS \(security: starttls\)/,
    );
    await assert.rejects(
      sendMail(
        mail(server.port, { security: "none", credentials: { user: "u", password: "p" } }),
        opts,
      ),
      /refusing to send credentials without TLS/,
    );
    assert.equal((await server.messages()).length, 0);
    await sendMail(mail(server.port, { security: "none" }), opts);
    assert.equal((await server.messages()).length, 1);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("smtp: a wrong password is refused by the server and delivers nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-smtp-auth-" });
  const server = await startSmtpServer(dir, { mode: "starttls", login: SMTP_LOGIN });
  try {
    const [user] = SMTP_LOGIN;
    await assert.rejects(
      sendMail(
        mail(server.port, { caFile: server.ca, credentials: { user, password: "x" } }),
        opts,
      ),
      /the server answered AUTH with 535/,
    );
    assert.equal((await server.messages()).length, 0);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
