/**
 * Stop, snapshot, start, back up from the snapshot (issue 18): the steps core/backup/run.ts calls.
 * `prepareUnitSnapshots` decides before anything is touched; `take` runs while the unit is
 * stopped (journal first, then every snapshot before any start); `release` deletes them and
 * clears the journal; `cleanLeftovers` deletes what a killed run left (under the host lock).
 */
import { errorMessage, StowageError } from "../errors.ts";
import type { EventSink } from "../ports.ts";
import type { FsSnapshotJournalEntry, FsSnapshots } from "./ports.ts";
import {
  type DataItemRef,
  type FsSnapshotMode,
  type FsSnapshotPlan,
  isOwnSnapshot,
  type ItemDecision,
  planFsSnapshots,
  requireViolation,
  type SnapshotSpec,
} from "./plan.ts";

/** Per item, for the unit report: how its data was read. */
export interface ItemReadReport {
  type: string;
  item: string;
  /** `btrfs`/`lvm`: read from a snapshot taken while the unit was stopped; `cold`: read stopped. */
  read: "btrfs" | "lvm" | "cold";
  /** Why no snapshot was used. */
  reason?: string;
}

export interface UnitSnapshots {
  readonly plan: FsSnapshotPlan;
  /** True once every snapshot exists; the snapshot items are then read after the start. */
  readonly taken: boolean;
  /**
   * The item will be read from a snapshot if the snapshots can be taken. The warm pre-pass skips
   * these: their downtime does not depend on what they hold, and reading the live folder between
   * snapshot reads only makes restic store their folder metadata again (restic#3041).
   */
  planned(item: { type: string; item: string }): boolean;
  /** Items to read while stopped (no snapshot, or snapshots failed in `auto`). */
  readCold(item: { type: string; item: string }): boolean;
  /** Bind mounts for the restic run of a snapshotted item. */
  mountsOf(item: { type: string; item: string }): { source: string; target: string }[];
  /** Call with the unit stopped: journal, then every snapshot. Throws only in `require`. */
  take(): Promise<void>;
  /** Deletes the snapshots and clears the journal entry; never throws (warnings instead). */
  release(): Promise<void>;
  report(): ItemReadReport[];
}

const NONE: FsSnapshotPlan = { mode: "off", items: [], snapshots: [] };

/**
 * Probes the unit's folders and decides. In `require` mode an item that cannot be snapshotted
 * throws `backup.failed` here, before any container is stopped.
 */
export async function prepareUnitSnapshots(
  port: FsSnapshots | undefined,
  items: DataItemRef[],
  ctx: SnapshotContext,
): Promise<UnitSnapshots> {
  let plan: FsSnapshotPlan = NONE;
  if (ctx.mode !== "off" && items.length > 0) {
    const probes = port ? await port.probe([...new Set(items.flatMap((i) => i.paths))]) : new Map();
    plan = planFsSnapshots(items, probes, ctx);
    const bad = requireViolation(plan);
    if (bad) {
      throw new StowageError(
        "backup.failed",
        `Cannot snapshot every folder of unit '${ctx.unit}' (backup.fs_snapshots: require): ${bad}`,
        "Put the data on btrfs or an LVM logical volume (docs/backup.md), or set backup.fs_snapshots to auto.",
      );
    }
  } else if (ctx.mode === "off") {
    plan = planFsSnapshots(items, new Map(), ctx);
  }
  return new PlannedSnapshots(port, plan, ctx);
}

interface SnapshotContext {
  mode: FsSnapshotMode;
  unit: string;
  backupId: string;
  pid: number;
  now: () => Date;
  warn: (message: string) => void;
  sink: EventSink;
}

const itemKey = (i: { type: string; item: string }) => `${i.type}:${i.item}`;

/** A unit's planned snapshots: taken with the unit stopped, released after its data is read. */
class PlannedSnapshots implements UnitSnapshots {
  #taken = false;
  #created: SnapshotSpec[] = [];
  /** Items whose snapshot failed (read cold instead), with why. */
  readonly #failed = new Map<string, string>();

  readonly #port: FsSnapshots | undefined;
  readonly #ctx: SnapshotContext;

  constructor(port: FsSnapshots | undefined, readonly plan: FsSnapshotPlan, ctx: SnapshotContext) {
    this.#port = port;
    this.#ctx = ctx;
  }

  get taken() {
    return this.#taken;
  }

