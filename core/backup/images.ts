/**
 * Saving images no registry can give back (no repo digest: built or loaded on this host). Each is
 * exported with the Engine's image export and streamed into the repository as its own snapshot,
 * `unit=_images type=image image=<id>`: one per image id, shared by every unit that uses it, and
 * made only once (a later run finds it by its tags in the run's listing; restic would deduplicate
 * it anyway). Runs
 * before the stop, like the recipe, so it costs no downtime.
 */
import { StowageError } from "../errors.ts";
import type { BackupSummary, DockerEngine, StreamSource } from "../ports.ts";
import type { SnapshotInfo } from "../model.ts";
import type { RecipeImage } from "../recipe.ts";
import type { EngineImage } from "../engine_types.ts";
import type { PlanItem } from "./plan.ts";
import { trackedSource } from "./stream_source.ts";

/** The file inside an image snapshot: `/<hex id>.tar`. */
export function imageFile(id: string): string {
  return `/${id.replace(/^sha256:/, "")}.tar`;
}

/**
 * The name to export: the reference when it still names this image (so `docker load` brings the
 * tag back), else the id (the tag moved since the container was created).
 */
export function exportName(item: { id: string; reference: string }, images: EngineImage[]): string {
  const img = images.find((i) => i.Id === item.id);
  const ref = item.reference.includes(":") || item.reference.includes("@")
    ? item.reference
    : `${item.reference}:latest`;
  return img?.RepoTags?.some((t) => t === item.reference || t === ref) ? item.reference : item.id;
}

export interface ImageSaveDeps {
  engine: Pick<DockerEngine, "exportImage">;
}

/**
 * Saves (or finds) the snapshot of each `image` plan item. `save` stores a stream with the
 * item's tags and records it in the report; it is the executor's, so progress and events match
 * every other snapshot.
 */
export async function saveImages(
  deps: ImageSaveDeps,
  items: PlanItem[],
  images: EngineImage[],
  save: (item: PlanItem, file: string, source: StreamSource) => Promise<BackupSummary>,
  signal: AbortSignal,
  /** The image's snapshot if the repository has one (core/backup/listing.ts imageSnapshot). */
  find: (imageId: string) => Promise<SnapshotInfo | undefined>,
): Promise<RecipeImage[]> {
  const out: RecipeImage[] = [];
  for (const item of items) {
    const img = item.image;
    if (item.type !== "image" || !img) continue;
    if (signal.aborted) throw signal.reason;
    const file = imageFile(img.id);
    const existing = await find(img.id);
    if (existing) {
      out.push({
        reference: img.reference,
        id: img.id,
        snapshotId: existing.id,
        file,
        size: img.size,
      });
      continue;
    }
    const stream = await deps.engine.exportImage(exportName(img, images), signal);
    const summary = await save(item, file, trackedSource(stream));
    if (!summary.snapshotId) {
      throw new StowageError("repo.error", `Cannot save image '${img.reference}': no snapshot id`);
    }
    out.push({
      reference: img.reference,
      id: img.id,
      snapshotId: summary.snapshotId,
      file,
      size: summary.totalBytesProcessed || img.size,
    });
  }
  return out;
}
