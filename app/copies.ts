/**
 * Copies to other repositories (config `copies:`, docs/copies.md): after a backup run, every
 * restore point of this host that a copy lacks goes over with `restic copy` (data first, the
 * completion markers last; core/copies/plan.ts decides), then the copy's own retention runs there.
 * A copy that fails (the target is down, a wrong password) fails only itself: the caller's run
 * stays as it was, the report says why, and the next run copies whatever is still missing.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import type { CopyConfig, Retention } from "../core/config/schema.ts";
import type { BackupRepository, CopyDestination, EventSink } from "../core/ports.ts";
import type { CopyReport } from "../core/report.ts";
import { behindSince, type CopyPlan, newestCopied, planCopy } from "../core/copies/plan.ts";
import { snapshotInCopy } from "../core/copies/original.ts";
import { planRetention } from "../core/backup/retention.ts";
import { restorePoints, unitsIn } from "../core/restore/points.ts";
import { IMAGES_UNIT } from "../core/internal_units.ts";
import { parseSnapshot } from "../core/tags.ts";
import { errorMessage, isStowageError } from "../core/errors.ts";
import type { SnapshotInfo } from "../core/model.ts";
import type { Services } from "./services.ts";

export type CopyServices = Pick<Services, "copyRepository" | "hostname" | "clock">;

export interface CopyRequest {
  sink: EventSink;
  signal: AbortSignal;
}

/** Every configured copy, one after the other; never throws for a copy's failure. */
export async function copyToAll(
  svc: CopyServices,
  loaded: LoadedConfig,
  primary: BackupRepository,
  req: CopyRequest,
): Promise<CopyReport[]> {
  const reports: CopyReport[] = [];
  // The primary's points are listed once for every copy (a listing loads the whole index).
  let listed: Promise<SnapshotInfo[]> | undefined;
  const primarySnapshots = () => (listed ??= ownSnapshots(primary, svc.hostname));
  for (const copy of loaded.config.copies) {
    if (req.signal.aborted) break;
    reports.push(await copyTo(svc, loaded, primary, primarySnapshots, copy, req));
  }
  return reports;
}

/** This host's snapshots in a repository. */
async function ownSnapshots(r: BackupRepository, host: string): Promise<SnapshotInfo[]> {
  return (await r.snapshots({ host })).map(parseSnapshot).filter((s) => s.hostname === host);
}

const log = (req: CopyRequest, level: "info" | "warning", message: string) =>
  req.sink.emit({ type: "log", level, message, operation: "copy" });

export async function copyTo(
  svc: CopyServices,
  loaded: LoadedConfig,
  primary: BackupRepository,
  primarySnapshots: () => Promise<SnapshotInfo[]>,
  copy: CopyConfig,
  req: CopyRequest,
): Promise<CopyReport> {
  const report: CopyReport = { name: copy.name, ok: false, copied: [], warnings: [] };
  const t0 = svc.clock.now().getTime();
  let plan: CopyPlan | undefined;
  try {
    const { repo, destination } = await svc.copyRepository(loaded, copy.name);
    const host = svc.hostname;
    const mine = (r: BackupRepository) => ownSnapshots(r, host);
    // Listing the copy is also the check that it exists (one restic process fewer per run).
    let onCopy: SnapshotInfo[];
    try {
      onCopy = await mine(repo);
    } catch (e) {
      if (!isStowageError(e, "repo.missing")) throw e;
      await primary.initCopy(destination);
      report.created = true;
      onCopy = [];
      log(
        req,
        "info",
        `copy '${copy.name}': created the copy repository (with the primary's chunker parameters)`,
      );
    }
    const policy = copy.retention ?? loaded.config.retention;
    plan = planCopy({ primary: await primarySnapshots(), copy: onCopy, host, policies: [policy] });
    for (const line of plan.skipped) {
      log(req, "info", `copy '${copy.name}': not copying ${line}`);
    }
    await send(primary, destination, plan, req.signal);
    report.copied = plan.points.map((p) => `${p.unit} ${p.backupId}`);
    if (plan.points.length) {
      log(
        req,
        "info",
        `copy '${copy.name}': copied ${plan.points.length} restore point(s): ${
          report.copied.join(", ")
        }`,
      );
    }
    const after = plan.points.length ? await mine(repo) : onCopy;
    report.forgotten = await applyCopyRetention(repo, after, policy, copy, report);
    report.newest = newestCopied(
      report.forgotten ? await mine(repo) : after,
      host,
    );
    for (const w of report.warnings) log(req, "warning", `copy '${copy.name}': ${w}`);
    report.ok = true;
  } catch (e) {
    report.error = errorMessage(e);
    // Behind at least since the oldest point it should have got; unknown when it was unreadable.
    report.behindSince = plan ? behindSince(plan) : undefined;
    log(
      req,
      "warning",
      `copy '${copy.name}' failed (the backup itself is not affected): ${report.error}`,
    );
  }
  report.durationMs = svc.clock.now().getTime() - t0;
  return report;
}

