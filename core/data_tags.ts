/**
 * The `item=` tags of a `type=data` snapshot (format 3, docs/format.md): one restic pass saves
 * several volume folders and bind mounts of a unit, and these tags say which snapshot path is
 * which volume or bind mount. Writing them, and reading them back from untrusted tags: a path
 * decides where restore looks inside the snapshot, a name which volume or folder it overwrites.
 */
import type { DataItem } from "./model.ts";
import { isWithin, normalizePath } from "./safe_paths.ts";

/** The tag key; a data snapshot carries one such tag per item. */
export const ITEM_KEY = "item";

/** `volume:NAME:PATH` or `bind:PATH` (escaping of commas is core/tags.ts's job). */
export function itemTagValue(d: DataItem): string {
  return d.kind === "volume" ? `volume:${d.name}:${d.path}` : `bind:${d.path}`;
}

/** Docker's volume name pattern (kept equal to core/tags.ts VOLUME_NAME). */
const VOLUME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * The items of a data snapshot from its (unescaped) `item=` values and restic's own list of the
 * snapshot's paths. Refused (problems set) when a value is malformed, a name is not a Docker
 * volume name or a bind path fails `bindPathProblem`, a path is not a normalised absolute path
 * restic saved, or two items share a name or a path, or one path lies inside another (restore
 * would then put one item's files into the other).
 */
export function parseDataItems(
  values: string[],
  snapshotPaths: string[],
  bindPathProblem: (path: string) => string | undefined,
): { items: DataItem[]; problems: string[] } {
  const items: DataItem[] = [];
  const problems: string[] = [];
  if (values.length === 0) problems.push("a data snapshot without item= tags");
  for (const v of values) {
    const d = parseOne(v);
    if (typeof d === "string") {
      problems.push(`item: ${d}`);
      continue;
    }
    if (d.kind === "bind") {
      const why = bindPathProblem(d.path);
      if (why) {
        problems.push(`item: ${why}`);
        continue;
      }
    }
    if (!snapshotPaths.includes(d.path)) {
      problems.push(`item: '${d.path}' is not one of the paths the snapshot saved`);
      continue;
    }
    items.push(d);
  }
  for (const [i, a] of items.entries()) {
    for (const b of items.slice(i + 1)) {
      if (a.kind === b.kind && a.name === b.name) {
        problems.push(`item: ${a.kind} '${a.name}' appears more than once`);
      } else if (nests(a.path, b.path)) {
        problems.push(`item: '${a.path}' and '${b.path}' overlap`);
      }
    }
  }
  return { items, problems };
}

function parseOne(v: string): DataItem | string {
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) return "contains control characters";
  if (v.startsWith("bind:")) {
    const path = v.slice("bind:".length);
    return { kind: "bind", name: path, path };
  }
  if (!v.startsWith("volume:")) return `'${v.slice(0, 80)}' is not volume:NAME:PATH or bind:PATH`;
  const rest = v.slice("volume:".length);
  const colon = rest.indexOf(":");
  if (colon <= 0) return `'${v.slice(0, 80)}' is not volume:NAME:PATH`;
  const name = rest.slice(0, colon);
  const path = rest.slice(colon + 1);
  if (!VOLUME.test(name)) return `'${name.slice(0, 80)}' is not a Docker volume name`;
  if (normalizePath(path) !== path || path === "/" || path.split("/").includes("..")) {
    return `'${path.slice(0, 120)}' is not a normalised absolute folder path`;
  }
  return { kind: "volume", name, path };
}

/** True when one path is the other or lies inside it. */
export function nests(a: string, b: string): boolean {
  return isWithin(a, b) || isWithin(b, a);
}
