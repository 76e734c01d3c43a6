import assert from "node:assert/strict";
import { clock, middleTruncate, progressLine } from "./progress.ts";

const MiB = 1024 * 1024;
const view = {
  unit: "nextcloud",
  item: "nextcloud_nextcloud-data-with-a-long-name",
  progress: { percentDone: 0.45, bytesDone: 450 * MiB, totalBytes: 1000 * MiB, filesDone: 10 },
  elapsedSeconds: 9,
};

Deno.test("progress line: everything at 120 columns (bytes, rate, ETA, elapsed, the whole name, a bar when it fits)", () => {
  const l = progressLine(view, 120);
  assert.equal(
    l,
    "[nextcloud] nextcloud_nextcloud-data-with-a-long-name  45%  450.0 MiB/1000.0 MiB  ETA 0:11  50.0 MiB/s  0:09 elapsed",
  );
  assert.ok(l.length < 120);
  // The bar only where there is room for it.
  assert.equal(
    progressLine({ ...view, item: "db_data" }, 120),
    "[nextcloud] db_data  [#######.........]  45%  450.0 MiB/1000.0 MiB  ETA 0:11  50.0 MiB/s  0:09 elapsed",
  );
});

Deno.test("progress line: never wider than the terminal; the name is cut in the middle before figures go", () => {
  for (let cols = 20; cols <= 160; cols++) {
    const l = progressLine(view, cols);
    assert.ok(l.length <= cols - 1, `${cols}: ${l} (${l.length})`);
  }
  const at80 = progressLine(view, 80);
  assert.match(
    at80,
    /^\[nextcl.*….*name {2}45% {2}450\.0 MiB\/1000\.0 MiB {2}ETA 0:11 {2}50\.0 MiB\/s {2}0:09 elapsed$/,
  );
  const at50 = progressLine(view, 50);
  assert.match(at50, /…/);
  assert.match(at50, /45% {2}450\.0 MiB\/1000\.0 MiB {2}ETA 0:11$/, at50);
});

Deno.test("progress line: before restic knows the total, no ETA is invented", () => {
  const l = progressLine({ ...view, progress: { percentDone: 0 }, elapsedSeconds: 0 }, 120);
  assert.match(l, /0% {2}0 B {2}ETA \? {2}0:00 elapsed$/);
});

Deno.test("clock and middle truncation", () => {
  assert.equal(clock(75), "1:15");
  assert.equal(clock(3725), "1:02:05");
  assert.equal(middleTruncate("abcdefghij", 7), "abc…hij");
  assert.equal(middleTruncate("abc", 7), "abc");
  assert.equal(middleTruncate("abcdef", 1), "a");
});
