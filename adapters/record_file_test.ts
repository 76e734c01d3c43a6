import assert from "node:assert/strict";
import { RecordFile } from "./record_file.ts";

type R = { id: string; n: number };

Deno.test("RecordFile: one record per id, the file gone when empty, 0600", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-records-" });
  try {
    const f = new RecordFile<R>(`${dir}/j.json`, "entries", (r) => r.id);
    assert.deepEqual(await f.read(), []);
    await f.put({ id: "a", n: 1 });
    await f.put({ id: "b", n: 2 });
    await f.put({ id: "a", n: 3 });
    assert.deepEqual(await f.read(), [{ id: "b", n: 2 }, { id: "a", n: 3 }]);
    assert.equal((await Deno.stat(`${dir}/j.json`)).mode! & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/j.json`)).entries.length, 2);
    await f.remove("b");
    await f.remove("a");
    await assert.rejects(Deno.stat(`${dir}/j.json`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RecordFile: an unreadable file is kept aside (keep) or fails the read (throw)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-records-" });
  try {
    await Deno.writeTextFile(`${dir}/k.json`, "{ not json");
    await Deno.writeTextFile(`${dir}/t.json`, "{ not json");
    const keep = new RecordFile<R>(`${dir}/k.json`, "entries", (r) => r.id);
    assert.deepEqual(await keep.read(), []);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.ok(names.some((n) => n.startsWith("k.json.unreadable-")), names.join(", "));
    const strict = new RecordFile<R>(`${dir}/t.json`, "entries", (r) => r.id, "throw");
    await assert.rejects(strict.read(), SyntaxError);
    assert.equal(await Deno.readTextFile(`${dir}/t.json`), "{ not json");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
