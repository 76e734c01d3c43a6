/** A private stowage environment with a local restic repository, for CLI-level tests. */
import { isolatedEnv } from "./cli.ts";
import { sh } from "./docker.ts";
import { createTestRepository } from "./restic_repo.ts";

export interface TestRepoEnv {
  dir: string;
  configPath: string;
  stateDir: string;
  repo: string;
  passwordFile: string;
  env: Record<string, string>;
  /** Runs plain restic against the test repository. */
  restic(...args: string[]): Promise<string>;
  /** Plain `restic backup ARGS` (`--stdin` reads `stdin`); the new snapshot's id. */
  resticBackup(args: string[], stdin?: string): Promise<string>;
  cleanup(): Promise<void>;
}

/**
 * `extraYaml` is appended under the config's `backup:` key (indent it: `"  key: value\n"`), or at
 * the top level after it. The repository exists already, with a key restic opens cheaply
 * (tests/support/restic_repo.ts explains why); `{ repository: "absent" }` leaves it to the test or
 * to stowage to create.
 */
export async function testRepoEnv(
  extraYaml = "",
  opts: { repository?: "created" | "absent" } = {},
): Promise<TestRepoEnv> {
  const base = await isolatedEnv();
  const repo = `${base.dir}/repo`;
  const passwordFile = `${base.dir}/repo.password`;
  const password = "test-password-" + crypto.randomUUID();
  await Deno.writeTextFile(passwordFile, password, { mode: 0o600 });
  if ((opts.repository ?? "created") === "created") await createTestRepository(repo, password);
  const config =
    `repository:\n  location: ${repo}\n  password_file: ${passwordFile}\nbackup:\n  stop_timeout: 5\n${extraYaml}`;
  await Deno.writeTextFile(base.configPath, config, { mode: 0o600 });
  const env = { ...base.env, STOWAGE_CONFIG: base.configPath };
  return {
    ...base,
    repo,
    passwordFile,
    env,
    async restic(...args: string[]) {
      return (await sh("restic", ["-r", repo, "--password-file", passwordFile, ...args])).stdout;
    },
    async resticBackup(args: string[], stdin?: string) {
      const out = await sh(
        "restic",
        ["-r", repo, "--password-file", passwordFile, "--quiet", "--json", "backup", ...args],
        { stdin },
      );
      const summary = out.stdout.trim().split("\n").map((l) => JSON.parse(l))
        .find((m) => m.message_type === "summary");
      if (!summary) throw new Error(`restic backup gave no summary: ${out.stdout}`);
      return summary.snapshot_id as string;
    },
    async cleanup() {
      await Deno.remove(base.dir, { recursive: true }).catch(() => {});
    },
  };
}
