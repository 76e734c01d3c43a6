import assert from "node:assert/strict";
import {
  asked,
  type BackendId,
  BACKENDS,
  buildBackend,
  checkAnswer,
  envFileText,
} from "./backends.ts";
import { checkRepositoryLocation } from "./location.ts";
import { parseEnvFile } from "../../adapters/restic/open.ts";

const question = (id: BackendId, key: string) =>
  BACKENDS.find((b) => b.id === id)!.questions.find((q) => q.key === key)!;

Deno.test("the menu offers local, SFTP, Tailscale, REST, S3, B2, Azure, GCS and rclone, one line each", () => {
  assert.deepEqual(BACKENDS.map((b) => b.id), [
    "local",
    "sftp",
    "tailscale",
    "rest",
    "s3",
    "b2",
    "azure",
    "gcs",
    "rclone",
  ]);
  for (const b of BACKENDS) assert.ok(!b.title.includes("\n") && b.title.length <= 72, b.title);
});

Deno.test("each backend's answers become a location restic accepts, credentials only in env", () => {
  const cases: [BackendId, Record<string, string>, string, Record<string, string>][] = [
    ["local", { path: "/srv/restic" }, "/srv/restic", {}],
    ["sftp", { host: "backup@nas", path: "/srv/restic" }, "sftp:backup@nas:/srv/restic", {}],
    ["sftp", { host: "nas", path: "/srv/r", port: "2222" }, "sftp://nas:2222//srv/r", {}],
    ["tailscale", { host: "nas", path: "/srv/r" }, "tailscale:nas:/srv/r", {}],
    ["rest", { url: "http://127.0.0.1:8000/" }, "rest:http://127.0.0.1:8000/", {}],
    [
      "s3",
      { endpoint: "s3.amazonaws.com", bucket: "b", path: "/host1/", keyId: "AK", secret: "S/k+" },
      "s3:s3.amazonaws.com/b/host1",
      { AWS_ACCESS_KEY_ID: "AK", AWS_SECRET_ACCESS_KEY: "S/k+" },
    ],
    [
      "b2",
      { bucket: "b", path: "", accountId: "id", accountKey: "k" },
      "b2:b:",
      { B2_ACCOUNT_ID: "id", B2_ACCOUNT_KEY: "k" },
    ],
    [
      "azure",
      { account: "acc", accountKey: "k==", container: "c", path: "x" },
      "azure:c:/x",
      { AZURE_ACCOUNT_NAME: "acc", AZURE_ACCOUNT_KEY: "k==" },
    ],
    [
      "gcs",
      { project: "p", credentials: "/etc/stowage/gcs.json", bucket: "b", path: "" },
      "gs:b:/",
      { GOOGLE_PROJECT_ID: "p", GOOGLE_APPLICATION_CREDENTIALS: "/etc/stowage/gcs.json" },
    ],
    ["rclone", { remote: "box", path: "restic" }, "rclone:box:restic", {}],
  ];
  for (const [id, answers, location, env] of cases) {
    const c = buildBackend(id, answers);
    assert.equal(c.location, location, id);
    assert.deepEqual(c.env, env, id);
    checkRepositoryLocation(c.location);
    for (const v of Object.values(env)) {
      if (!v.startsWith("/")) assert.ok(!c.location.includes(v), `${id}: secret in location`);
    }
  }
});

Deno.test("REST credentials go into the URL (restic 0.14 reads them only there), encoded", () => {
  const c = buildBackend("rest", { url: "https://h:8000/r/", user: "me", password: "p@ss:w/rd" });
  assert.equal(c.location, "rest:https://me:p%40ss%3Aw%2Frd@h:8000/r/");
  assert.equal(asked(question("rest", "password"), { user: "" }), false, "no user: no password");
  assert.equal(asked(question("rest", "password"), { user: "me" }), true);
});

Deno.test("relative paths are refused; required answers must be given; secrets are one line", () => {
  assert.notEqual(checkAnswer(question("local", "path"), "backups/restic"), true);
  assert.equal(checkAnswer(question("local", "path"), "/backups/restic"), true);
  assert.notEqual(checkAnswer(question("sftp", "path"), "srv/restic"), true);
  assert.notEqual(checkAnswer(question("gcs", "credentials"), "key.json"), true);
  assert.notEqual(checkAnswer(question("s3", "bucket"), ""), true);
  assert.equal(checkAnswer(question("s3", "region"), ""), true);
  assert.notEqual(checkAnswer(question("s3", "secret"), "a\nB2_ACCOUNT_ID=x"), true);
  assert.notEqual(
    checkAnswer(question("rest", "url"), "http://u:p@h/"),
    true,
    "no user:pw@ in URL",
  );
  assert.notEqual(checkAnswer(question("sftp", "port"), "99999"), true);
});

Deno.test("the env file reads back as written", () => {
  const vars = {
    AWS_ACCESS_KEY_ID: "AK",
    AWS_SECRET_ACCESS_KEY: "'se=cr#et\"",
    B2_ACCOUNT_KEY: " x ",
  };
  assert.deepEqual(parseEnvFile(envFileText(vars), "x"), vars);
});
