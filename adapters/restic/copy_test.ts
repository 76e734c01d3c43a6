import assert from "node:assert/strict";
import { configSchema } from "../../core/config/schema.ts";
import { isStowageError } from "../../core/errors.ts";
import { resolvePaths } from "../../core/paths.ts";
import type { LoadedConfig } from "../../core/config/loaded.ts";
import { copySettings, openCopy } from "./open.ts";
import { Restic } from "./restic.ts";

function loaded(config: unknown): LoadedConfig {
  return {
    config: configSchema.parse(config),
    paths: resolvePaths({ uid: 0, env: (n) => (n === "STOWAGE_STATE_DIR" ? "/s" : undefined) }),
  };
}

const twoSftp = loaded({
  repository: { location: "sftp:a@one:/r", password_file: "/p", ssh_key: "/k1" },
  copies: [
    {
      name: "offsite",
      repository: { location: "sftp:b@two:/r", password_file: "/cp", ssh_key: "/k2" },
    },
    { name: "s3", repository: { location: "s3:host/b", password_file: "/s3p", env: { A: "2" } } },
  ],
});

Deno.test("copy settings: a copy gets its own password, ssh command and known_hosts default", () => {
  const s = copySettings(twoSftp, "offsite", () => "/root");
  assert.equal(s.location, "sftp:b@two:/r");
  assert.equal(s.passwordFile, "/cp");
  assert.equal(s.isDefault, false);
  const cmd = s.extraArgs.join(" ");
  assert.match(cmd, /-i \/k2 /);
  assert.match(cmd, / -l b two -s sftp/);
  assert.match(cmd, /UserKnownHostsFile=\/s\/known_hosts \/root\/.ssh\/known_hosts/);
  assert.throws(
    () => copySettings(twoSftp, "nowhere"),
    (e) =>
      isStowageError(e, "config.invalid") && /no such copy/.test(e.message) &&
      /offsite, s3/.test(e.hint ?? ""),
  );
});

Deno.test("restic copy refuses sides that need different ssh commands or env values, naming no value", async () => {
  const primary = new Restic({
    location: "sftp:a@one:/r",
    passwordFile: "/p",
    env: { A: "1-secret" },
    extraArgs: ["-o", "sftp.command=ssh one"],
  });
  await assert.rejects(
    primary.copy({ location: "sftp:b@two:/r", passwordFile: "/cp", extraArgs: ["-o", "x=y"] }),
    (e) => isStowageError(e, "config.invalid") && /different ssh commands/.test(e.message),
  );
  await assert.rejects(
    primary.initCopy({ location: "s3:host/b", passwordFile: "/cp", env: { A: "2-secret" } }),
    (e) =>
      isStowageError(e, "config.invalid") && /both set A to different values/.test(e.message) &&
      !e.message.includes("secret"),
  );
});

Deno.test("openCopy: a copy's missing password file is an error naming the copy's key", async () => {
  await assert.rejects(
    openCopy(twoSftp, "s3", { env: () => undefined }),
    (e) =>
      isStowageError(e, "repo.password") &&
      /copies 's3' repository.password_file/.test(e.hint ?? ""),
  );
});