/** Two passes: a marker goes over only after every data snapshot of every point did. */
async function send(
  primary: BackupRepository,
  destination: CopyDestination,
  plan: CopyPlan,
  signal: AbortSignal,
) {
  if (plan.first.length) await primary.copy(destination, plan.first, { signal });
  if (plan.second.length) await primary.copy(destination, plan.second, { signal });
}

/**
 * The copy's retention over whole points of this host, per unit, with its own policy
 * (core/backup/retention.ts); the newest complete point always stays. Saved images are left
 * alone, as on the primary. Returns how many snapshots were forgotten (then pruned).
 */
async function applyCopyRetention(
  repo: BackupRepository,
  snapshots: SnapshotInfo[],
  policy: Retention,
  copy: CopyConfig,
  report: CopyReport,
): Promise<number> {
  const points = unitsIn(snapshots).filter((u) => u !== IMAGES_UNIT).flatMap((u) =>
    restorePoints(snapshots, u)
  );
  const decision = planRetention(points, [policy]);
  const forget = decision.forget.flatMap((p) => p.snapshots.map((s) => s.id));
  if (forget.length === 0) return 0;
  if (copy.repository.append_only) {
    report.warnings.push(
      `retention cannot forget in an append-only copy: ${decision.forget.length} restore point(s) would be forgotten there`,
    );
    return 0;
  }
  try {
    await repo.forget(forget);
    await repo.prune();
  } catch (e) {
    report.warnings.push(
      isStowageError(e, "repo.appendonly")
        ? `retention cannot forget in this copy: it is append-only (${errorMessage(e)})`
        : `retention on the copy failed: ${errorMessage(e)}`,
    );
    return 0;
  }
  return forget.length;
}

/**
 * A copy as restore reads it. Its snapshots have new ids; the recipe still names saved images by
 * the primary's snapshot ids, so reads by such an id go to the copy's snapshot whose `original`
 * it is (core/tags.ts only believes a well-formed one; core/copies/original.ts decides).
 * Everything else passes through.
 */
export function readThroughOriginals(
  repo: BackupRepository,
  snapshots: SnapshotInfo[],
): BackupRepository {
  const local = (id: string): string => snapshotInCopy(snapshots, id);
  return {
    version: () => repo.version(),
    exists: () => repo.exists(),
    init: () => repo.init(),
    snapshots: (f, o) => repo.snapshots(f, o),
    backupPaths: (p, o) => repo.backupPaths(p, o),
    backupStream: (n, s, o) => repo.backupStream(n, s, o),
    forget: (ids) => repo.forget(ids),
    prune: () => repo.prune(),
    check: (o) => repo.check(o),
    dump: async (id, path) => await repo.dump(local(id), path),
    ...(repo.dumpStream
      ? {
        dumpStream: async (id: string, path: string, signal?: AbortSignal) =>
          await repo.dumpStream!(local(id), path, signal),
      }
      : {}),
    restore: async (id, target, o) => await repo.restore(local(id), target, o),
    stats: async (o) => await repo.stats(o ? { ...o, snapshotIds: o.snapshotIds?.map(local) } : o),
    unlock: () => repo.unlock(),
    locks: () => repo.locks(),
    copy: async (d, ids, o) => await repo.copy(d, ids?.map(local), o),
    initCopy: (d) => repo.initCopy(d),
  };
}
