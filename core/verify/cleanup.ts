/**
 * Removing a drill's sandbox: its containers (with their anonymous volumes), networks, volumes
 * and scratch folder. Only objects that carry the run's sandbox label, or whose recorded name is
 * a sandbox name of that run, are removed, and only the scratch folder of that run: the journal
 * is a file, and a file is not proof enough to delete anything else. Used at the end of a drill,
 * on failure and interruption, and by the next command after a crash (app/host_lock.ts).
 */
import { errorMessage, isStowageError } from "../errors.ts";
import type { DockerEngine } from "../ports.ts";
import type { RestoreFiles } from "../restore/ports.ts";
import { posix } from "node:path";
import { RUN_ID, SANDBOX_LABEL, sandboxName } from "./names.ts";
import type { SandboxJournal, SandboxRecord } from "./ports.ts";

export type SandboxEngine = Pick<
  DockerEngine,
  | "listContainers"
  | "removeContainer"
  | "listVolumes"
  | "removeVolume"
  | "listNetworks"
  | "removeNetwork"
>;

export interface SandboxRemoval {
  runId: string;
  unit: string;
  removed: string[];
  /** What could not be removed; the record stays so the next command tries again. */
  problems: string[];
}

/** The folder every drill's scratch folder lives in. */
export function verifyRoot(stateDir: string): string {
  return posix.join(stateDir, "verify");
}

export async function removeSandbox(
  engine: SandboxEngine,
  files: Pick<RestoreFiles, "removeTree">,
  r: SandboxRecord,
  root: string,
): Promise<SandboxRemoval> {
  const out: SandboxRemoval = { runId: r.runId, unit: r.unit, removed: [], problems: [] };
  if (!RUN_ID.test(r.runId)) {
    out.problems.push(`the record's run id ${JSON.stringify(r.runId)} is not one stowage makes`);
    return out;
  }
  const label = `${SANDBOX_LABEL}=${r.runId}`;
  const prefix = `${sandboxName(r.unit, r.runId)}`;
  const ours = (
    name: string,
    labels: Record<string, string> | null | undefined,
    listed: string[],
  ) =>
    labels?.[SANDBOX_LABEL] === r.runId ||
    (listed.includes(name) && (name === prefix || name.startsWith(`${prefix}_`) ||
      name.startsWith(`${prefix}-`)));
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
      out.removed.push(what);
    } catch (e) {
      if (isStowageError(e, "engine.notfound")) return;
      out.problems.push(`${what}: ${errorMessage(e)}`);
    }
  };

  const containers = new Map<string, string>();
  for (const c of await engine.listContainers({ label: [label] })) {
    containers.set(c.Id, c.Name.replace(/^\//, ""));
  }
  for (const c of await engine.listContainers()) {
    const name = c.Name.replace(/^\//, "");
    if (ours(name, c.Config.Labels, r.containers ?? [])) containers.set(c.Id, name);
  }
  for (const [id, name] of containers) {
    await attempt(
      `container ${name}`,
      () => engine.removeContainer(id, { force: true, volumes: true }),
    );
  }
  for (const n of await engine.listNetworks()) {
    if (ours(n.Name, n.Labels, r.networks ?? [])) {
      await attempt(`network ${n.Name}`, () => engine.removeNetwork(n.Id));
    }
  }
  for (const v of await engine.listVolumes()) {
    if (ours(v.Name, v.Labels, r.volumes ?? [])) {
      await attempt(`volume ${v.Name}`, () => engine.removeVolume(v.Name, true));
    }
  }
  const scratch = posix.join(root, r.runId);
  if (r.scratchDir === scratch) {
    try {
      await files.removeTree(scratch);
      out.removed.push(`folder ${scratch}`);
    } catch (e) {
      out.problems.push(`folder ${scratch}: ${errorMessage(e)}`);
    }
  } else if (r.scratchDir) {
    out.problems.push(`the recorded scratch folder ${r.scratchDir} is not ${scratch}; left alone`);
  }
  return out;
}

/**
 * Removes every recorded sandbox (kept ones only with `includeKept`) and clears the records of
 * those removed completely. The caller holds the host lock, so no live drill owns them.
 */
export async function removeRecordedSandboxes(
  journal: SandboxJournal,
  engine: SandboxEngine,
  files: Pick<RestoreFiles, "removeTree">,
  root: string,
  opts: { includeKept?: boolean } = {},
): Promise<SandboxRemoval[]> {
  const out: SandboxRemoval[] = [];
  for (const r of await journal.read()) {
    if (r.keep && !opts.includeKept) continue;
    const removal = await removeSandbox(engine, files, r, root);
    if (removal.problems.length === 0) await journal.clear(r.runId);
    out.push(removal);
  }
  return out;
}
