/** Helpers shared by the backup end-to-end tests (tests/backup*_test.ts). */

import { resticShim } from "./restic_shim.ts";
import { type FixtureStack, withFixtureStack } from "./fixture.ts";
import { docker } from "./docker.ts";
import { spawnStowage } from "./cli.ts";
import { type TestRepoEnv, testRepoEnv } from "./repo.ts";

import { parseSnapshot } from "../../core/tags.ts";
import type { ResticSnapshot } from "../../core/ports.ts";
import type { SnapshotInfo } from "../../core/model.ts";

/**
 * Whether one service's container runs: one `docker inspect`, for conditions polled while a kill
 * must land inside a short window (under load, inspecting all three services took a while).
 */
export async function isRunning(s: FixtureStack, svc: string): Promise<boolean> {
  return (await docker("inspect", "-f", "{{.State.Running}}", s.container(svc))).stdout.trim() ===
    "true";
}

export async function running(s: FixtureStack): Promise<Record<string, boolean>> {
  const out: Record<string, boolean> = {};
  for (const svc of ["db", "app", "web"]) out[svc] = await isRunning(s, svc);
  return out;
}

export async function snapshotsOf(env: TestRepoEnv, unit: string) {
  const list = JSON.parse(
    await env.restic("snapshots", "--json", "--tag", `unit=${unit}`),
  ) as ResticSnapshot[];
  return list.map(parseSnapshot);
}

/**
 * The snapshot that holds a volume (by name) or bind folder (by path), and the folder's path in it:
 * a format-3 `type=data` snapshot holding several, or an older per-item or archive snapshot.
 */
export function folderIn(
  snaps: SnapshotInfo[],
  name: string,
  backupId?: string,
): { snap: SnapshotInfo; path: string } | undefined {
  for (const snap of snaps) {
    if (backupId !== undefined && snap.backupId !== backupId) continue;
    const item = snap.items?.find((d) => d.name === name);
    if (snap.type === "data" && item) return { snap, path: item.path };
    if (
      (snap.type === "volume" && snap.volume === name) ||
      (snap.type === "bind" && snap.path === name)
    ) {
      return { snap, path: snap.paths[0] };
    }
  }
  return undefined;
}

/**
 * An environment whose `restic` (first on PATH) logs every invocation's arguments, then runs the
 * real restic: `calls()` is what ran since the last `reset()`. Each restic process opens the
 * repository (key derivation, index load), so their number is a cost tests can hold down.
 */
export async function countedRestic(env: TestRepoEnv) {
  const log = `${env.dir}/restic-calls.log`;
  const shim = await resticShim(`${env.dir}/counted`, `printf '%s\\n' "$*" >> '${log}'`);
  await Deno.writeTextFile(log, "");
  return {
    env: { ...env.env, ...shim.env },
    /** Each call's restic subcommand and arguments (the global --cache-dir left out). */
    async calls(): Promise<string[]> {
      return (await Deno.readTextFile(log)).split("\n").filter(Boolean)
        .map((l) => l.replace(/^--cache-dir \S+ /, ""));
    },
    async reset() {
      await Deno.writeTextFile(log, "");
    },
  };
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
  await withFixtureStack({ name }, async (s) => {
    const env = await testRepoEnv(extraYaml);
    try {
      await fn(s, env);
    } finally {
      await env.cleanup();
    }
  });
}