  #snapItem(i: { type: string; item: string }) {
    return this.plan.items.find((d) =>
      d.type === i.type && d.item === i.item && d.method !== "none"
    );
  }

  // Arrow properties: callers pass these on as plain functions (e.g. to a filter).
  planned = (i: { type: string; item: string }) => this.#snapItem(i) !== undefined;

  readCold = (i: { type: string; item: string }) => !this.#taken || !this.#snapItem(i);

  mountsOf = (i: { type: string; item: string }) => {
    const d = this.#snapItem(i);
    return d && d.method !== "none" ? d.mounts : [];
  };

  async take() {
    const { plan } = this;
    const port = this.#port;
    const ctx = this.#ctx;
    if (plan.snapshots.length === 0 || !port) return;
    await port.record({
      unit: ctx.unit,
      backupId: ctx.backupId,
      pid: ctx.pid,
      since: ctx.now().toISOString(),
      snapshots: plan.snapshots,
    });
    try {
      for (const spec of plan.snapshots) {
        this.#created.push(spec);
        await port.create(spec);
      }
      this.#taken = true;
    } catch (e) {
      const msg = `a filesystem snapshot could not be created: ${errorMessage(e)}`;
      await removeAll(port, this.#created, ctx.warn);
      this.#created = [];
      await this.#clearJournal(port);
      for (const d of plan.items) if (d.method !== "none") this.#failed.set(itemKey(d), msg);
      if (plan.mode === "require") {
        throw new StowageError(
          "backup.failed",
          msg,
          "Nothing was read; the unit is started again.",
        );
      }
      ctx.warn(`${msg}; its folders are read while the unit is stopped`);
    }
  }

  async release() {
    const port = this.#port;
    if (!port || this.#created.length === 0) return;
    const left = await removeAll(port, this.#created, this.#ctx.warn);
    this.#created = [];
    if (left === 0) await this.#clearJournal(port);
  }

  report(): ItemReadReport[] {
    return this.plan.items.map((d) => {
      if (d.method !== "none" && this.#taken) {
        return { type: d.type, item: d.item, read: d.method };
      }
      const reason = this.#failed.get(itemKey(d)) ?? (d.method === "none" ? d.reason : undefined);
      return { type: d.type, item: d.item, read: "cold" as const, ...(reason ? { reason } : {}) };
    });
  }

  async #clearJournal(port: FsSnapshots) {
    await port.clear(this.#ctx.unit).catch((e) =>
      this.#ctx.warn(`could not clear the snapshot journal: ${errorMessage(e)}`)
    );
  }
}

/** Deletes snapshots in reverse order of creation; returns how many could not be deleted. */
async function removeAll(
  port: FsSnapshots,
  specs: SnapshotSpec[],
  warn: (m: string) => void,
): Promise<number> {
  let left = 0;
  for (const spec of [...specs].reverse()) {
    try {
      await port.remove(spec);
    } catch (e) {
      left++;
      warn(`could not delete the snapshot ${describeSnapshot(spec)}: ${errorMessage(e)}`);
    }
  }
  return left;
}

export function describeSnapshot(spec: SnapshotSpec): string {
  return spec.method === "btrfs" ? spec.dest : `${spec.vg}/${spec.name}`;
}

export interface LeftoverResult {
  removed: string[];
  failed: { snapshot: string; error: string }[];
}

/**
 * Deletes every snapshot the journal lists (a run that died between creating and deleting them).
 * Call with the host lock held: a live run owns its entries. Entries naming anything stowage
 * does not create are refused and kept for a person to look at.
 */
export async function cleanLeftovers(port: FsSnapshots): Promise<LeftoverResult> {
  const result: LeftoverResult = { removed: [], failed: [] };
  let entries: FsSnapshotJournalEntry[];
  try {
    entries = await port.entries();
  } catch (e) {
    result.failed.push({ snapshot: "(journal)", error: errorMessage(e) });
    return result;
  }
  for (const entry of entries) {
    let ok = true;
    for (const spec of [...(entry.snapshots ?? [])].reverse()) {
      const name = describeSnapshot(spec);
      if (!isOwnSnapshot(spec)) {
        ok = false;
        result.failed.push({ snapshot: name, error: "not a snapshot stowage creates; left alone" });
        continue;
      }
      try {
        await port.remove(spec);
        result.removed.push(name);
      } catch (e) {
        ok = false;
        result.failed.push({ snapshot: name, error: errorMessage(e) });
      }
    }
    if (ok) await port.clear(entry.unit);
  }
  return result;
}

/** One line per item decision, for dry-run and doctor. */
export function describeDecision(d: ItemDecision): string {
  return d.method === "none"
    ? `no filesystem snapshot: ${d.reason}; read while the unit is stopped`
    : `${d.method} snapshot while stopped, read after the start (from ${
      d.mounts.map((m) => m.source).join(", ")
    })`;
}

/**
 * Decisions for units as a backup would make them now (dry-run, doctor): per unit, whose data
 * items are listed only when it has running containers to stop.
 */
export async function decideUnits(
  port: FsSnapshots | undefined,
  units: { unit: string; stops: boolean; items: DataItemRef[] }[],
  mode: FsSnapshotMode,
): Promise<Map<string, ItemDecision[]>> {
  const paths = [...new Set(units.flatMap((u) => u.stops ? u.items.flatMap((i) => i.paths) : []))];
  const probes = port && mode !== "off" && paths.length ? await port.probe(paths) : new Map();
  const out = new Map<string, ItemDecision[]>();
  for (const u of units) {
    if (!u.stops) {
      out.set(
        u.unit,
        u.items.map((i) => ({
          type: i.type,
          item: i.item,
          method: "none" as const,
          reason: "nothing of the unit runs, so nothing is stopped",
        })),
      );
      continue;
    }
    out.set(
      u.unit,
      planFsSnapshots(u.items, probes, { mode, unit: u.unit, backupId: "dry-run" }).items,
    );
  }
  return out;
}
