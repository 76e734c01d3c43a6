/** The units a repository holds, with their latest backup, as the manifest records them. */
import type { ResticSnapshot } from "../ports.ts";
import { parseSnapshot } from "../tags.ts";
import type { ManifestUnit } from "./manifest.ts";
import { IMAGES_UNIT } from "../internal_units.ts";

export function unitsFromSnapshots(snapshots: ResticSnapshot[]): ManifestUnit[] {
  const units = new Map<string, ManifestUnit>();
  for (const s of snapshots) {
    const info = parseSnapshot(s);
    // pre-restore snapshots are not restore points of a backup run; invalid tags are refused.
    // Saved images are shared by units and restored with them, not on their own.
    if (!info.unit || info.type === "pre-restore" || info.invalid || info.unit === IMAGES_UNIT) {
      continue;
    }
    const u = units.get(info.unit) ?? { name: info.unit, latest_time: info.time, snapshots: 0 };
    u.snapshots++;
    const newer = info.backupId !== undefined &&
      (u.latest_backup_id === undefined || info.backupId > u.latest_backup_id);
    if (newer || (u.latest_backup_id === undefined && info.time > u.latest_time)) {
      u.latest_backup_id = info.backupId ?? u.latest_backup_id;
      u.latest_time = info.time;
    }
    units.set(info.unit, u);
  }
  return [...units.values()].sort((a, b) => a.name.localeCompare(b.name));
}
