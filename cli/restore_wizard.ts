/**
 * `stowage restore`'s wizard: on a terminal, asks what only a person can decide (unit, restore
 * point, parts, target, conflicts, confirmation). Prompts draw on stderr; a cancel changes nothing.
 */
import { promptContext } from "./prompt_output.ts";
import process from "node:process";
import { StowageError } from "../core/errors.ts";
import { holdsNetworks, isUsable, type RestorePoint, unitsIn } from "../core/restore/points.ts";
import { pointLine } from "./points_view.ts";
import { type Conflict, type Part, PARTS, type RestoreOptions } from "../core/restore/plan.ts";
import { absolute, checkToDir } from "./parse.ts";
import { pointsOf } from "../core/restore/load.ts";

export class RestoreWizard {
  private constructor(
    private readonly p: typeof import("@inquirer/prompts"),
    // Prompts draw on stderr so stdout stays clean for output.
    private readonly ctx: ReturnType<typeof promptContext>,
  ) {}

  static async load(rt: Parameters<typeof promptContext>[0]): Promise<RestoreWizard> {
    return new RestoreWizard(await import("@inquirer/prompts"), promptContext(rt));
  }

  private async ask<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof Error && (e.name === "ExitPromptError" || e.name === "AbortPromptError")) {
        // Ctrl-C: one line says it all (no hint), on a line of its own below the prompt.
        process.stderr.write("\n");
        throw new StowageError("interrupted", "Restore cancelled; nothing was changed");
      }
      throw e;
    }
  }

  /** With copies configured (docs/copies.md): the primary repository (undefined) or a copy's name. */
  source(copies: string[]): Promise<string | undefined> {
    return this.ask(() =>
      this.p.select<string | undefined>({
        message: "Restore from which repository?",
        choices: [
          { name: "the primary repository", value: undefined },
          ...copies.map((c) => ({ name: `copy ${c}`, value: c })),
        ],
        default: undefined,
      }, this.ctx)
    );
  }

  unit(units: string[], snapshots: Parameters<typeof unitsIn>[0]): Promise<string> {
    if (units.length === 0) {
      throw new StowageError(
        "unit.notfound",
        "Cannot restore: the repository holds no stowage backups",
        "Run `stowage backup` first, or check --config.",
      );
    }
    return this.ask(() =>
      this.p.select({
        message: "Which unit?",
        choices: units.map((u) => {
          const points = pointsOf(snapshots, u);
          const latest = points.find((p) => p.kind === "backup" && isUsable(p));
          return {
            name: `${u}  (${points.length} restore point(s), latest complete ${
              latest?.backupId ?? "none"
            })`,
            value: u,
          };
        }),
      }, this.ctx)
    );
  }

  /** Incomplete points are shown but cannot be chosen unless --allow-incomplete was given. */
  point(points: RestorePoint[], now: Date, allowIncomplete: boolean): Promise<RestorePoint> {
    return this.ask(() =>
      this.p.select({
        message: "Which restore point? (newest first)",
        choices: points.map((p) => ({
          name: pointLine(p, now),
          value: p,
          disabled: p.status === "incomplete" && !allowIncomplete
            ? "(incomplete: --backup-id ID --allow-incomplete)"
            : false,
        })),
        default: points.find((p) => p.kind === "backup" && isUsable(p)),
        pageSize: 12,
      }, this.ctx)
    );
  }

  async what(point: RestorePoint, options: RestoreOptions) {
    const available: Part[] = point.kind === "pre-restore"
      ? ["volumes"]
      : PARTS.filter((p) =>
        p === "volumes"
          ? point.volumes.length + point.binds.length > 0
          : p === "recipe"
          ? !!point.recipe
          : holdsNetworks(point)
      );
    const choice = await this.ask(() =>
      this.p.select<"everything" | Part>({
        message: "What to restore?",
        choices: [
          { name: "everything", value: "everything" },
          ...available.map((p) => ({ name: p, value: p })),
        ],
      }, this.ctx)
    );
    options.parts = choice === "everything" ? [] : [choice];
    if (choice === "volumes" && point.volumes.length + point.binds.length > 1) {
      const all = [...point.volumes, ...point.binds].map((d) => d.name);
      const picked = await this.ask(() =>
        this.p.checkbox({
          message: "Which volumes and bind folders?",
          choices: all.map((n) => ({ name: n, value: n, checked: true })),
          required: true,
        }, this.ctx)
      );
      options.volumes = picked.length === all.length ? [] : picked;
    }
  }

  async where(options: RestoreOptions, point: RestorePoint) {
    const choice = await this.ask(() =>
      this.p.select({
        message: "Where to?",
        choices: [
          {
            name: "their original places (Docker volumes, networks, compose directory)",
            value: "original",
          },
          { name: "a directory (files only, Docker is not touched)", value: "dir" },
        ],
      }, this.ctx)
    );
    if (choice === "dir") {
      const dir = await this.ask(() =>
        this.p.input({
          message: "Directory:",
          default: `./restore-${point.unit}-${point.backupId}`,
          required: true,
        }, this.ctx)
      );
      await checkToDir(dir);
      options.toDir = absolute(dir);
    }
  }

  confirm(message: string, def: boolean): Promise<boolean> {
    return this.ask(() => this.p.confirm({ message, default: def }, this.ctx));
  }

  /** Asks about conflicts a person can decide; false when none of them can be settled here. */
  async settle(conflicts: Conflict[], options: RestoreOptions): Promise<boolean> {
    let changed = false;
    for (const c of conflicts) process.stderr.write(`conflict: ${c.message}\n`);
    if (conflicts.some((c) => c.kind === "network") && options.networks === "refuse") {
      const choice = await this.ask(() =>
        this.p.select({
          message: "A network exists with a different configuration. What to do?",
          choices: [
            {
              name: "recreate it as saved (this unit's containers are reconnected)",
              value: "recreate" as const,
            },
            { name: "keep it as it is", value: "keep" as const },
            { name: "cancel", value: "cancel" as const },
          ],
        }, this.ctx)
      );
      if (choice === "cancel") {
        throw new StowageError(
          "interrupted",
          "Restore cancelled; nothing was changed",
          "Run `stowage restore` again when ready.",
        );
      }
      options.networks = choice;
      changed = true;
    }
    if (conflicts.some((c) => c.kind === "in-use") && !options.stop) {
      if (
        !(await this.confirm(
          "Stop the unit's running containers for the restore (they are started again afterwards)?",
          true,
        ))
      ) {
        throw new StowageError(
          "interrupted",
          "Restore cancelled; nothing was changed",
          "Stop the containers yourself or pass --stop.",
        );
      }
      options.stop = true;
      changed = true;
    }
    const missing = [
      ...new Set(
        conflicts.filter((c) => c.kind === "secret").flatMap((c) =>
          c.message.replace(/.*redacted /, "").split(", ")
        ),
      ),
    ];
    for (const name of missing) {
      if (options.secrets[name] !== undefined) continue;
      options.secrets[name] = await this.ask(() =>
        this.p.password(
          { message: `Value for ${name} (redacted in the backup):`, mask: "*" },
          this.ctx,
        )
      );
      changed = true;
    }
    return changed;
  }
}
