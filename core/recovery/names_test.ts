import assert from "node:assert/strict";
import { bundleFileName, bundlesToRemove, nextBundleId, parseBundleName } from "./names.ts";

Deno.test("names: a bundle's file name carries its UTC time and parses back", () => {
  const name = bundleFileName("2025-01-31T23-59-59Z");
  assert.equal(name, "stowage-recovery-2025-01-31T23-59-59Z.tar.gz.enc");
  assert.deepEqual(parseBundleName(name), {
    id: "2025-01-31T23-59-59Z",
    time: "2025-01-31T23-59-59Z",
    seq: 1,
  });
  assert.deepEqual(parseBundleName("stowage-recovery-2025-01-31T23-59-59Z-3.tar.gz.enc")?.seq, 3);
  for (
    const other of [
      "notes.txt",
      ".stowage-recovery-2025-01-31T23-59-59Z.tar.gz.enc.tmp-1234",
      "stowage-recovery-x.tar.gz.enc",
    ]
  ) {
    assert.equal(parseBundleName(other), undefined, other);
  }
});

Deno.test("names: two bundles in the same second get -2, -3", () => {
  const now = new Date("2025-01-31T23:59:59.400Z");
  assert.equal(nextBundleId(now, []), "2025-01-31T23-59-59Z");
  assert.equal(
    nextBundleId(now, [bundleFileName("2025-01-31T23-59-59Z")]),
    "2025-01-31T23-59-59Z-2",
  );
  assert.equal(
    nextBundleId(now, [
      bundleFileName("2025-01-31T23-59-59Z"),
      bundleFileName("2025-01-31T23-59-59Z-2"),
    ]),
    "2025-01-31T23-59-59Z-3",
  );
});

Deno.test("rotation: keeps exactly the N newest bundles and never touches other files", () => {
  const files = [
    bundleFileName("2025-01-01T00-00-00Z"),
    "README.md",
    bundleFileName("2025-03-01T00-00-00Z"),
    bundleFileName("2025-02-01T00-00-00Z"),
    bundleFileName("2025-03-01T00-00-00Z-2"),
    ".stowage-recovery-2025-04-01T00-00-00Z.tar.gz.enc.tmp-abcd1234",
    bundleFileName("2024-12-31T23-59-59Z"),
  ];
  assert.deepEqual(bundlesToRemove(files, 3).sort(), [
    bundleFileName("2024-12-31T23-59-59Z"),
    bundleFileName("2025-01-01T00-00-00Z"),
  ]);
  assert.deepEqual(bundlesToRemove(files, 10), []);
  // The last bundle is never removed, whatever the setting says.
  assert.equal(bundlesToRemove(files, 0).length, 4);
  assert.ok(!bundlesToRemove(files, 1).includes(bundleFileName("2025-03-01T00-00-00Z-2")));
});
