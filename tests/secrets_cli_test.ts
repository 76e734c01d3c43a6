/**
 * A repository location with a password in it (`rest:http://user:password@host/`) is printed by
 * no command: config new, setup, doctor, repo init/status and config show, text and --json, run
 * as a user runs them (tests/support/cli.ts) against a real REST server that needs the password.
 */
import assert from "node:assert/strict";
import { type CliResult, isolatedEnv, stowage } from "./support/cli.ts";
import { startRestServer } from "./support/rest_server.ts";
import { EXIT_CODES } from "../cli/exit_codes.ts";
import { REDACTED } from "../core/secrets.ts";

const out = (r: CliResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

Deno.test("a location's password never reaches the output of config new, setup, doctor, repo init/status or config show", async () => {
  const e = await isolatedEnv();
  await using server = await startRestServer(e.dir);
  try {
    const location = server.location("cli");
    const shown = location.replace(`:${server.password}@`, `:${REDACTED}@`);
    const env = { ...e.env, STOWAGE_CONFIG: e.configPath };
    const noLeak = (what: string, r: CliResult) => {
      assert.ok(
        !r.stdout.includes(server.password) && !r.stderr.includes(server.password),
        `${what} printed the location's password:\n${out(r)}`,
      );
    };

    const made = await stowage([
      "admin",
      "config",
      "new",
      "--repository",
      location,
      "--password-file",
      `${e.dir}/repo.password`,
    ], { env });
    assert.equal(made.code, 0, out(made));
    noLeak("config new", made);
    assert.ok(made.stdout.includes(shown), out(made));
    // The config itself keeps the real location: restic needs it.
    assert.ok((await Deno.readTextFile(e.configPath)).includes(location));

    const json = await stowage([
      "admin",
      "config",
      "new",
      "--json",
      "--config",
      `${e.dir}/other.yaml`,
      "--repository",
      location,
    ], { env });
    assert.equal(json.code, 0, out(json));
    noLeak("config new --json", json);

    for (const args of [["setup"], ["setup", "--json"]]) {
      const r = await stowage(args, { env });
      assert.equal(r.code, 0, out(r));
      noLeak(args.join(" "), r);
    }
    const setupText = await stowage(["setup"], { env });
    assert.match(setupText.stdout, new RegExp(`Repository: +${escape(shown)} \\(already there\\)`));

    for (
      const args of [
        ["doctor"],
        ["doctor", "--json"],
        ["admin", "repo", "init"],
        ["admin", "repo", "status"],
        ["admin", "repo", "status", "--json"],
        ["admin", "config", "show"],
        ["admin", "config", "show", "--json"],
      ]
    ) {
      const r = await stowage(args, { env });
      noLeak(args.join(" "), r);
      assert.ok(
        r.stdout.includes(shown),
        `${args.join(" ")} does not name the location:\n${out(r)}`,
      );
    }

    // A location stowage refuses is named in the error, without its password.
    const bad = await stowage([
      "admin",
      "config",
      "new",
      "--config",
      `${e.dir}/bad.yaml`,
      "--repository",
      `rst:http://stowage:${server.password}@127.0.0.1/`,
    ], { env });
    assert.equal(bad.code, EXIT_CODES.usage, out(bad));
    noLeak("config new with a bad location", bad);
  } finally {
    await server.stop();
    await Deno.remove(e.dir, { recursive: true }).catch(() => {});
  }
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
