import assert from "node:assert/strict";
import type { ContainerInfo, Unit } from "./model.ts";
import { orderPlan, startOrder, stopOrder } from "./order.ts";

/** A compose container of `service` with container number `n`. */
function ctr(
  service: string | undefined,
  n = 1,
  name = service ? `proj_${service}_${n}` : "solo",
): ContainerInfo {
  return {
    id: `id-${name}`,
    name,
    ...(service ? { service } : {}),
    image: "img",
    imageId: "sha256:1",
    state: "running",
    running: true,
    hasHealthcheck: false,
    labels: service
      ? { "com.docker.compose.service": service, "com.docker.compose.container-number": String(n) }
      : {},
    mounts: [],
    networks: {},
    networkMode: "default",
  };
}

function unit(
  containers: ContainerInfo[],
  dependsOn: Record<string, string[]>,
): Pick<Unit, "containers" | "dependsOn"> {
  return { containers, dependsOn };
}

Deno.test("dependencies start first and stop last (web -> app -> db)", () => {
  const u = unit([ctr("web"), ctr("app"), ctr("db")], { web: ["app"], app: ["db"], db: [] });
  assert.deepEqual(startOrder(u), ["proj_db_1", "proj_app_1", "proj_web_1"]);
  assert.deepEqual(stopOrder(u), ["proj_web_1", "proj_app_1", "proj_db_1"]);
  assert.deepEqual(orderPlan(u).notes, []);
});

Deno.test("independent services are ordered by name, stably", () => {
  const u = unit([ctr("zeta"), ctr("alpha"), ctr("mid"), ctr("db")], {
    zeta: ["db"],
    alpha: [],
    mid: ["db"],
    db: [],
  });
  // alpha and db are both ready first; then mid and zeta once db is up.
  assert.deepEqual(orderPlan(u).services, ["alpha", "db", "mid", "zeta"]);
  // The input order does not matter.
  const shuffled = unit([...u.containers].reverse(), u.dependsOn);
  assert.deepEqual(startOrder(shuffled), startOrder(u));
});

Deno.test("a service's containers go by container number, not by name", () => {
  const u = unit([ctr("worker", 10), ctr("worker", 2), ctr("worker", 1), ctr("db")], {
    worker: ["db"],
    db: [],
  });
  assert.deepEqual(startOrder(u), [
    "proj_db_1",
    "proj_worker_1",
    "proj_worker_2",
    "proj_worker_10",
  ]);
  assert.deepEqual(stopOrder(u), ["proj_worker_10", "proj_worker_2", "proj_worker_1", "proj_db_1"]);
});

Deno.test("dependencies on services without containers, and on itself, are ignored", () => {
  const u = unit([ctr("app"), ctr("db")], { app: ["db", "gone", "app"], db: ["profile-only"] });
  assert.deepEqual(startOrder(u), ["proj_db_1", "proj_app_1"]);
  assert.deepEqual(orderPlan(u).notes, []);
});

Deno.test("a cycle does not hang: it is broken deterministically and noted", () => {
  const u = unit([ctr("a"), ctr("b"), ctr("c")], { a: ["b"], b: ["c"], c: ["a"] });
  const plan = orderPlan(u);
  assert.deepEqual(plan.services, ["a", "c", "b"]);
  assert.equal(plan.notes.length, 1);
  assert.match(plan.notes[0], /cycle between services a, b, c: started 'a' before 'b'/);
  assert.deepEqual(orderPlan(unit([...u.containers].reverse(), u.dependsOn)), plan);
});

Deno.test("a cycle is broken inside the cycle, not at a service that merely depends on it", () => {
  // app depends on the cycle db <-> replica; it must still start after replica. Breaking the tie
  // at 'app' (first by name, one unmet dependency like the others) would start it too early.
  const u = unit([ctr("app"), ctr("db"), ctr("replica")], {
    app: ["replica"],
    db: ["replica"],
    replica: ["db"],
  });
  const plan = orderPlan(u);
  assert.deepEqual(plan.services, ["db", "replica", "app"]);
  assert.match(plan.notes[0], /services db, replica: started 'db' before 'replica'/);
});

Deno.test("two separate cycles give two notes", () => {
  const u = unit(
    [ctr("a"), ctr("b"), ctr("x"), ctr("y")],
    { a: ["b"], b: ["a"], x: ["y"], y: ["x"] },
  );
  const plan = orderPlan(u);
  assert.equal(plan.start.length, 4);
  assert.equal(plan.notes.length, 2);
});

Deno.test("a standalone unit is its one container", () => {
  const u = unit([ctr(undefined)], {});
  assert.deepEqual(startOrder(u), ["solo"]);
  assert.deepEqual(stopOrder(u), ["solo"]);
});
