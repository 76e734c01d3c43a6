import assert from "node:assert/strict";
import { treeOverhead } from "./counts.ts";

Deno.test("restic's count of a snapshot includes each saved folder and its ancestors, shared ones once", () => {
  assert.equal(treeOverhead(["/var/lib/docker/volumes/a/_data"]), 6);
  assert.equal(
    treeOverhead(["/var/lib/docker/volumes/a/_data", "/var/lib/docker/volumes/b/_data", "/srv/x"]),
    4 + 2 + 2 + 2,
  );
  assert.equal(treeOverhead(["/"]), 0);
});
