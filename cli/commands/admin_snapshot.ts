import { isInternalUnit } from "../../core/backup/plan.ts";
import type { AdminCommand } from "./admin.ts";
import type { LoadedConfig, Runtime } from "../runtime.ts";
import { globals } from "../mod.ts";
import { fitted, formatBytes, formatDuration, printJson, table, tableWidth } from "../output.ts";
import { parseSnapshot } from "../../core/tags.ts";
import { isUsable, type RestorePoint, restorePoints, unitsIn } from "../../core/restore/points.ts";
import {
  contentsOf,
  formatAge,
  INCOMPLETE_NOTE,
  pointJson,
  sizeOf,
  statusOf,
  whenOf,
} from "../points_view.ts";
import { hostUnits } from "../../app/host_units.ts";
import { StowageError } from "../../core/errors.ts";
import { closestN } from "../../core/text.ts";
import type { Unit } from "../../core/model.ts";
import { buildDryRun } from "../../app/dry_run.ts";
import { parseScope } from "../parse.ts";

/** This host's snapshots (or all), and the other hosts the repository holds backups of. */
function hostSnapshots<T extends { hostname: string }>(
  all: T[],
  host: string,
  allHosts: boolean,
): { shown: T[]; otherHosts: string[] } {
  const others = [...new Set(all.map((s) => s.hostname).filter((h) => h !== host))].sort();
  return allHosts
    ? { shown: all, otherHosts: [] }
    : { shown: all.filter((s) => s.hostname === host), otherHosts: others };
}

type SnapshotCommand = ReturnType<AdminCommand["command"]>;

export function registerAdminSnapshot(admin: AdminCommand, rt: Runtime) {
  const snap = admin.command("snapshot").description(
    "List restore points and estimate backup sizes.",
  );
  registerSnapshotList(snap, rt);
  registerSnapshotEstimateSize(snap, rt);
}

interface SnapshotListOptions {
  unit?: string;
  sizes: boolean;
  allHosts?: true;
  json?: true;
}

type Snapshot = ReturnType<typeof parseSnapshot>;

/** One row of `snapshot list`: a unit, what this host knows of it, and its restore points. */
interface UnitRow {
  unit: string;
  kind: Unit["kind"] | null;
  onThisHost: boolean;
  containers: number | null;
  volumes: number | null;
  latestBackup: string | null;
  latestWhen: string | null;
  incomplete: number;
  points: RestorePoint[];
}

interface IgnoredSnapshot {
  snapshot: string;
  unit: string | null;
  backupId: string | null;
  reason: string;
}

function registerSnapshotList(snap: SnapshotCommand, rt: Runtime) {
  snap
    .command("list")
    .description(
      "Units with their restore points (grouped by host and backup_id, newest first): age, completeness, contents, size. Reads the repository once.",
    )
    .option("-u, --unit <name>", "only this unit")
    .option("--no-sizes", "leave the size column out")
    .option("--all-hosts", "every host's restore points, not only this host's (config `host:`)")
    .option("--json", "print one JSON document")
    .action(async (opts, cmd) => await snapshotList(rt, opts, await rt.loadConfig(globals(cmd))));
}

async function snapshotList(rt: Runtime, opts: SnapshotListOptions, loaded: LoadedConfig) {
  const repo = await rt.repository(loaded, { prepare: false });
  const all = (await repo.snapshots({ tags: ["stowage"] })).map(parseSnapshot);
  const { shown: snaps, otherHosts } = hostSnapshots(all, rt.hostname, !!opts.allHosts);
  // The Engine adds kind and counts for units present on this host; a new host has none yet.
  const onHost = await hostUnits(rt.app, loaded);
  const live = "units" in onHost ? onHost.units : [];
  const engineNote = "unreachable" in onHost
    ? `Docker Engine not reachable (${onHost.unreachable}): showing the repository only.`
    : undefined;
  const names = unitNames(snaps, live, opts.unit);
  const now = rt.clock.now();
  const units = names.map((name) => unitRow(name, live, snaps, now));
  // Snapshots whose tags restore refuses (core/tags.ts): listed so tampering is visible.
  const ignored = snaps.filter((s) => s.invalid && (!opts.unit || s.unit === opts.unit))
    .map((s) => ({
      snapshot: s.shortId,
      unit: s.unit ?? null,
      backupId: s.backupId ?? null,
      reason: s.invalid!,
    }));
  if (opts.json) {
    return printJson(rt, {
      units: units.map(({ points, latestWhen: _, ...u }) => ({
        ...u,
        restorePoints: points.map((p) => {
          const row = pointJson(p, now);
          return opts.sizes ? row : { ...row, sizeBytes: null };
        }),
      })),
      ignored,
      host: rt.hostname,
      otherHosts,
      note: engineNote ?? null,
    });
  }
  if (engineNote) rt.writeErr(`note: ${engineNote}\n`);
  if (otherHosts.length) {
    rt.writeErr(
      `note: this repository also holds backups of ${
        otherHosts.join(", ")
      }: \`--all-hosts\` lists them.\n`,
    );
  }
  if (units.length === 0) {
    return rt.write("No units and no snapshots yet. Run `stowage backup`.\n");
  }
  renderSnapshotList(rt, units, ignored, { sizes: opts.sizes, now });
}

