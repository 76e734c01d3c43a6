/**
 * A real S3-compatible server on 127.0.0.1 for tests of `s3:` locations: npm's `s3rver` 3.7.1
 * under Node, over TLS with a certificate made for this server alone.
 *
 * Why TLS: restic 0.14's S3 client (minio-go) signs uploads over plain HTTP with the streaming
 * `aws-chunked` encoding, which s3rver 3.7.1 stores without decoding (the next read fails with
 * "Unmarshal: invalid character"). Over HTTPS minio-go sends plain signed bodies, and every
 * restic command works. restic trusts the test certificate through `SSL_CERT_FILE` in its
 * environment (Go reads it on Linux), the way a user points restic at a self-signed MinIO.
 *
 * What s3rver checks: the access key id must be one it knows (`S3RVER`; any other is
 * `InvalidAccessKeyId`, HTTP 403); it does not verify V4 signatures, so a wrong secret key with
 * the right id goes through. Tests of refused credentials therefore use a wrong key id.
 *
 * s3rver is installed by `scripts/install-deps.sh --tests` into /opt/stowage-test/s3rver
 * (`STOWAGE_TEST_S3RVER` overrides); a missing one or a missing `node` fails the test.
 */
import { readAnnouncement } from "./announce.ts";

export interface TestS3Server {
  port: number;
  /** Folder the server keeps its buckets in. */
  dir: string;
  bucket: string;
  /** The certificate restic must trust (PEM). */
  certFile: string;
  /** What restic needs in its environment: the keys and SSL_CERT_FILE. */
  env: Record<string, string>;
  /** `s3:https://127.0.0.1:PORT/<bucket>/<name>`. */
  location(name: string): string;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export const S3RVER_HOME = Deno.env.get("STOWAGE_TEST_S3RVER") ?? "/opt/stowage-test/s3rver";

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

export async function startS3Server(dir: string): Promise<TestS3Server> {
  const bin = `${S3RVER_HOME}/node_modules/s3rver/bin/s3rver.js`;
  try {
    await Deno.stat(bin);
  } catch {
    throw new Error(
      `s3rver is not installed at ${S3RVER_HOME} (run: bash scripts/install-deps.sh --tests)`,
    );
  }
  const certFile = `${dir}/s3-cert.pem`;
  const keyFile = `${dir}/s3-key.pem`;
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "2",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  ]);
  const data = `${dir}/s3-data`;
  await Deno.mkdir(data, { recursive: true });
  const bucket = "stowage-test";

  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("node", {
      args: [
        bin,
        "--directory",
        data,
        "--address",
        "127.0.0.1",
        "--port",
        "0",
        "--silent",
        "--key",
        keyFile,
        "--cert",
        certFile,
        "--no-vhost-buckets",
        "--configure-bucket",
        bucket,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    throw new Error(`cannot start node for s3rver (apt-get install nodejs): ${e}`);
  }
  // s3rver announces the port it bound: "S3rver listening on 127.0.0.1:PORT".
  const server = await readAnnouncement(
    child,
    child.stdout,
    /S3rver listening on 127\.0\.0\.1:(\d+)/,
    child.stderr,
  );
  if (!server.match) {
    await server.stop();
    throw new Error(`s3rver did not start:\n${[...server.seen, server.other()].join("\n")}`);
  }
  const p = Number(server.match[1]);
  const stop = server.stop;
  return {
    port: p,
    dir: data,
    bucket,
    certFile,
    env: {
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      SSL_CERT_FILE: certFile,
    },
    location: (name) => `s3:https://127.0.0.1:${p}/${bucket}/${name}`,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
