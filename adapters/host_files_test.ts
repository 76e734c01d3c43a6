import assert from "node:assert/strict";
import { LocalHostFiles } from "./host_files.ts";
import { DenoProcessRunner } from "./process.ts";
import type { ProcessRunner } from "../core/ports.ts";

/** The real runner, counting the programs it starts. */
function countingRunner() {
  const inner = new DenoProcessRunner();
  const calls: string[][] = [];
  const runner: ProcessRunner = {
    run(program, args, opts) {
      calls.push([program, ...args]);
      return inner.run(program, args, opts);
    },
  };
  return { runner, calls };
}

Deno.test("sizes: one du for separate folders, the same numbers as one du per folder, nested and missing ones alone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-sizes-" });
  try {
    for (
      const [name, bytes] of [["a", 3000], ["b", 70_000], ["c", 10], ["a/inner", 5000]] as const
    ) {
      await Deno.mkdir(`${dir}/${name}`, { recursive: true });
      await Deno.writeFile(`${dir}/${name}/f`, new Uint8Array(bytes));
    }
    await Deno.writeFile(`${dir}/file`, new Uint8Array(1234));
    // A hard link inside one folder counts once, as with a du of that folder alone.
    await Deno.link(`${dir}/b/f`, `${dir}/b/g`);
    const separate = [`${dir}/b`, `${dir}/c`, `${dir}/file`, `${dir}/b`];
    const { runner, calls } = countingRunner();
    const files = new LocalHostFiles(runner);
    const got = await files.sizes(separate);
    assert.deepEqual(calls.map((c) => c[0]), ["du"]);
    const one = new LocalHostFiles(new DenoProcessRunner());
    for (const p of separate) assert.equal(got.get(p), await one.size(p), p);
    assert.ok(got.get(`${dir}/b`)! >= 70_000);

    // a holds a/inner: measured apart, so neither loses what the other holds; a missing path
    // makes the shared call fail, and every path is then measured alone.
    calls.length = 0;
    const mixed = [`${dir}/a`, `${dir}/a/inner`, `${dir}/c`, `${dir}/gone`, `${dir}/file`];
    const got2 = await files.sizes(mixed);
    assert.deepEqual([...got2.keys()].sort(), [...mixed].sort());
    for (const p of mixed) assert.equal(got2.get(p), await one.size(p), p);
    assert.equal(got2.get(`${dir}/gone`), undefined);
    assert.ok(got2.get(`${dir}/a`)! > got2.get(`${dir}/a/inner`)!);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
