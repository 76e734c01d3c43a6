import assert from "node:assert/strict";
import { MASK, maskArgv, maskConfig, maskText } from "./mask.ts";
import { configSchema } from "./schema.ts";

Deno.test("maskConfig: repository.env values are masked, names kept", () => {
  const config = configSchema.parse({
    repository: {
      location: "s3:s3.amazonaws.com/bucket",
      env: { AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "s3cr3t-value" },
      password_file: "/etc/stowage/repository.password",
    },
  });
  const masked = maskConfig(config);
  assert.deepEqual(masked.repository.env, { AWS_ACCESS_KEY_ID: MASK, AWS_SECRET_ACCESS_KEY: MASK });
  assert.equal(masked.repository.password_file, "/etc/stowage/repository.password");
  assert.equal(masked.repository.location, "s3:s3.amazonaws.com/bucket");
  assert.equal(config.repository.env.AWS_SECRET_ACCESS_KEY, "s3cr3t-value", "input not changed");
  assert.ok(!JSON.stringify(masked).includes("s3cr3t-value"));
  assert.ok(!JSON.stringify(masked).includes("AKIAEXAMPLE"));
});

Deno.test("maskText: credentials inside strings", () => {
  assert.equal(
    maskText("rest:https://bob:hunter2@host:8000/repo"),
    `rest:https://bob:${MASK}@host:8000/repo`,
  );
  assert.equal(maskText("curl --password=abc https://x"), `curl --password=${MASK} https://x`);
  assert.equal(maskText("Authorization: Bearer eyJabc.def"), `Authorization: Bearer ${MASK}`);
  assert.equal(maskText("API_TOKEN=xyz ./notify.sh"), `API_TOKEN=${MASK} ./notify.sh`);
  assert.equal(maskText("/usr/local/bin/wp-maintenance on"), "/usr/local/bin/wp-maintenance on");
  assert.equal(maskText("sftp:backup@nas:/srv/restic"), "sftp:backup@nas:/srv/restic");
});

Deno.test("maskArgv: the word after -u or a secret-named flag", () => {
  assert.deepEqual(maskArgv(["curl", "-u", "me:pw", "--token", "abc", "-o", "out.txt"]), [
    "curl",
    "-u",
    MASK,
    "--token",
    MASK,
    "-o",
    "out.txt",
  ]);
});

Deno.test("maskConfig: hook argv lists are masked too", () => {
  const config = configSchema.parse({
    hooks: {
      post_backup: [{ run: ["curl", "-H", "Authorization: Bearer T0KEN", "https://u:p@x/"] }],
    },
  });
  const text = JSON.stringify(maskConfig(config));
  assert.ok(!text.includes("T0KEN"));
  assert.ok(!text.includes("u:p@"));
});

Deno.test("maskConfig: a hook command line with mysqldump -pSecret or PGPASSWORD= is masked", () => {
  const config = configSchema.parse({
    hooks: {
      pre_backup: [
        { run: "mysqldump -uroot -pMy-S3cret app > /var/backups/app.sql" },
        { run: ["sh", "-c", "PGPASSWORD=Pg-S3cret pg_dump app"] },
      ],
    },
  });
  const text = JSON.stringify(maskConfig(config));
  assert.ok(!text.includes("My-S3cret"), text);
  assert.ok(!text.includes("Pg-S3cret"), text);
  assert.ok(text.includes(`mysqldump -uroot -p${MASK} app`), text);
});

Deno.test("maskConfig: notification URLs show only scheme://host; commands keep their redaction", () => {
  const config = configSchema.parse({
    notify: [
      { name: "ops", webhook: "https://hooks.example/services/T0/B0/s3cretpath?token=q1" },
      { name: "n", ntfy: "https://user:pw@ntfy.example/topic-s3cret" },
      { name: "hc", healthchecks: "https://hc-ping.example/uuid-s3cret" },
      { name: "cmd", command: "API_TOKEN=tok-s3cret /usr/local/bin/alert" },
    ],
  });
  const masked = maskConfig(config);
  assert.equal(masked.notify[0].webhook, `https://hooks.example/${MASK}`);
  assert.equal(masked.notify[1].ntfy, `https://ntfy.example/${MASK}`);
  assert.equal(masked.notify[2].healthchecks, `https://hc-ping.example/${MASK}`);
  assert.equal(masked.notify[3].command, `API_TOKEN=${MASK} /usr/local/bin/alert`);
  const all = JSON.stringify(masked);
  for (const s of ["s3cret", "q1", "pw@"]) assert.ok(!all.includes(s), s);
});
