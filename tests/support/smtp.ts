/**
 * A real SMTP server for tests: aiosmtpd's own server (Debian's python3-aiosmtpd, importable by
 * /usr/bin/python3; scripts/install-deps.sh --tests) delivering into a Maildir, with a
 * certificate from a throwaway CA. Modes: `starttls` (STARTTLS required before MAIL), `smtps` (TLS
 * from the first byte), `plain` (no TLS offered). With `login`, AUTH is required.
 */
import { sh } from "./docker.ts";

/** A login for `login:` (the password has a colon: only the first one splits USER:PASSWORD). */
export const SMTP_LOGIN: [string, string] = ["bob", "pa:ss-s3cret"];

const SMTPD = `import ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

mode, port, cert, key, maildir = sys.argv[1:6]
login = sys.argv[6:8]

def authenticate(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and [data.login.decode(), data.password.decode()] == login
    return AuthResult(success=ok, handled=False)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
kw = {}
if mode == "starttls":
    kw = dict(tls_context=ctx, require_starttls=True)
elif mode == "smtps":
    kw = dict(ssl_context=ctx)
if login:
    kw.update(authenticator=authenticate, auth_required=True)
server = Controller(Mailbox(maildir), hostname="127.0.0.1", port=int(port), **kw)
server.start()
print("ready", flush=True)
sys.stdin.read()
server.stop()
`;

/** A port nothing listens on (bound, then closed): connections to it are refused at once. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A CA (`ca.pem`) and a certificate for 127.0.0.1 it signed (`cert.pem`, `key.pem`) in `dir`. */
export async function makeTestCertificates(dir: string): Promise<{ ca: string }> {
  const ca = `${dir}/ca.pem`;
  const ossl = (...args: string[]) => sh("openssl", args);
  await ossl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${dir}/ca.key`,
    "-out",
    ca,
    "-days",
    "2",
    "-subj",
    "/CN=stowage test CA",
  );
  await ossl(
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${dir}/key.pem`,
    "-out",
    `${dir}/leaf.csr`,
    "-subj",
    "/CN=127.0.0.1",
  );
  await Deno.writeTextFile(
    `${dir}/ext`,
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
  );
  await ossl(
    "x509",
    "-req",
    "-in",
    `${dir}/leaf.csr`,
    "-CA",
    ca,
    "-CAkey",
    `${dir}/ca.key`,
    "-CAcreateserial",
    "-out",
    `${dir}/cert.pem`,
    "-days",
    "2",
    "-extfile",
    `${dir}/ext`,
  );
  return { ca };
}

export interface SmtpServer {
  port: number;
  /** The CA that signed the server's certificate (for `email.ca_file`). */
  ca: string;
  /** Each received message: its headers and its decoded (base64) text body. */
  messages(): Promise<{ headers: string; text: string }[]>;
  stop(): Promise<void>;
}

/** Starts the server in `dir` (certificates, script, Maildir) and waits until it says it listens. */
export async function startSmtpServer(
  dir: string,
  opts: { mode: "starttls" | "smtps" | "plain"; login?: [string, string] },
): Promise<SmtpServer> {
  const { ca } = await makeTestCertificates(dir);
  const port = freePort();
  const maildir = `${dir}/mail`;
  await Deno.writeTextFile(`${dir}/smtpd.py`, SMTPD);
  const child = new Deno.Command("/usr/bin/python3", {
    args: [
      `${dir}/smtpd.py`,
      opts.mode,
      String(port),
      `${dir}/cert.pem`,
      `${dir}/key.pem`,
      maildir,
      ...(opts.login ?? []),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!said.includes("ready\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`the SMTP server did not start: ${await stderr}`);
    said += value;
  }
  return {
    port,
    ca,
    async messages() {
      const out = [];
      const names: string[] = [];
      try {
        for await (const e of Deno.readDir(`${maildir}/new`)) names.push(e.name);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      for (const name of names) {
        const raw = await Deno.readTextFile(`${maildir}/new/${name}`);
        const [headers, ...body] = raw.split(/\r?\n\r?\n/);
        const text = new TextDecoder().decode(
          Uint8Array.from(atob(body.join("").replace(/\s+/g, "")), (c) => c.charCodeAt(0)),
        );
        out.push({ headers, text });
      }
      return out;
    },
    async stop() {
      await child.stdin.close(); // the server stops at the end of its input
      await child.status;
      lines.releaseLock();
      await stderr;
    },
  };
}