/** The units to list: those in the repository and those on this host, or the one asked for. */
function unitNames(snaps: Snapshot[], live: Unit[], unit: string | undefined): string[] {
  const names = [
    ...new Set([
      ...unitsIn(snaps).filter((u) => !isInternalUnit(u)),
      ...live.map((u) => u.name),
    ]),
  ].sort();
  if (!unit) return names;
  if (!names.includes(unit)) {
    const near = closestN(unit, names, 3);
    throw new StowageError(
      "unit.notfound",
      `Unknown unit '${unit}'${
        near.length ? `; did you mean ${near.map((n) => `'${n}'`).join(", ")}?` : ""
      }`,
      "`stowage admin snapshot list` shows every unit.",
    );
  }
  return [unit];
}

function unitRow(name: string, live: Unit[], snaps: Snapshot[], now: Date): UnitRow {
  const u = live.find((x) => x.name === name);
  const points = restorePoints(snaps, name);
  const latest = points.find((p) => p.kind === "backup" && isUsable(p));
  return {
    unit: name,
    kind: u?.kind ?? null,
    onThisHost: !!u,
    containers: u?.containers.length ?? null,
    volumes: u?.volumes.length ?? null,
    latestBackup: latest?.backupId ?? null,
    // The age alone: the restore points below name each backup id.
    latestWhen: latest ? formatAge(now.getTime() - Date.parse(latest.time)) : null,
    incomplete: points.filter((p) => p.status === "incomplete").length,
    points,
  };
}

function renderSnapshotList(
  rt: Runtime,
  units: UnitRow[],
  ignored: IgnoredSnapshot[],
  { sizes, now }: { sizes: boolean; now: Date },
) {
  rt.write(table([
    ["UNIT", "KIND", "CONTAINERS", "VOLUMES", "LAST COMPLETE", "POINTS"],
    ...units.map((u) => [
      u.unit,
      u.onThisHost ? String(u.kind) : "(not on this host)",
      String(u.containers ?? "-"),
      String(u.volumes ?? "-"),
      u.latestWhen ?? "never",
      `${u.points.length}${u.incomplete ? ` (${u.incomplete} incomplete)` : ""}`,
    ]),
  ], tableWidth(rt)));
  for (const u of units.filter((x) => x.points.length)) {
    rt.write(`\n${u.unit}:\n`);
    rt.write(table([
      [
        "  WHEN (BACKUP ID)",
        "STATUS",
        "HOST",
        "SCOPE",
        "CONTENTS",
        ...(sizes ? ["SIZE"] : []),
      ],
      ...u.points.map((p) => [
        `  ${whenOf(p, now)}`,
        statusOf(p),
        p.host,
        p.kind === "pre-restore" ? "-" : p.scope ?? "?",
        contentsOf(p),
        ...(sizes ? [sizeOf(p)] : []),
      ]),
    ], tableWidth(rt)));
  }
  if (units.some((u) => u.incomplete > 0)) rt.write(`\n${fitted(rt, INCOMPLETE_NOTE)}\n`);
  for (const i of ignored) {
    rt.write(
      `\nignored snapshot ${i.snapshot} (unit ${i.unit ?? "?"}, backup id ${
        i.backupId ?? "?"
      }): invalid tags: ${i.reason}\n`,
    );
  }
}

interface SizeEstimate {
  unit: string;
  scope: string;
  bytes: number;
  estimatedDowntimeMs: number;
}

function registerSnapshotEstimateSize(snap: SnapshotCommand, rt: Runtime) {
  snap
    .command("estimate-size")
    .description(
      "Estimate how much a backup would read per unit (from the folders on this host), and the downtime.",
    )
    .option("-u, --unit <name...>", "only these units")
    .option(
      "-s, --scope <scope>",
      "minimal, standard or full (default: the config's backup.scope, standard unless set)",
    )
    .option("--json", "print one JSON document")
    .action(async (opts, cmd) => {
      const loaded = await rt.loadConfig(globals(cmd));
      const doc = await buildDryRun(rt.app, loaded, {
        units: opts.unit,
        scope: parseScope(opts.scope),
      });
      const units = doc.units.map((u) => ({
        unit: u.unit,
        scope: u.scope,
        bytes: u.totalBytes,
        estimatedDowntimeMs: u.estimatedDowntimeMs,
        items: u.items.map((i) => ({ type: i.type, item: i.item, bytes: i.sizeBytes ?? null })),
      }));
      const total = units.reduce((s, u) => s + u.bytes, 0);
      if (opts.json) return printJson(rt, { units, totalBytes: total });
      renderSizeEstimate(rt, units, total);
    });
}

function renderSizeEstimate(rt: Runtime, units: SizeEstimate[], total: number) {
  rt.write(
    table([
      ["UNIT", "SCOPE", "SIZE", "EST. DOWNTIME"],
      ...units.map((
        u,
      ) => [u.unit, u.scope, formatBytes(u.bytes), formatDuration(u.estimatedDowntimeMs)]),
    ], tableWidth(rt)),
  );
  rt.write(
    `\ntotal: ${
      formatBytes(total)
    } to read (the first backup stores about that much; later ones only what changed)\n`,
  );
}
