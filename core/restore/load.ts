/**
 * Gathering what the planner needs: the unit's restore points, the recipe and networks documents
 * of one point, and a view of the host (containers, volumes, networks, probed folders and files).
 */
import { StowageError } from "../errors.ts";
import type { BackupRepository, EngineInventory, ProcessRunner } from "../ports.ts";
import type { SnapshotInfo } from "../model.ts";
import { NETWORKS_FILE, type NetworksDocument, type Recipe, RECIPE_FILE } from "../recipe.ts";
import { parseSnapshot, STOWAGE_TAG } from "../tags.ts";
import { FORMAT_VERSION } from "../version.ts";
import type { z } from "zod";
import { NETWORKS_SCHEMA, RECIPE_SCHEMA, schemaProblems } from "./schema.ts";
import { untrustedDocument } from "./trust.ts";
import { requireUnit, type RestorePoint, restorePoints } from "./points.ts";
import { type HostView, probeTargets, type RestoreInput } from "./plan.ts";
import type { RestoreFiles } from "./ports.ts";

export async function loadSnapshots(repo: BackupRepository): Promise<SnapshotInfo[]> {
  return (await repo.snapshots({ tags: [STOWAGE_TAG] })).map(parseSnapshot);
}

/** The unit's restore points, newest first; `unit.notfound` with suggestions when it has none. */
export function pointsOf(snapshots: SnapshotInfo[], unit: string): RestorePoint[] {
  requireUnit(snapshots, unit);
  return restorePoints(snapshots, unit);
}

export async function loadDocuments(
  repo: BackupRepository,
  point: RestorePoint,
): Promise<{ recipe?: Recipe; networks?: NetworksDocument }> {
  const out: { recipe?: Recipe; networks?: NetworksDocument } = {};
  if (point.recipe) {
    out.recipe = parseDocument<Recipe>(
      await repo.dump(point.recipe.id, RECIPE_FILE),
      "recipe",
      point,
      RECIPE_SCHEMA,
    );
    if (out.recipe.unit.name !== point.unit) {
      throw untrustedDocument("recipe", point.unit, point.backupId, [
        `unit.name: '${out.recipe.unit.name}' is not the unit of its snapshot tags`,
      ]);
    }
  }
  if (point.networks) {
    out.networks = parseDocument<NetworksDocument>(
      await repo.dump(point.networks.id, NETWORKS_FILE),
      "networks document",
      point,
      NETWORKS_SCHEMA,
    );
  } else if (out.recipe && point.format >= 4) {
    out.networks = networksOfRecipe(out.recipe);
  }
  return out;
}

/**
 * Format 4 stores no networks document: the recipe's `unit.networks` (checked by the recipe's
 * schema with the networks document's own rules, never redacted) is the same list. Undefined when
 * the unit had none, as format 3 then wrote no networks snapshot.
 */
export function networksOfRecipe(recipe: Recipe): NetworksDocument | undefined {
  if (recipe.unit.networks.length === 0) return undefined;
  return {
    format: recipe.format,
    backupId: recipe.backupId,
    unit: recipe.unit.name,
    networks: recipe.unit.networks,
  };
}

function parseDocument<T extends { format: number }>(
  bytes: Uint8Array,
  what: string,
  point: RestorePoint,
  schema: z.ZodType,
): T {
  let doc: T;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch {
    throw new StowageError(
      "restore.failed",
      `Cannot read the ${what} of restore point ${point.backupId} of '${point.unit}': it is not valid JSON`,
      "The snapshot is damaged; run `stowage admin repo check` and pick another restore point.",
    );
  }
  if (typeof doc?.format === "number" && doc.format > FORMAT_VERSION) {
    throw new StowageError(
      "restore.failed",
      `Cannot read the ${what} of restore point ${point.backupId} of '${point.unit}': format ${doc?.format} is newer than this stowage understands (${FORMAT_VERSION})`,
      "Upgrade stowage to the version that made the backup, or newer.",
    );
  }
  // Everything below decides paths, names and permissions: the whole document is checked first.
  const checked = schema.safeParse(doc);
  if (!checked.success) {
    throw untrustedDocument(what, point.unit, point.backupId, schemaProblems(checked.error));
  }
  return checked.data as T;
}

/** The compose command to use: the configured one, else `docker compose`, else `docker-compose`. */
export async function detectCompose(
  runner: ProcessRunner,
  configured?: string,
): Promise<string[] | undefined> {
  const candidates = configured
    ? [configured.trim().split(/\s+/)]
    : [["docker", "compose"], ["docker-compose"]];
  for (const argv of candidates) {
    try {
      const r = await runner.run(argv[0], [...argv.slice(1), "version"], { timeoutMs: 20_000 });
      if (r.code === 0) return argv;
    } catch { /* not installed: try the next */ }
  }
  return undefined;
}

/**
 * `detectCompose` asked at most once, for one command's run (verify drills unit after unit): the
 * probes cost two processes each time, and the host's compose tool does not change meanwhile.
 * Made per run, not kept process-wide: a daemon's next run sees a compose installed since.
 */
export function composeDetector(
  runner: ProcessRunner,
  configured?: string,
): () => Promise<string[] | undefined> {
  let answer: Promise<string[] | undefined> | undefined;
  return () => (answer ??= detectCompose(runner, configured));
}

/** Everything the planner reads from the host, for the targets of this input. */
export async function gatherHost(
  engine: EngineInventory,
  files: RestoreFiles,
  input: Omit<RestoreInput, "host">,
  composeCommand: string[] | undefined,
): Promise<HostView> {
  const [containers, volumes, list, images] = await Promise.all([
    engine.listContainers(),
    engine.listVolumes(),
    engine.listNetworks(),
    engine.listImages(),
  ]);
  const names = new Set((input.networks?.networks ?? []).map((n) => n.name));
  // The list omits attached containers: inspect the networks this restore may touch.
  const networks = await Promise.all(
    list.map((n) => (names.has(n.Name) ? engine.inspectNetwork(n.Id).catch(() => n) : n)),
  );
  const view: HostView = {
    containers,
    volumes,
    networks,
    images,
    paths: {},
    files: {},
    composeCommand,
  };
  await probeInto(view, files, input);
  return view;
}

/** Probes the folders and files the plan will write (also used with --to-dir, without Docker). */
export async function probeInto(
  view: HostView,
  files: RestoreFiles,
  input: Omit<RestoreInput, "host">,
) {
  const targets = probeTargets(input, view.volumes);
  for (const d of targets.dirs) view.paths[d] = await files.probeDir(d);
  for (const f of targets.files) view.files[f] = await files.readText(f);
}
