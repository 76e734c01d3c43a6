/**
 * Data no backup sees: files a container wrote into its own writable layer (the Engine's
 * `GET /containers/{id}/changes`, i.e. `docker diff`) rather than into a volume or bind mount.
 * stowage saves volumes and binds; the layer is lost when the container is re-created (compose up
 * after an image update, a restore). Pure: changes and mounts in, one finding per container out.
 *
 * Ignored as noise (documented in docs/backup.md): deletions (the image brings those files back),
 * anything under a mount, and paths that hold only scratch or state the container rebuilds:
 * /tmp, /var/tmp, /run, /var/run, /var/cache, /var/log (logs belong to `docker logs` or the
 * journal), /dev, /proc, /sys, any `.cache` folder, and the Engine's own /sbin/docker-init.
 */
import type { MountRef, Unit } from "./model.ts";
import type { DockerEngine } from "./ports.ts";
import type { Check } from "./doctor.ts";

/** One entry of the Engine's changes list: Kind 0 modified, 1 added, 2 deleted. */
export interface LayerChange {
  Path: string;
  Kind: number;
}

export interface LayerWrites {
  container: string;
  /** Changed files and folders outside mounts and noise, deepest only, sorted. */
  paths: string[];
}

export const NOISE_PREFIXES = [
  "/tmp",
  "/var/tmp",
  "/run",
  "/var/run",
  "/var/cache",
  "/var/log",
  "/dev",
  "/proc",
  "/sys",
];

const under = (path: string, dir: string) =>
  dir === "/" || path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);

/** Files the Engine itself puts into every container (`--init` / compose `init: true`). */
const ENGINE_FILES = ["/sbin/docker-init"];

function isNoise(path: string): boolean {
  return NOISE_PREFIXES.some((p) => under(path, p)) || ENGINE_FILES.includes(path) ||
    /(^|\/)\.cache(\/|$)/.test(path);
}

/** The container's writes no backup covers; undefined when there are none. */
export function layerWrites(
  container: { name: string; mounts: Pick<MountRef, "destination">[] },
  changes: LayerChange[] | null | undefined,
): LayerWrites | undefined {
  const mounts = container.mounts.map((m) => m.destination.replace(/\/+$/, "") || "/");
  const all = (changes ?? []).filter((c) => typeof c.Path === "string" && c.Path.startsWith("/"));
  // A folder is listed because something below it changed (even noise, or a deletion): only
  // the deepest paths say what was written.
  const leaves = all
    .filter((c) => !all.some((o) => o.Path !== c.Path && under(o.Path, c.Path)))
    .filter((c) => c.Kind !== 2)
    .map((c) => c.Path)
    .filter((p) => !isNoise(p))
    // What is under a mount is saved; a folder above a mount point may be listed only because
    // the mount point was created in it.
    .filter((p) => !mounts.some((m) => under(p, m) || under(m, p)));
  if (leaves.length === 0) return undefined;
  return { container: container.name, paths: [...new Set(leaves)].sort() };
}

/** One line for people: the container, how many paths, the first few. */
export function describeLayerWrites(w: LayerWrites, max = 3): string {
  const n = w.paths.length;
  const shown = w.paths.slice(0, max).join(", ") + (n > max ? `, ... (${n - max} more)` : "");
  return `container ${w.container} has written ${n} path${
    n === 1 ? "" : "s"
  } outside its volumes and bind mounts, which no backup sees: ${shown}`;
}

export const LAYER_WRITES_HINT =
  "Mount a volume (or bind mount) where the container keeps that data, or ignore it if it can be rebuilt; `docker diff CONTAINER` lists every change.";

/** `containerChanges` requests in flight at once. */
const CHANGES_CONCURRENCY = 4;

/**
 * Asks the Engine for every container of `units` (running or stopped) and returns the findings
 * per unit. A container whose changes cannot be read is reported as unknown, not as clean.
 */
export async function findLayerWrites(
  engine: Pick<DockerEngine, "containerChanges">,
  units: Unit[],
): Promise<Map<string, { writes: LayerWrites[]; unreadable: string[] }>> {
  // The Engine computes each container's changes on its own (no list call gives them): ask for a
  // few at once, read the answers in the units' and containers' order.
  const all = units.flatMap((u) => u.containers.map((c) => ({ unit: u.name, c })));
  const answers = new Array<{ w?: LayerWrites; error?: string }>(all.length);
  let next = 0;
  const worker = async () => {
    while (next < all.length) {
      const i = next++;
      const { c } = all[i];
      try {
        answers[i] = { w: layerWrites(c, await engine.containerChanges(c.id)) };
      } catch (e) {
        answers[i] = { error: `${c.name}: ${e instanceof Error ? e.message : String(e)}` };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHANGES_CONCURRENCY, all.length) }, worker));
  const out = new Map<string, { writes: LayerWrites[]; unreadable: string[] }>();
  for (const u of units) out.set(u.name, { writes: [], unreadable: [] });
  all.forEach(({ unit }, i) => {
    const found = out.get(unit)!;
    const a = answers[i];
    if (a.w) found.writes.push(a.w);
    if (a.error) found.unreadable.push(a.error);
  });
  return out;
}

/** Doctor's view: one warning per container with such writes, or one ok line. */
export function layerWritesChecks(
  found: Map<string, { writes: LayerWrites[]; unreadable: string[] }>,
): Check[] {
  const name = "data outside volumes";
  const checks: Check[] = [];
  for (const [unit, f] of found) {
    for (const w of f.writes) {
      checks.push({
        name,
        status: "warn",
        detail: `[${unit}] ${describeLayerWrites(w)}`,
        hint: LAYER_WRITES_HINT,
      });
    }
    for (const c of f.unreadable) {
      checks.push({ name, status: "warn", detail: `[${unit}] could not check ${c}` });
    }
  }
  if (checks.length === 0) {
    const n = [...found.values()].length;
    checks.push({
      name,
      status: "ok",
      detail: `no container of the ${n} unit(s) keeps data in its own layer`,
    });
  }
  return checks;
}
