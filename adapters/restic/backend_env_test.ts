/**
 * What reaches restic for the cloud backends no real server runs for here (S3, B2, Azure, GCS;
 * see docs/repository.md for what was tried), and for rclone: restic's documented variable names
 * in its environment, nothing secret in its argv. restic_binary is a recording stand-in (a shell
 * script, labelled as such) that writes its argv and environment and exits 1; the values are then
 * exactly what the real restic would have been given.
 */
import assert from "node:assert/strict";
import { configSchema } from "../../core/config/schema.ts";
import { resolvePaths } from "../../core/paths.ts";
import { DenoProcessRunner } from "../process.ts";
import { openRepository } from "./open.ts";
import type { Restic } from "./restic.ts";

interface Case {
  backend: string;
  location: string;
  /** Lines of repository.env_file: restic 0.14's documented names. */
  envFile: Record<string, string>;
  rclone?: boolean;
}

const CASES: Case[] = [
  {
    backend: "S3",
    location: "s3:http://127.0.0.1:9000/bucket/stowage",
    envFile: {
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "s3-secret-" + crypto.randomUUID(),
      AWS_DEFAULT_REGION: "eu-central-1",
    },
  },
  {
    backend: "B2",
    location: "b2:bucket:stowage",
    envFile: { B2_ACCOUNT_ID: "b2-id", B2_ACCOUNT_KEY: "b2-secret-" + crypto.randomUUID() },
  },
  {
    backend: "Azure",
    location: "azure:container:/stowage",
    envFile: {
      AZURE_ACCOUNT_NAME: "account",
      AZURE_ACCOUNT_KEY: "azure-secret-" + crypto.randomUUID(),
    },
  },
  {
    backend: "GCS",
    location: "gs:bucket:/stowage",
    envFile: {
      GOOGLE_PROJECT_ID: "project-123",
      GOOGLE_APPLICATION_CREDENTIALS: "/etc/stowage/gcs-service-account.json",
    },
  },
  { backend: "rclone", location: "rclone:remote:stowage", envFile: {}, rclone: true },
];

for (const c of CASES) {
  Deno.test(
    `${c.backend}: restic gets ${
      c.rclone ? "RCLONE_CONFIG" : Object.keys(c.envFile).join(", ")
    } in its environment and no secret in argv`,
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "stowage-backend-env-" });
      try {
        const fake = `${dir}/restic-recording-stand-in`;
        await Deno.writeTextFile(
          fake,
          `#!/bin/sh\nprintf '%s\\n' "$@" > '${dir}/argv'\nenv > '${dir}/env'\nexit 1\n`,
          { mode: 0o755 },
        );
        await Deno.writeTextFile(`${dir}/pw`, "pw\n", { mode: 0o600 });
        const envFile = Object.entries(c.envFile).map(([k, v]) => `${k}=${v}\n`).join("");
        await Deno.writeTextFile(`${dir}/repo.env`, envFile, { mode: 0o600 });
        const rcloneConf = `${dir}/rclone.conf`;
        await Deno.writeTextFile(rcloneConf, "[remote]\ntype = local\n", { mode: 0o600 });
        const config = configSchema.parse({
          repository: {
            location: c.location,
            password_file: `${dir}/pw`,
            env_file: `${dir}/repo.env`,
            restic_binary: fake,
            ...(c.rclone ? { rclone_config: rcloneConf } : {}),
          },
        });
        const repo = await openRepository(
          { config, paths: resolvePaths({ uid: 0, env: () => undefined }) },
          { runner: new DenoProcessRunner(), prepare: false, env: () => undefined },
        ) as Restic;
        await assert.rejects(repo.snapshots());
        const env = Object.fromEntries(
          (await Deno.readTextFile(`${dir}/env`)).split("\n").filter((l) => l.includes("="))
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        );
        const argv = await Deno.readTextFile(`${dir}/argv`);
        for (const [k, v] of Object.entries(c.envFile)) {
          assert.equal(env[k], v, `${k} not in restic's environment`);
          assert.ok(!argv.includes(v), `${k}'s value in argv:\n${argv}`);
        }
        assert.equal(env.RESTIC_REPOSITORY, c.location);
        assert.equal(env.RESTIC_PASSWORD_FILE, `${dir}/pw`);
        assert.ok(!argv.includes(c.location), `location in argv:\n${argv}`);
        if (c.rclone) assert.equal(env.RCLONE_CONFIG, rcloneConf);
        else assert.equal(env.RCLONE_CONFIG, undefined);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}
