/** Helpers shared by the backup end-to-end tests (tests/backup*_test.ts). */

import { createFixtureStack, type FixtureStack } from "./fixture.ts";
import { cleanupDocker, docker } from "./docker.ts";
import { spawnStowage } from "./cli.ts";
import { type TestRepoEnv, testRepoEnv } from "./repo.ts";

import { parseSnapshot } from "../../core/tags.ts";
import type { ResticSnapshot } from "../../core/ports.ts";

export async function running(s: FixtureStack): Promise<Record<string, boolean>> {
  const out: Record<string, boolean> = {};
  for (const svc of ["db", "app", "web"]) {
    out[svc] =
      (await docker("inspect", "-f", "{{.State.Running}}", s.container(svc))).stdout.trim() ===
        "true";
  }
  return out;
}

export async function snapshotsOf(env: TestRepoEnv, unit: string) {
  const list = JSON.parse(
    await env.restic("snapshots", "--json", "--tag", `unit=${unit}`),
  ) as ResticSnapshot[];
  return list.map(parseSnapshot);
}

export { waitFor } from "./service.ts";
import { waitFor } from "./service.ts";

/** Starts `stowage backup` of the stack and SIGKILLs it as soon as `cond` holds. */
export async function killBackupWhen(
  s: FixtureStack,
  env: TestRepoEnv,
  what: string,
  cond: () => Promise<boolean>,
) {
  const child = spawnStowage(["backup", "--unit", s.project], { env: env.env });
  await waitFor(what, cond);
  child.kill("SIGKILL");
  await child.status;
  await child.stdout.cancel();
  await child.stderr.cancel();
}

export async function withStack(
  name: string,
  fn: (s: FixtureStack, env: TestRepoEnv) => Promise<void>,
  extraYaml = "",
) {
  const s = await createFixtureStack({ name });
  const env = await testRepoEnv(extraYaml);
  try {
    await s.up();
    await fn(s, env);
  } finally {
    await s.down();
    await cleanupDocker();
    await env.cleanup();
    await Deno.remove(s.dir, { recursive: true }).catch(() => {});
  }
}
