import assert from "node:assert/strict";
import {
  isSecretName,
  redactArgv,
  REDACTED,
  redactEnv,
  redactLabels,
  redactLocation,
  redactOptions,
  redactText,
  redactUrl,
  scrubUrl,
} from "./secrets.ts";

Deno.test("secret names: the word list, case-insensitive, plus configured extras", () => {
  for (const n of ["DB_PASSWORD", "api_key", "JWT_SECRET", "GITHUB_TOKEN", "BasicAuth", "creds"]) {
    assert.equal(isSecretName(n, ["creds"]), true, n);
  }
  assert.equal(isSecretName("SMTP_CREDENTIALS"), true);
  for (const n of ["PATH", "APP_MODE", "TZ", "PGDATA"]) assert.equal(isSecretName(n), false, n);
});

Deno.test("redactText hides every credential shape and keeps the rest", () => {
  const cases: [string, string][] = [
    ["rest:https://bob:hunter2@host:8000/repo", `rest:https://bob:${REDACTED}@host:8000/repo`],
    ["mysqldump -uroot -pS3cret db", `mysqldump -uroot -p${REDACTED} db`],
    ["mysql --password=S3cret db", `mysql --password=${REDACTED} db`],
    ["mysql --password S3cret db", `mysql --password ${REDACTED} db`],
    ["PGPASSWORD=S3cret pg_dump app", `PGPASSWORD=${REDACTED} pg_dump app`],
    ["curl -u me:S3cret https://x", `curl -u me:${REDACTED} https://x`],
    ["Authorization: Bearer eyJabc.def", `Authorization: Bearer ${REDACTED}`],
    [
      "addr=nas,username=bob,password=S3cret,vers=3.0",
      `addr=nas,username=bob,password=${REDACTED},vers=3.0`,
    ],
    ['{"user":"bob","api_token":"S3cret"}', `{"user":"bob","api_token":"${REDACTED}"}`],
  ];
  for (const [input, want] of cases) assert.equal(redactText(input), want, input);
  for (
    const plain of [
      "/usr/local/bin/wp-maintenance on",
      "sftp:backup@nas:/srv/restic",
      "sftp://backup@nas:22//srv/restic",
      "docker run -p8080:80 -p 443:443 img",
      "tar -C /srv -c .",
    ]
  ) assert.equal(redactText(plain), plain, plain);
  // Idempotent: redacting twice changes nothing more.
  for (const [input] of cases) assert.equal(redactText(redactText(input)), redactText(input));
});

Deno.test("redactArgv hides the word after a secret-taking flag", () => {
  assert.deepEqual(redactArgv(["curl", "-u", "me:pw", "--token", "abc", "-o", "out.txt"]), [
    "curl",
    "-u",
    REDACTED,
    "--token",
    REDACTED,
    "-o",
    "out.txt",
  ]);
  assert.deepEqual(redactArgv(["mysqldump", "-pS3cret", "db"]), [
    "mysqldump",
    `-p${REDACTED}`,
    "db",
  ]);
});

Deno.test("redactLocation hides only the password of a URL location", () => {
  assert.equal(
    redactLocation("rest:https://u:p4ss@host/"),
    `rest:https://u:${REDACTED}@host/`,
  );
  for (const l of ["/plain/path", "sftp://user@host:22//p", "sftp:user@host:/p", "s3:s3.x/b"]) {
    assert.equal(redactLocation(l), l);
  }
});

Deno.test("labels: a secret name or a credential in the value hides the whole value; compose's own labels stay", () => {
  const labels = {
    "traefik.http.middlewares.auth.basicauth.users": "admin:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/",
    "com.example.backup-target": "https://bob:S3cret@nas/backups",
    "com.example.role": "web",
    "com.docker.compose.project.working_dir": "/srv/api-key-service",
  };
  assert.deepEqual(redactLabels(labels), {
    "traefik.http.middlewares.auth.basicauth.users": REDACTED,
    "com.example.backup-target": REDACTED,
    "com.example.role": "web",
    "com.docker.compose.project.working_dir": "/srv/api-key-service",
  });
});

Deno.test("driver options: secret-named options whole, secrets inside mount options only", () => {
  assert.deepEqual(
    redactOptions({
      type: "cifs",
      device: "//nas/share",
      o: "addr=nas,username=bob,password=S3cret,vers=3.0",
      "s3-secret": "abc",
    }),
    {
      type: "cifs",
      device: "//nas/share",
      o: `addr=nas,username=bob,password=${REDACTED},vers=3.0`,
      "s3-secret": REDACTED,
    },
  );
});

Deno.test("redactEnv: values of secret names only", () => {
  assert.deepEqual(redactEnv(["A=1", "DB_PASSWORD=hunter2", "NOEQUALS"]), [
    "A=1",
    `DB_PASSWORD=${REDACTED}`,
    "NOEQUALS",
  ]);
});

Deno.test("placeholders and variable references are not secrets", () => {
  for (
    const s of [
      "line 3 is not KEY=VALUE",
      "e.g. AWS_ACCESS_KEY_ID=...",
      "PGPASSWORD=$PW pg_dump app",
      "mysql --password=${DB_PASS} app",
    ]
  ) assert.equal(redactText(s), s, s);
});

Deno.test("a switch is not a secret: ssh's StrictHostKeyChecking=yes stays readable", () => {
  const cmd = "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/x nas";
  assert.equal(redactText(cmd), cmd);
  assert.equal(redactText("PASSWORD=hunter2hunter2"), `PASSWORD=${REDACTED}`);
});

Deno.test("redactUrl keeps scheme://host; scrubUrl hides a URL inside an error in both spellings", () => {
  assert.equal(redactUrl("https://hc-ping.example/uuid"), "https://hc-ping.example/**REDACTED**");
  assert.equal(redactUrl("http://u:p@h.example:8080/"), "http://h.example:8080/**REDACTED**");
  assert.equal(redactUrl("https://h.example"), "https://h.example");
  assert.equal(redactUrl("not a url"), "**REDACTED**");
  const url = "http://127.0.0.1:9/hook/s3cret?token=q";
  const message = `error sending request for url (${new URL(url).href}): connection refused`;
  assert.equal(
    scrubUrl(message, url),
    "error sending request for url (http://127.0.0.1:9/**REDACTED**): connection refused",
  );
  const odd = "HTTPS://H.example/Path s3cret"; // the parser lowercases and escapes
  assert.ok(!scrubUrl(`failed: ${new URL(odd).href}`, odd).includes("s3cret"));
});
