import { isInternalUnit } from "../../core/backup/plan.ts";
import type { AdminCommand } from "./admin.ts";
import type { Runtime } from "../runtime.ts";
import { globals } from "../mod.ts";
import { formatBytes, formatDuration, printJson, table } from "../output.ts";
import { parseSnapshot } from "../../core/tags.ts";
import { restorePoints, unitsIn } from "../../core/restore/points.ts";
import { discoverUnits } from "../../core/discovery.ts";
import { errorMessage, StowageError } from "../../core/errors.ts";
import { closestN } from "../../core/text.ts";
import type { Unit } from "../../core/model.ts";
import { buildDryRun } from "./dry_run.ts";
import { parseScope } from "./backup.ts";

export function registerAdminSnapshot(admin: AdminCommand, rt: Runtime) {
  const snap = admin.command("snapshot").description(
    "List restore points and estimate backup sizes.",
  );

  snap
    .command("list")
    .description(
      "Units with their restore points (grouped by backup_id, newest first): time, scope, snapshot types, sizes.",
    )
    .option("-u, --unit <name>", "only this unit")
    .option("--no-sizes", "skip the size of each restore point (one restic call per point)")
    .option("--json", "print one JSON document")
    .action(async (opts, cmd) => {
      const loaded = await rt.loadConfig(globals(cmd));
      const repo = await rt.repository(loaded, { prepare: false });
      const snaps = (await repo.snapshots({ tags: ["stowage"] })).map(parseSnapshot);
      // The Engine adds kind and counts for units present on this host; a new host has none yet.
      let live: Unit[] = [];
      let engineNote: string | undefined;
      try {
        live = discoverUnits(await rt.engine(loaded).gatherState());
      } catch (e) {
        engineNote = `Docker Engine not reachable (${
          errorMessage(e)
        }): showing the repository only.`;
      }
      let names = [
        ...new Set([
          ...unitsIn(snaps).filter((u) => !isInternalUnit(u)),
          ...live.map((u) => u.name),
        ]),
      ].sort();
      if (opts.unit) {
        if (!names.includes(opts.unit)) {
          const near = closestN(opts.unit, names, 3);
          throw new StowageError(
            "unit.notfound",
            `Unknown unit '${opts.unit}'${
              near.length ? `; did you mean ${near.map((n) => `'${n}'`).join(", ")}?` : ""
            }`,
            "`stowage admin snapshot list` shows every unit.",
          );
        }
        names = [opts.unit];
      }
      const units = [];
      for (const name of names) {
        const u = live.find((x) => x.name === name);
        const points = restorePoints(snaps, name);
        const rows = [];
        for (const p of points) {
          let size: number | undefined;
          if (opts.sizes) {
            size = (await repo.stats({
              snapshotIds: p.snapshots.map((s) => s.id),
              mode: "restore-size",
            }).catch(() => undefined))?.totalSize;
          }
          rows.push({
            backupId: p.backupId,
            time: p.time,
            host: p.host,
            kind: p.kind,
            scope: p.scope ?? null,
            types: [...new Set(p.snapshots.map((s) => s.type))].sort(),
            snapshots: p.snapshots.map((s) => s.id),
            sizeBytes: size ?? null,
          });
        }
        units.push({
          unit: name,
          kind: u?.kind ?? null,
          onThisHost: !!u,
          containers: u?.containers.length ?? null,
          volumes: u?.volumes.length ?? null,
          latestBackup: rows.find((r) => r.kind === "backup")?.backupId ?? null,
          restorePoints: rows,
        });
      }
      if (opts.json) return printJson(rt, { units, note: engineNote ?? null });
      if (engineNote) rt.writeErr(`note: ${engineNote}\n`);
      if (units.length === 0) {
        return rt.write("No units and no snapshots yet. Run `stowage backup`.\n");
      }
      rt.write(table([
        ["UNIT", "KIND", "CONTAINERS", "VOLUMES", "LATEST BACKUP", "POINTS"],
        ...units.map((
          u,
        ) => [
          u.unit,
          u.onThisHost ? String(u.kind) : "(not on this host)",
          String(u.containers ?? "-"),
          String(u.volumes ?? "-"),
          u.latestBackup ?? "never",
          String(u.restorePoints.length),
        ]),
      ]));
      for (const u of units.filter((x) => x.restorePoints.length)) {
        rt.write(`\n${u.unit}:\n`);
        rt.write(table([
          ["  BACKUP ID", "TIME", "HOST", "SCOPE", "TYPES", "SIZE"],
          ...u.restorePoints.map((
            p,
          ) => [
            `  ${p.backupId}${p.kind === "pre-restore" ? " (pre-restore)" : ""}`,
            p.time,
            p.host,
            p.scope ?? "-",
            p.types.join(","),
            p.sizeBytes === null ? "-" : formatBytes(p.sizeBytes),
          ]),
        ]));
      }
    });

  snap
    .command("estimate-size")
    .description(
      "Estimate how much a backup would read per unit (from the folders on this host), and the downtime.",
    )
    .option("-u, --unit <name...>", "only these units")
    .option("-s, --scope <scope>", "minimal, standard or full")
    .option("--json", "print one JSON document")
    .action(async (opts, cmd) => {
      const loaded = await rt.loadConfig(globals(cmd));
      const doc = await buildDryRun(rt, loaded, {
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
      rt.write(
        table([
          ["UNIT", "SCOPE", "SIZE", "EST. DOWNTIME"],
          ...units.map((
            u,
          ) => [u.unit, u.scope, formatBytes(u.bytes), formatDuration(u.estimatedDowntimeMs)]),
        ]),
      );
      rt.write(
        `\ntotal: ${
          formatBytes(total)
        } to read (the first backup stores about that much; later ones only what changed)\n`,
      );
    });
}
