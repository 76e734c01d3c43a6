import assert from "node:assert/strict";
import { isSecretName, redactContainer, redactEnv, redactUnit } from "./redact.ts";
import { discoverUnits } from "../discovery.ts";
import type { EngineState } from "../engine_types.ts";
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

// A CIFS volume cannot be created with the local driver here (the mount would need a server),
// so this covers volume driver options as pure data: Engine inspect JSON -> discovery -> the
// unit the recipe stores. Labels are covered end to end in tests/backup_test.ts.
Deno.test("the recipe's unit: volume driver options and labels redacted, the original untouched", () => {
  const state = {
    containers: [{
      Id: "c1",
      Name: "/app-web-1",
      Image: "sha256:1",
      State: { Status: "running", Running: true },
      Config: {
        Image: "img",
        Env: [],
        Labels: {
          "com.docker.compose.project": "app",
          "com.docker.compose.service": "web",
          "traefik.http.middlewares.a.basicauth.users": "admin:$apr1$abc$def",
        },
      },
      HostConfig: {},
      Mounts: [{ Type: "volume", Name: "app_share", Destination: "/share", RW: true }],
      NetworkSettings: { Networks: {} },
    }],
    volumes: [{
      Name: "app_share",
      Driver: "local",
      Mountpoint: "/var/lib/docker/volumes/app_share/_data",
      Labels: { "com.docker.compose.project": "app", "com.docker.compose.volume": "share" },
      Options: {
        type: "cifs",
        device: "//nas/share",
        o: "addr=nas,username=bob,password=Cifs-S3cret,vers=3.0",
      },
    }],
    networks: [],
    images: [],
    files: {},
  } as unknown as EngineState;
  const [unit] = discoverUnits(state);
  assert.equal(unit.volumes[0].options.o, "addr=nas,username=bob,password=Cifs-S3cret,vers=3.0");
  const stored = redactUnit(unit);
  const text = JSON.stringify(stored);
  assert.ok(!text.includes("Cifs-S3cret"), text);
  assert.ok(!text.includes("$apr1$"), text);
  assert.equal(stored.volumes[0].options.o, `addr=nas,username=bob,password=${REDACTED},vers=3.0`);
  assert.equal(stored.volumes[0].options.device, "//nas/share");
  assert.equal(stored.containers[0].labels["com.docker.compose.service"], "web");
  assert.equal(
    stored.containers[0].labels["traefik.http.middlewares.a.basicauth.users"],
    REDACTED,
  );
  // The unit the backup run works with keeps its values.
  assert.equal(unit.volumes[0].options.o, "addr=nas,username=bob,password=Cifs-S3cret,vers=3.0");
});
