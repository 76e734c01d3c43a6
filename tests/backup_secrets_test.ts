/**
 * Secrets a container carries in its labels never reach the repository: `stowage backup` of a
 * real compose stack, then the recipe read back with plain restic. The values come from the
 * environment of `docker-compose up`, so the compose file (stored verbatim) holds only `${...}`
 * and any copy in a snapshot can only come from redaction failing.
 *
 * Volume driver options with a password (CIFS `o=...,password=...`) are covered by a pure test
 * over inspect data (core/backup/redact_test.ts): the local driver cannot create such a volume
 * here without a CIFS server.
 */
import assert from "node:assert/strict";
import {
  ensureTestImage,
  removeComposeProject,
  sh,
  TEST_LABEL,
  testName,
} from "./support/docker.ts";
import { stowage } from "./support/cli.ts";
import { testRepoEnv } from "./support/repo.ts";
import { parseSnapshot } from "../core/tags.ts";
import type { ResticSnapshot } from "../core/ports.ts";
import { REDACTED } from "../core/secrets.ts";

Deno.test("a basic-auth hash and a URL password in container labels are redacted in the recipe", async () => {
  const image = await ensureTestImage();
  const project = testName("labels");
  const dir = await Deno.makeTempDir({ prefix: `stowage-${project}-` });
  const env = await testRepoEnv();
  const hash = `admin:$apr1$${crypto.randomUUID().slice(0, 8)}$Hash-${crypto.randomUUID()}`;
  const urlPassword = `url-pw-${crypto.randomUUID()}`;
  const [label, value] = TEST_LABEL.split("=");
  await Deno.writeTextFile(
    `${dir}/docker-compose.yml`,
    `version: "2.4"
services:
  web:
    image: ${image}
    init: true
    command: ["sleep", "1000000"]
    volumes:
      - data:/data
    labels:
      ${label}: "${value}"
      traefik.http.middlewares.web-auth.basicauth.users: "\${BASIC_AUTH}"
      com.example.backup-target: "\${BACKUP_TARGET}"
      com.example.role: "frontend"
volumes:
  data:
    labels:
      ${label}: "${value}"
`,
  );
  const compose = (...args: string[]) =>
    sh("docker-compose", ["-p", project, ...args], {
      cwd: dir,
      env: { BASIC_AUTH: hash, BACKUP_TARGET: `https://backup:${urlPassword}@nas.example/x` },
    });
  try {
    await compose("up", "-d");
    const container = `${project}_web_1`;
    const live = JSON.parse((await sh("docker", ["inspect", container])).stdout)[0];
    assert.equal(live.Config.Labels["traefik.http.middlewares.web-auth.basicauth.users"], hash);

    const r = await stowage(["backup", "--unit", project, "--json"], { env: env.env });
    assert.equal(r.code, 0, r.stderr);
    const snaps = (JSON.parse(
      await env.restic("snapshots", "--json", "--tag", `unit=${project}`),
    ) as ResticSnapshot[]).map(parseSnapshot);
    const recipe = snaps.find((s) => s.type === "recipe");
    assert.ok(recipe, "no recipe snapshot");
    const text = await env.restic("dump", recipe.id, "/recipe.json");
    for (const secret of [hash, "$apr1$", urlPassword]) {
      assert.ok(!text.includes(secret), `'${secret}' reached the repository`);
      assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), "printed");
    }
    const doc = JSON.parse(text);
    const unitLabels = doc.unit.containers[0].labels;
    assert.equal(unitLabels["traefik.http.middlewares.web-auth.basicauth.users"], REDACTED);
    assert.equal(unitLabels["com.example.backup-target"], REDACTED);
    assert.equal(unitLabels["com.example.role"], "frontend", "plain labels are kept");
    assert.equal(unitLabels["com.docker.compose.project"], project);
    const inspectLabels = doc.containers[0].Config.Labels;
    assert.equal(inspectLabels["traefik.http.middlewares.web-auth.basicauth.users"], REDACTED);
    assert.equal(inspectLabels["com.example.backup-target"], REDACTED);
  } finally {
    await removeComposeProject(project);
    await env.cleanup();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
