/**
 * Bundle file names and rotation: `stowage-recovery-<backup_id-style UTC time>[-N].tar.gz.enc`.
 * The name carries the creation time, so ordering and rotation read names, never mtimes.
 */
import { backupIdFor } from "../tags.ts";

export const BUNDLE_PREFIX = "stowage-recovery-";
export const BUNDLE_SUFFIX = ".tar.gz.enc";

const NAME =
  /^stowage-recovery-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)(?:-(\d{1,4}))?\.tar\.gz\.enc$/;

export interface BundleName {
  /** `2025-01-31T23-59-59Z` or `2025-01-31T23-59-59Z-2` when two bundles share a second. */
  id: string;
  time: string;
  seq: number;
}

export function parseBundleName(fileName: string): BundleName | undefined {
  const m = NAME.exec(fileName);
  if (!m) return undefined;
  const seq = m[2] === undefined ? 1 : Number(m[2]);
  return { id: m[2] === undefined ? m[1] : `${m[1]}-${m[2]}`, time: m[1], seq };
}

export function bundleFileName(id: string): string {
  return `${BUNDLE_PREFIX}${id}${BUNDLE_SUFFIX}`;
}

/** The directory inside the archive, also what `tar xz` creates. */
export function bundleRoot(id: string): string {
  return `${BUNDLE_PREFIX}${id}`;
}

/** A fresh id for `now`, suffixed `-2`, `-3`... when a bundle of that second already exists. */
export function nextBundleId(now: Date, existing: Iterable<string>): string {
  const base = backupIdFor(now);
  const taken = new Set<string>();
  for (const f of existing) {
    const p = parseBundleName(f);
    if (p) taken.add(p.id);
  }
  if (!taken.has(base)) return base;
  for (let n = 2;; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

function compare(a: BundleName, b: BundleName): number {
  return a.time < b.time ? -1 : a.time > b.time ? 1 : a.seq - b.seq;
}

/**
 * Which bundle files to delete so that the `keep` newest remain. Names that are not bundles
 * (notes, temp files of a run in progress) are never touched. keep < 1 counts as 1: rotation
 * never removes the last bundle.
 */
export function bundlesToRemove(fileNames: Iterable<string>, keep: number): string[] {
  const bundles = [...fileNames]
    .map((f) => ({ f, p: parseBundleName(f) }))
    .filter((x): x is { f: string; p: BundleName } => x.p !== undefined)
    .sort((a, b) => compare(b.p, a.p));
  return bundles.slice(Math.max(1, keep)).map((x) => x.f);
}
