import assert from "node:assert/strict";
import { pointsOfHost } from "./host.ts";
import { isStowageError } from "../errors.ts";

const points = [{ host: "web1", id: 1 }, { host: "web2", id: 2 }, { host: "web1", id: 3 }];

Deno.test("--host keeps only that host's points; without it every point stays", () => {
  assert.deepEqual(pointsOfHost(points, "app", "web1").map((p) => p.id), [1, 3]);
  assert.equal(pointsOfHost(points, "app", undefined).length, 3);
});

Deno.test("--host naming a host without points is snapshot.notfound listing the hosts", () => {
  assert.throws(
    () => pointsOfHost(points, "app", "db9"),
    (e) =>
      isStowageError(e, "snapshot.notfound") && /host 'db9'/.test(e.message) &&
      /web1, web2/.test(e.hint ?? ""),
  );
});
