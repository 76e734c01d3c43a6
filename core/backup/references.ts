/**
 * Collects the files the compose files reference (docs/format.md, "recipe files") for the recipe:
 * env files, extended files, config files, and each build context (honouring its .dockerignore)
 * with its Dockerfile. What cannot be read becomes a named gap; nothing here throws for a file.
 */
import type { CoverageGap, ProjectReference, Unit } from "../model.ts";
import type { HostFiles } from "../ports.ts";
import type { RecipeFile } from "../recipe.ts";
import { isIgnored, parseDockerignore } from "../dockerignore.ts";
import { encodeBase64 } from "../base64.ts";

/** A build context larger than this is not copied into the recipe (the image is saved anyway). */
export const MAX_CONTEXT_BYTES = 64 * 1024 * 1024;

export interface CollectedReferences {
  files: RecipeFile[];
  gaps: CoverageGap[];
}

export async function collectReferences(
  unit: Unit,
  files: HostFiles,
  maxContextBytes = MAX_CONTEXT_BYTES,
): Promise<CollectedReferences> {
  const out: CollectedReferences = { files: [], gaps: [] };
  const refs = unit.references ?? [];
  if (refs.length === 0) return out;
  if (!files.readFile || !files.walk) {
    for (const r of refs) out.gaps.push(gap(r, r.path, "this host's file access cannot read it"));
    return out;
  }
  const have = new Set(unit.files.map((f) => f.path));
  const add = (f: RecipeFile) => {
    if (have.has(f.path)) return;
    have.add(f.path);
    out.files.push(f);
  };
  for (const r of refs) {
    if (r.kind === "build") await collectContext(r, files, add, out.gaps, maxContextBytes);
    else {
      const got = await readOne(files, r.path);
      if (typeof got === "string") {
        if (got === "absent" && r.optional) continue;
        out.gaps.push(gap(r, r.path, why(got)));
      } else add({ path: r.path, kind: r.kind, mode: got.mode, ...content(got.bytes) });
    }
  }
  return out;
}

async function collectContext(
  r: ProjectReference,
  files: HostFiles,
  add: (f: RecipeFile) => void,
  gaps: CoverageGap[],
  max: number,
) {
  const list = await files.walk!(r.path);
  if (typeof list === "string") {
    gaps.push(gap(r, r.path, list === "not-a-folder" ? "it is not a folder" : why(list)));
    return;
  }
  const ignore = await readOne(files, `${r.path}/.dockerignore`);
  const rules = typeof ignore === "string"
    ? []
    : parseDockerignore(new TextDecoder().decode(ignore.bytes));
  const dockerfile = r.dockerfile ?? `${r.path}/Dockerfile`;
  const dfRel = dockerfile.startsWith(`${r.path}/`) ? dockerfile.slice(r.path.length + 1) : "";
  // docker build always sends the Dockerfile and .dockerignore, whatever .dockerignore says.
  const wanted = list.filter((e) =>
    e.type === "file" &&
    (e.rel === dfRel || e.rel === ".dockerignore" || !isIgnored(rules, e.rel))
  );
  const total = wanted.reduce((n, e) => n + e.size, 0);
  if (total > max) {
    gaps.push(gap(
      r,
      r.path,
      `the build context holds ${total} bytes after .dockerignore, more than the ${max} a recipe takes; the image is saved, its context is not`,
    ));
    return;
  }
  const skipped = list.filter((e) =>
    (e.type === "symlink" || e.type === "other") && !isIgnored(rules, e.rel)
  );
  if (skipped.length > 0) {
    gaps.push(gap(
      r,
      `${r.path}/${skipped[0].rel}`,
      `${skipped.length} symlink(s) or special file(s) in the build context are not saved (first: ${
        skipped[0].rel
      })`,
    ));
  }
  for (const e of wanted) {
    const path = `${r.path}/${e.rel}`;
    const got = await readOne(files, path);
    if (typeof got === "string") gaps.push(gap(r, path, why(got)));
    else add({ path, kind: "build", mode: got.mode, ...content(got.bytes) });
  }
  if (!dfRel) {
    const got = await readOne(files, dockerfile);
    if (typeof got === "string") gaps.push(gap(r, dockerfile, `its Dockerfile: ${why(got)}`));
    else add({ path: dockerfile, kind: "build", mode: got.mode, ...content(got.bytes) });
  } else if (!wanted.some((e) => e.rel === dfRel)) {
    gaps.push(gap(r, dockerfile, "its Dockerfile is not in the build context"));
  }
}

async function readOne(files: HostFiles, path: string) {
  return await files.readFile!(path);
}

function why(state: "absent" | "unreadable" | "not-a-file" | "not-a-folder"): string {
  return state === "absent"
    ? "it does not exist on this host"
    : state === "unreadable"
    ? "stowage cannot read it (permissions)"
    : state === "not-a-file"
    ? "it is not a regular file"
    : "it is not a folder";
}

function gap(r: ProjectReference, item: string, reason: string): CoverageGap {
  const label = `${r.kind.replace("_", "-")} '${r.written}'${
    r.service ? ` of service '${r.service}'` : ""
  }`;
  return { kind: "reference-unsaved", item, reason: `${label}: ${reason}; it is not saved` };
}

function content(bytes: Uint8Array): { content: string; encoding?: "base64" } {
  try {
    return { content: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return { content: encodeBase64(bytes), encoding: "base64" };
  }
}
