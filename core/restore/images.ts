/**
 * Which saved images a restore loads: those of the recipe (images with no repo digest, saved in
 * `type=image` snapshots) that this host lacks, before anything is started. Pure.
 */
import type { EngineImage } from "../engine_types.ts";
import type { Recipe } from "../recipe.ts";

export interface ImageStep {
  reference: string;
  id: string;
  snapshotId: string;
  file: string;
  size?: number;
  /** The host lacks it: load it. */
  load: boolean;
  /** After the load, the reference must be tagged onto the id (it was saved by id). */
  tag: boolean;
}

const ID = /^sha256:[0-9a-f]{64}$/;
const SNAPSHOT = /^[0-9a-f]{8,64}$/;
const FILE = /^\/[0-9a-f]{64}\.tar$/;
/** A plausible image reference (no whitespace, no shell or path tricks reach the Engine API). */
const REFERENCE = /^[a-z0-9][a-z0-9._\/:@-]{0,254}$/i;

/** Steps for the recipe's saved images; entries that do not look right are returned as problems. */
export function planImages(
  recipe: Recipe,
  hostImages: EngineImage[],
): { steps: ImageStep[]; problems: string[] } {
  const steps: ImageStep[] = [];
  const problems: string[] = [];
  for (const img of Array.isArray(recipe.images) ? recipe.images : []) {
    if (
      typeof img?.id !== "string" || !ID.test(img.id) || typeof img.snapshotId !== "string" ||
      !SNAPSHOT.test(img.snapshotId) || typeof img.file !== "string" || !FILE.test(img.file) ||
      typeof img.reference !== "string" || !REFERENCE.test(img.reference)
    ) {
      problems.push(
        `the recipe names a saved image that does not look right (${
          JSON.stringify(img).slice(0, 120)
        })`,
      );
      continue;
    }
    if (steps.some((s) => s.id === img.id)) continue;
    const have = hostImages.find((h) => h.Id === img.id);
    const full = img.reference.includes(":") || img.reference.includes("@")
      ? img.reference
      : `${img.reference}:latest`;
    const tagged = have?.RepoTags?.some((t) => t === img.reference || t === full) ?? false;
    steps.push({
      reference: img.reference,
      id: img.id,
      snapshotId: img.snapshotId,
      file: img.file,
      ...(typeof img.size === "number" ? { size: img.size } : {}),
      load: !have,
      tag: !tagged && img.reference !== img.id && !img.reference.includes("@"),
    });
  }
  return { steps, problems };
}

/** `repo:tag` split for the Engine's tag API (`registry:5000/x:1` -> `registry:5000/x`, `1`). */
export function splitReference(ref: string): { repo: string; tag: string } {
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  return colon > slash ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : {
    repo: ref,
    tag: "latest",
  };
}
