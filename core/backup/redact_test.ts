import assert from "node:assert/strict";
import { isSecretName, redactContainer, redactEnv } from "./redact.ts";
import type { EngineContainer } from "../engine_types.ts";
import { REDACTED } from "../recipe.ts";

Deno.test("secret names match by substring, case-insensitive, plus configured extras", () => {
  for (
    const n of [
      "POSTGRES_PASSWORD",
      "db_pass",
      "API_URL",
      "app_secret_key",
      "GITHUB_TOKEN",
      "X_AUTH",
      "ssh_key",
    ]
  ) {
    assert(isSecretName(n), n);
  }
  for (const n of ["PATH", "APP_MODE", "TZ", "PGDATA"]) assert(!isSecretName(n), n);
  assert(isSecretName("SMTP_CREDENTIALS", ["credential"]));
});

Deno.test("env values with secret names are replaced, names kept", () => {
  assert.deepEqual(redactEnv(["A=1", "DB_PASSWORD=hunter2", "NOEQUALS"]), [
    "A=1",
    `DB_PASSWORD=${REDACTED}`,
    "NOEQUALS",
  ]);
});

Deno.test("a secret value copied into the command line is scrubbed too, original untouched", () => {
  const c = {
    Id: "x",
    Name: "/x",
    Image: "sha256:1",
    State: { Status: "running", Running: true },
    Config: {
      Image: "img",
      Env: ["API_TOKEN=s3cr3t-value", "MODE=prod"],
      Labels: { "my.auth": "xyz", keep: "1" },
      Cmd: ["run", "--token=s3cr3t-value"],
    },
    HostConfig: {},
    Mounts: [],
    NetworkSettings: {},
  } as unknown as EngineContainer;
  const r = redactContainer(c);
  assert(!JSON.stringify(r).includes("s3cr3t-value"));
  assert.deepEqual(r.Config.Labels, { "my.auth": REDACTED, keep: "1" });
  assert.deepEqual(r.Config.Env, [`API_TOKEN=${REDACTED}`, "MODE=prod"]);
  assert.deepEqual(c.Config.Cmd, ["run", "--token=s3cr3t-value"]);
});
