import assert from "node:assert/strict";
import type { Recipe } from "../recipe.ts";
import { bareUnit } from "./hooks.ts";
import { composeDetector, networksOfRecipe } from "./load.ts";
import type { ProcessRunner } from "../ports.ts";

const recipe = (networks: Recipe["unit"]["networks"]): Recipe => ({
  format: 4,
  stowageVersion: "0.1.0",
  backupId: "2025-01-31T02-00-00Z",
  scope: "standard",
  createdAt: "2025-01-31T02:00:00Z",
  host: "h1",
  unit: { ...bareUnit("shop", "stack"), networks },
  files: [],
  containers: [],
});

Deno.test("a format-4 recipe's networks are the networks document; none means no document", () => {
  const net = {
    id: "n1",
    name: "shop_backend",
    driver: "bridge",
    scope: "local",
    internal: false,
    attachable: false,
    enableIPv6: false,
    ipam: { driver: "default", config: [{ subnet: "10.1.2.0/24" }], options: {} },
    options: {},
    labels: {},
    containers: [],
  };
  assert.deepEqual(networksOfRecipe(recipe([net])), {
    format: 4,
    backupId: "2025-01-31T02-00-00Z",
    unit: "shop",
    networks: [net],
  });
  assert.equal(networksOfRecipe(recipe([])), undefined);
});

/** A host with docker-compose 1.x only; counts the processes started (no Docker involved). */
function countingRunner(): { runner: ProcessRunner; started: string[] } {
  const started: string[] = [];
  const runner: ProcessRunner = {
    run: (program, args) => {
      started.push([program, ...args].join(" "));
      const ok = program === "docker-compose";
      return Promise.resolve({ code: ok ? 0 : 1, stdout: "", stderr: "" });
    },
  };
  return { runner, started };
}

Deno.test("verify's drills ask for the compose command each, the probes run once per command run", async () => {
  const { runner, started } = countingRunner();
  const detect = composeDetector(runner);
  // Three stacks' drills, two of them at once.
  const answers = [...await Promise.all([detect(), detect()]), await detect()];
  for (const a of answers) assert.deepEqual(a, ["docker-compose"]);
  assert.deepEqual(started, ["docker compose version", "docker-compose version"]);
  // The next run (a daemon's next drill) looks again: a compose installed meanwhile is seen.
  await composeDetector(runner)();
  assert.equal(started.length, 4);
  // A configured command is the only probe.
  const configured = countingRunner();
  const once = composeDetector(configured.runner, " docker-compose ");
  await once();
  await once();
  assert.deepEqual(configured.started, ["docker-compose version"]);
});
