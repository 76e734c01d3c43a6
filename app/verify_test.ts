import assert from "node:assert/strict";
import { realRuntime } from "../main.ts";
import { resolvePaths } from "../core/paths.ts";
import { defaultConfig } from "../core/config/schema.ts";
import type { LoadedConfig } from "../core/config/loaded.ts";
import { nullSink } from "../core/events.ts";
import type { BackupRepository, DockerEngine, ProcessRunner } from "../core/ports.ts";
import type { Recipe } from "../core/recipe.ts";
import type { RestorePoint } from "../core/restore/points.ts";
import { bareUnit } from "../core/restore/hooks.ts";
import { runVerify } from "./verify.ts";

const BACKUP_ID = "2025-01-31T02-00-00Z";

function stackRecipe(unit: string): Recipe {
  return {
    format: 4,
    stowageVersion: "0.1.0",
    backupId: BACKUP_ID,
    scope: "standard",
    createdAt: "2025-01-31T02:00:00Z",
    host: "h1",
    unit: bareUnit(unit, "stack"),
    files: [],
    containers: [],
  };
}

function point(unit: string, recipeId: string): RestorePoint {
  const recipe = {
    id: recipeId,
    shortId: recipeId.slice(0, 8),
    time: "2025-01-31T02:00:00Z",
    hostname: "h1",
    paths: ["/recipe.json"],
    tags: [],
    unit,
    type: "recipe" as const,
    backupId: BACKUP_ID,
  };
  return {
    unit,
    backupId: BACKUP_ID,
    host: "h1",
    time: recipe.time,
    kind: "backup",
    recipe,
    volumes: [],
    binds: [],
    snapshots: [recipe],
    status: "complete",
    problems: [],
    format: 4,
  };
}

Deno.test("verify of several stacks detects the compose command once for the run", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "stowage-verify-unit-" });
  try {
    const paths = resolvePaths({
      uid: Deno.uid(),
      env: (n) => (n === "STOWAGE_STATE_DIR" ? stateDir : Deno.env.get(n)),
    });
    const loaded: LoadedConfig = { config: defaultConfig(), paths };
    const real = realRuntime().app;
    // Counts the probes; answers as a host with docker-compose 1.x only (no process runs).
    const probes: string[] = [];
    const runner: ProcessRunner = {
      run: (program, args) => {
        probes.push([program, ...args].join(" "));
        return Promise.resolve({
          code: program === "docker-compose" ? 0 : 1,
          stdout: "",
          stderr: "",
        });
      },
    };
    // Stand-ins: the drill stops at the host's containers, right after it asked for compose.
    const engine = {
      listNetworks: () => Promise.resolve([]),
      listVolumes: () => Promise.resolve([]),
      listImages: () => Promise.resolve([]),
      listContainers: () => Promise.reject(new Error("stand-in engine: stop here")),
    } as unknown as DockerEngine;
    const units = ["shop", "blog", "wiki"];
    const repo = {
      check: () => Promise.resolve(),
      dump: (id: string) =>
        Promise.resolve(
          new TextEncoder().encode(JSON.stringify(stackRecipe(units[Number(id[0])]))),
        ),
    } as unknown as BackupRepository;
    const points = units.map((u, i) => point(u, `${i}`.repeat(64)));
    const { reports } = await runVerify(
      { ...real, runner, engine: () => engine },
      loaded,
      repo,
      points,
      { units, selector: { latest: true }, keep: false, secrets: {} },
      {
        sink: nullSink,
        signal: new AbortController().signal,
        runId: () => crypto.randomUUID().slice(0, 8),
      },
    );
    assert.deepEqual(
      reports.map((r) => [r.unit, r.error?.message]),
      units.map((u) => [u, `Verify of '${u}' failed: stand-in engine: stop here`]),
    );
    assert.deepEqual(probes.filter((p) => p.endsWith(" version")), [
      "docker compose version",
      "docker-compose version",
    ]);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});
