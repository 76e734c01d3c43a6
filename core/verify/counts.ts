/**
 * What a drill compares a restored snapshot with: restic's `stats --mode restore-size` counts every
 * node of the snapshot's tree, including the folders above the saved paths (`/var`, `/var/lib`,
 * ...) and each saved folder itself, which the restored folders do not contain. Pure.
 */

/** How many folders restic's count holds besides the content of `paths`: their ancestors and themselves. */
export function treeOverhead(paths: string[]): number {
  const dirs = new Set<string>();
  for (const p of paths) {
    const parts = p.split("/").filter(Boolean);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return dirs.size;
}
