/** Doctor's verdict as data: each check with a status and, when not ok, a hint. Pure rendering aid. */
import type { Unit } from "./model.ts";
import { classifyVolume, type VolumeKind } from "./volume_kind.ts";
import type { SnapshotInfo } from "./model.ts";
import { isUsable, restorePoints, unitsIn } from "./restore/points.ts";
import { isInternalUnit } from "./internal_units.ts";

export type CheckStatus = "ok" | "warn" | "fail";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  hint?: string;
}

export interface DoctorReport {
  healthy: boolean;
  checks: Check[];
}

export function verdict(checks: Check[]): DoctorReport {
  return { healthy: checks.every((c) => c.status !== "fail"), checks };
}

/** A secret file must be owned by us and closed to group and others. */
export function secretFileCheck(
  name: string,
  path: string,
  stat: { mode: number | null } | undefined,
  required: boolean,
): Check {
  if (!stat) {
    return required
      ? {
        name,
        status: "fail",
        detail: `${path} is missing`,
        hint:
          "Restore it from your disaster-recovery bundle, or point the config at the right file.",
      }
      : {
        name,
        status: "warn",
        detail: `${path} does not exist yet`,
        hint: "It is created (0600) by `stowage admin repo init` or the first backup.",
      };
  }
  const mode = (stat.mode ?? 0) & 0o777;
  if (mode & 0o077) {
    return {
      name,
      status: "fail",
      detail: `${path} has mode ${mode.toString(8).padStart(4, "0")}: readable by others`,
      hint: `chmod 600 ${path}`,
    };
  }
  return { name, status: "ok", detail: `${path} (mode ${mode.toString(8).padStart(4, "0")})` };
}

const KIND_WORDS: Record<VolumeKind, string> = {
  local: "local",
  bind: "bind-type (saved from the device folder)",
  mounted: "mounted only while used (saved through the Engine)",
  tmpfs: "tmpfs (nothing to save)",
  driver: "other driver (saved through the Engine)",
};

/** Which kinds of volumes the units use and which of them stowage cannot save. */
export function volumeKindsCheck(units: Unit[]): Check {
  const counts = new Map<VolumeKind, number>();
  const problems: string[] = [];
  for (const u of units) {
    for (const v of u.volumes.filter((v) => !v.external)) {
      const loc = v.location ?? classifyVolume(v);
      counts.set(loc.kind, (counts.get(loc.kind) ?? 0) + 1);
      if (loc.kind === "tmpfs") problems.push(`${u.name}/${v.name}: ${loc.describe}`);
      if (loc.kind === "bind" && loc.unsafe) {
        problems.push(`${u.name}/${v.name}: device folder outside the safe roots (${loc.unsafe})`);
      }
    }
    for (const g of u.gaps.filter((g) => g.kind === "volume-unreadable")) {
      problems.push(`${u.name}/${g.item}: ${g.reason}`);
    }
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const summary = total === 0
    ? "no volumes"
    : `${total} volume(s): ${[...counts].map(([k, n]) => `${n} ${KIND_WORDS[k]}`).join(", ")}`;
  return problems.length === 0 ? { name: "volume kinds", status: "ok", detail: summary } : {
    name: "volume kinds",
    status: "warn",
    detail: `${summary}; not saved: ${problems.join("; ")}`,
    hint: "These volumes are coverage gaps: keep their data elsewhere (docs/discovery.md).",
  };
}

/**
 * Incomplete restore points and orphan snapshots (a recipe without its volumes, a volume without
 * its recipe, the split points of format-1 per-type retention), per unit and host. Those a newer
 * complete point covers go at that unit's next backup (retention); the others stay, because they
 * may be all there is.
 */
export function restorePointsCheck(snapshots: SnapshotInfo[]): Check {
  const lines: string[] = [];
  let covered = 0;
  let uncovered = 0;
  // `_host` and `_images` hold shared snapshots, not restore points of a run (core/internal_units.ts).
  for (const unit of unitsIn(snapshots).filter((u) => !isInternalUnit(u))) {
    const points = restorePoints(snapshots, unit);
    for (const p of points.filter((x) => x.kind === "backup" && !isUsable(x))) {
      const newer = points.some((o) =>
        o.host === p.host && o.kind === "backup" && isUsable(o) && o.time > p.time
      );
      if (newer) covered++;
      else uncovered++;
      lines.push(
        `${unit} on ${p.host}, ${p.backupId} (${p.snapshots.length} snapshot(s)): ${
          p.problems.join("; ")
        }${newer ? "; a newer complete point covers it" : "; no newer complete point"}`,
      );
    }
  }
  if (lines.length === 0) {
    return { name: "restore points", status: "ok", detail: "every restore point is complete" };
  }
  return {
    name: "restore points",
    status: "warn",
    detail: `${lines.length} incomplete restore point(s) or orphan snapshot group(s): ${
      lines.slice(0, 5).join(" | ")
    }${lines.length > 5 ? ` | ... and ${lines.length - 5} more` : ""}`,
    hint: covered > 0 && uncovered === 0
      ? "The next backup of each unit removes them (retention forgets incomplete points a newer complete one covers)."
      : "Run `stowage backup` for the units named: once a newer complete point exists, retention removes the incomplete ones. `stowage restore --list` marks them.",
  };
}

/** What a probe of a directory found: the nearest existing directory, whether a file can be made there. */
export interface WritableProbe {
  /** Whether the directory itself exists. */
  exists: boolean;
  /** The directory probed: the one asked about, or its nearest existing ancestor. */
  probed: string;
  writable: boolean;
  /** Why not, when not writable. */
  error?: string;
}

/**
 * Where restic keeps its cache (index, snapshots, tree packs) and whether it can write there: a
 * cache it cannot write makes every restic call load the repository's index cold.
 */
export function resticCacheCheck(
  dir: string,
  probe: WritableProbe,
): Check {
  const name = "restic cache";
  if (probe.writable) {
    return {
      name,
      status: "ok",
      detail: probe.exists ? `${dir} is writable` : `${dir} (created by the first restic call)`,
    };
  }
  return {
    name,
    status: "warn",
    detail: `${dir} is not writable${probe.probed !== dir ? ` (${probe.probed})` : ""}: ${
      probe.error ?? "permission denied"
    }; restic runs without a warm cache and reloads the repository index on every call`,
    hint:
      "Make the state directory writable for the user stowage runs as (state_dir, STOWAGE_STATE_DIR); under systemd it must be in ReadWritePaths= (admin service write-units adds it).",
  };
}
