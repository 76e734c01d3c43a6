/**
 * Whether the host has room for a drill: the bytes the restore point restores against the free
 * bytes of the file systems the sandbox writes to (Docker's volume folder, the scratch folder).
 * Pure: `df -PB1` output in, a verdict out.
 */

/**
 * Available space from `df -P` output, in df's unit (`-B1`: bytes, `-k`: KiB): the fourth column
 * of the second line.
 */
export function parseDfAvailable(text: string): number | undefined {
  const line = text.trim().split("\n")[1];
  if (!line) return undefined;
  const cols = line.trim().split(/\s+/);
  // The file system name may contain spaces; the numbers are the last five columns.
  const avail = Number(cols[cols.length - 3]);
  return Number.isFinite(avail) && avail >= 0 ? avail : undefined;
}

export interface DiskNeed {
  path: string;
  free: number | undefined;
}

/** What is short: each place with less free space than `need` (plus a 5 % margin). */
export function diskShortfall(need: number, places: DiskNeed[]): string[] {
  const want = Math.ceil(need * 1.05);
  return places
    .filter((p) => p.free !== undefined && p.free < want)
    .map((p) => `${p.path} has ${mib(p.free!)} free, the restore needs ${mib(want)}`);
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}
