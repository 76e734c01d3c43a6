/**
 * A small SMTP client for notification mail (RFC 5321): EHLO, STARTTLS (or TLS from the first byte),
 * AUTH PLAIN or LOGIN only over TLS, MAIL/RCPT/DATA with dot-stuffing, QUIT. The body is base64
 * UTF-8 text, so no server needs 8BITMIME. One deadline covers the whole conversation.
 */
import type { MailDelivery } from "../../core/notify/route.ts";
import { encodeBase64 } from "../../core/base64.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Reply {
  code: number;
  lines: string[];
}

class SmtpConnection {
  #buf = "";
  constructor(public conn: Deno.Conn) {}

  async #line(): Promise<string> {
    while (true) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl).replace(/\r$/, "");
        this.#buf = this.#buf.slice(nl + 1);
        return line;
      }
      if (this.#buf.length > 64 * 1024) throw new Error("the server sent an overlong line");
      const chunk = new Uint8Array(4096);
      const n = await this.conn.read(chunk);
      if (n === null) throw new Error("the server closed the connection");
      this.#buf += dec.decode(chunk.subarray(0, n));
    }
  }

  async reply(): Promise<Reply> {
    const lines: string[] = [];
    while (true) {
      const line = await this.#line();
      const m = /^(\d{3})([ -])(.*)$/.exec(line);
      if (!m) throw new Error(`the server sent no SMTP reply: ${line.slice(0, 80)}`);
      lines.push(m[3]);
      if (m[2] === " ") return { code: Number(m[1]), lines };
    }
  }

  async write(s: string) {
    const bytes = enc.encode(s);
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Sends a command and expects one of `ok`; `shown` replaces the command in errors. */
  async command(line: string, ok: number[], shown = line): Promise<Reply> {
    await this.write(`${line}\r\n`);
    const r = await this.reply();
    if (!ok.includes(r.code)) {
      throw new Error(
        `the server answered ${shown.split(" ")[0]} with ${r.code} ${r.lines.join(" ")}`,
      );
    }
    return r;
  }

  /** Nothing may be buffered when TLS starts: the server waits for the handshake. */
  get idle() {
    return this.#buf === "";
  }
}

function encodedWord(s: string): string {
  const one = s.replace(/[\r\n]+/g, " ");
  return /^[\x20-\x7e]*$/.test(one) ? one : `=?UTF-8?B?${encodeBase64(enc.encode(one))}?=`;
}

/** The message: headers, then the text as base64 in 76-character lines. */
export function formatMessage(d: MailDelivery, helo: string, now = new Date()): string {
  const body = encodeBase64(enc.encode(d.text.replace(/\r?\n/g, "\r\n"))).replace(
    /.{76}/g,
    "$&\r\n",
  );
  return [
    `From: ${d.from}`,
    `To: ${d.to.join(", ")}`,
    `Subject: ${encodedWord(d.subject)}`,
    `Date: ${now.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${crypto.randomUUID()}@${helo}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "Auto-Submitted: auto-generated",
    "",
    body.replace(/\r\n$/, ""),
  ].join("\r\n");
}

export async function sendMail(
  d: MailDelivery,
  opts: { timeoutMs: number; helo: string },
): Promise<void> {
  const caCerts = d.caFile ? [await Deno.readTextFile(d.caFile)] : undefined;
  let conn: Deno.Conn | undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn?.close();
    } catch { /* already closed */ }
  }, opts.timeoutMs);
  try {
    conn = d.security === "tls"
      ? await Deno.connectTls({ hostname: d.host, port: d.port, caCerts })
      : await Deno.connect({ hostname: d.host, port: d.port });
    let s = new SmtpConnection(conn);
    const greeting = await s.reply();
    if (greeting.code !== 220) throw new Error(`the server greeted with ${greeting.code}`);
    const helo = /^[A-Za-z0-9.-]+$/.test(opts.helo) ? opts.helo : "localhost";
    let ehlo = await s.command(`EHLO ${helo}`, [250]);
    if (d.security === "starttls") {
      if (!ehlo.lines.some((l) => /^STARTTLS\b/i.test(l))) {
        throw new Error("the server does not offer STARTTLS (security: starttls)");
      }
      await s.command("STARTTLS", [220]);
      if (!s.idle) throw new Error("the server sent data before the TLS handshake");
      conn = await Deno.startTls(conn as Deno.TcpConn, { hostname: d.host, caCerts });
      s = new SmtpConnection(conn);
      ehlo = await s.command(`EHLO ${helo}`, [250]);
    }
    if (d.credentials) {
      if (d.security === "none") {
        throw new Error("refusing to send credentials without TLS (security: none)");
      }
      const auth = ehlo.lines.find((l) => /^AUTH[ =]/i.test(l))?.toUpperCase().split(/[ =]/) ?? [];
      const { user, password } = d.credentials;
      if (auth.includes("PLAIN")) {
        await s.command(
          `AUTH PLAIN ${encodeBase64(enc.encode(`\0${user}\0${password}`))}`,
          [235],
          "AUTH",
        );
      } else if (auth.includes("LOGIN")) {
        await s.command("AUTH LOGIN", [334]);
        await s.command(encodeBase64(enc.encode(user)), [334], "AUTH");
        await s.command(encodeBase64(enc.encode(password)), [235], "AUTH");
      } else {
        throw new Error("the server offers no AUTH PLAIN or LOGIN, and credentials_file is set");
      }
    }
    await s.command(`MAIL FROM:<${d.from}>`, [250]);
    for (const to of d.to) await s.command(`RCPT TO:<${to}>`, [250, 251]);
    await s.command("DATA", [354]);
    const message = formatMessage(d, helo).replace(/^\./gm, "..");
    await s.command(`${message}\r\n.`, [250], "DATA");
    await s.command("QUIT", [221]).catch(() => {});
  } catch (e) {
    if (timedOut) throw new Error(`no answer within ${opts.timeoutMs / 1000} s`);
    throw e instanceof Error ? e : new Error(String(e));
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch { /* closed by the timer or the server */ }
  }
}
