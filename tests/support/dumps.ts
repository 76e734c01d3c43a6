/** Helpers for the database dump tests (tests/dumps_*_test.ts). */
import type { TestRepoEnv } from "./repo.ts";
import { waitFor as poll } from "./service.ts";

/**
 * Every process's argv on the host (containers' processes included), one line each. Through
 * `ps`: Deno asks for --allow-all to list /proc itself.
 */
export async function procCmdlines(): Promise<string[]> {
  const out = await new Deno.Command("ps", { args: ["-e", "-ww", "-o", "args="] }).output();
  return new TextDecoder().decode(out.stdout).split("\n");
}

/** Polls `ready` until it holds (service.ts's waitFor); a database may take 90 s to start. */
export const waitFor = (what: string, ready: () => Promise<boolean>, seconds = 90) =>
  poll(what, ready, seconds * 1000);

/** The backup ids of a unit's completion markers, and its dump snapshots' ids, from restic. */
export async function backupIds(
  env: TestRepoEnv,
  unit: string,
): Promise<{ complete: string[]; dumps: string[] }> {
  const snaps = JSON.parse(await env.restic("snapshots", "--json", "--tag", `unit=${unit}`)) as {
    id: string;
    tags?: string[];
  }[];
  const tag = (s: { tags?: string[] }, k: string) =>
    s.tags?.find((t) => t.startsWith(`${k}=`))?.slice(k.length + 1);
  return {
    complete: snaps.filter((s) => tag(s, "type") === "complete").map((s) => tag(s, "backup_id")!),
    dumps: snaps.filter((s) => tag(s, "type") === "dump").map((s) => s.id),
  };
}
