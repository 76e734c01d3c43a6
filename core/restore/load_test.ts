import assert from "node:assert/strict";
import type { Recipe } from "../recipe.ts";
import { bareUnit } from "./hooks.ts";
import { networksOfRecipe } from "./load.ts";

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
