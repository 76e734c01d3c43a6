import assert from "node:assert/strict";
import type { DataStep } from "./plan.ts";
import { preRestoreGroups, restoreBatches } from "./batch.ts";

const step = (name: string, snapshotId: string, extra: Partial<DataStep> = {}): DataStep => ({
  kind: "volume",
  name,
  snapshotId,
  source: "dir",
  snapshotPath: `/v/${name}`,
  include: `/v/${name}`,
  state: "absent",
  preRestore: false,
  usedBy: [],
  ...extra,
});
const at = (s: DataStep, mount?: string) => ({ step: s, target: `/t/${s.name}`, mount });
const names = (bs: { step: DataStep }[][]) => bs.map((b) => b.map((t) => t.step.name));

Deno.test("the folders of one data snapshot on one mount are restored by one restic process", () => {
  assert.deepEqual(
    names(
      restoreBatches([
        at(step("a", "S"), "/m1"),
        at(step("b", "S"), "/m1"),
        at(step("c", "S"), "/m1"),
      ]),
    ),
    [["a", "b", "c"]],
  );
});

Deno.test("another mount, another snapshot, a whole per-item snapshot or a tar stream is a batch of its own", () => {
  const batches = restoreBatches([
    at(step("a", "S"), "/m1"),
    at(step("b", "S"), "/m2"), // another mount: rename cannot move it
    at(step("c", "T"), "/m1"), // another snapshot
    at(step("d", "S", { include: undefined }), "/m1"), // format 1-2: the snapshot is the folder
    at(step("e", "S", { source: "archive" }), "/m1"),
    at(step("f", "S"), undefined), // mount unknown
    at(step("g", "S"), "/m1"),
  ]);
  assert.deepEqual(names(batches), [["a", "g"], ["b"], ["c"], ["d"], ["e"], ["f"]]);
});

Deno.test("pre-restore saves: one pass for folders apart, another for a folder inside one of them", () => {
  const t = (target: string) => ({ target });
  assert.deepEqual(
    preRestoreGroups([t("/v/a/_data"), t("/srv/x"), t("/srv/x/y"), t("/v/b/_data"), t("/srv")]),
    [[t("/v/a/_data"), t("/srv/x"), t("/v/b/_data")], [t("/srv/x/y")], [t("/srv")]],
  );
  assert.deepEqual(preRestoreGroups([]), []);
});
