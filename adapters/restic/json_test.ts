import assert from "node:assert/strict";
import {
  ignoredIds,
  lines,
  parseBackupLine,
  parseLockIds,
  parseSnapshots,
  parseStats,
  parseVersion,
  resticTime,
  toProgress,
  toSummary,
} from "./json.ts";
import { errorItem } from "./json.ts";

// Output of restic 0.14.0, captured on this machine.
const STATUS =
  '{"message_type":"status","percent_done":0.5,"total_files":4,"files_done":2,"total_bytes":300,"bytes_done":150}';
const SUMMARY =
  '{"message_type":"summary","files_new":1,"files_changed":0,"files_unmodified":0,"dirs_new":1,"dirs_changed":0,"dirs_unmodified":0,"data_blobs":1,"tree_blobs":2,"data_added":706,"total_files_processed":1,"total_bytes_processed":3,"total_duration":0.215571852,"snapshot_id":"787e546e"}';
const ERROR =
  '{"message_type":"error","error":{"Op":"read","Path":"/proc/self/mem","Err":5},"during":"archival","item":"/proc/self/mem"}';
const SNAPSHOTS =
  '[{"time":"2020-01-02T03:04:05Z","tree":"f6f050d906f16a6063c5b17e60a9318d28bd642dcaae6cb19573285577833cba","paths":["/tmp/rt/data"],"hostname":"hh","username":"root","tags":["a=b","c"],"id":"787e546e1274931f17036724ae41a0606accc32d0c08dadcf1964286e427baf0","short_id":"787e546e"},' +
  '{"time":"2026-11-26T02:42:37.62426955Z","tree":"0a5c","paths":["/x"],"hostname":"vm","username":"root","id":"e0983b87aa","short_id":"e0983b87"}]';

Deno.test("backup --json lines: status, summary and error messages are typed", () => {
  const s = parseBackupLine(STATUS);
  assert.equal(s?.message_type, "status");
  if (s?.message_type !== "status") throw new Error("unreachable");
  assert.deepEqual(toProgress(s), {
    percentDone: 0.5,
    totalFiles: 4,
    filesDone: 2,
    totalBytes: 300,
    bytesDone: 150,
  });
  const first = parseBackupLine('{"message_type":"status","percent_done":0,"total_files":1}');
  assert.equal(first?.message_type, "status");

  const m = parseBackupLine(SUMMARY);
  if (m?.message_type !== "summary") throw new Error("summary not parsed");
  assert.equal(m.snapshot_id, "787e546e");
  assert.deepEqual(toSummary(m, "787e546e" + "0".repeat(56)), {
    snapshotId: "787e546e" + "0".repeat(56),
    filesNew: 1,
    filesChanged: 0,
    filesUnmodified: 0,
    dataAdded: 706,
    totalFilesProcessed: 1,
    totalBytesProcessed: 3,
    durationSeconds: 0.215571852,
  });

  const e = parseBackupLine(ERROR);
  if (e?.message_type !== "error") throw new Error("error not parsed");
  assert.equal(errorItem(e), "/proc/self/mem");
  assert.equal(errorItem({ message_type: "error", error: { Path: "/p" } }), "/p");
});

Deno.test("non-JSON, unknown and malformed lines are skipped", () => {
  assert.equal(parseBackupLine("using parent snapshot 06065eea"), undefined);
  assert.equal(parseBackupLine('{"message_type":"verbose_status","action":"new"}'), undefined);
  assert.equal(parseBackupLine('{"message_type":"summary"}'), undefined);
  assert.equal(parseBackupLine("{not json"), undefined);
  assert.equal(parseBackupLine(""), undefined);
});

Deno.test("snapshots --json parses, with and without tags", () => {
  const s = parseSnapshots(SNAPSHOTS);
  assert.equal(s.length, 2);
  assert.deepEqual(s[0].tags, ["a=b", "c"]);
  assert.equal(s[0].hostname, "hh");
  assert.equal(s[1].tags, undefined);
  assert.deepEqual(parseSnapshots("[]"), []);
  assert.deepEqual(parseSnapshots("null"), []);
  assert.deepEqual(parseSnapshots(""), []);
  assert.throws(() => parseSnapshots("oops"), (e: Error) => /unexpected output/.test(e.message));
  assert.throws(
    () => parseSnapshots('[{"id":1}]'),
    (e: Error) => /unexpected output/.test(e.message),
  );
});

Deno.test("stats, version, lock ids and ignored ids", () => {
  assert.deepEqual(parseStats('{"total_size":6,"total_file_count":3,"snapshots_count":2}'), {
    totalSize: 6,
    totalFileCount: 3,
  });
  assert.equal(parseVersion("restic 0.14.0 compiled with go1.19.8 on linux/amd64\n"), "0.14.0");
  assert.equal(parseVersion("restic 0.17.3 compiled with go1.23.3 on linux/amd64"), "0.17.3");
  assert.throws(() => parseVersion("something else"));
  const id = "a93bde35c1c2bc93593d47d27d8eb7d81423b4d63d0038448048f7dd0fc7025f";
  assert.deepEqual(parseLockIds(`${id}\n\n`), [id]);
  assert.deepEqual(parseLockIds(""), []);
  assert.deepEqual(
    ignoredIds(['Ignoring "e0983b87": no matching ID found for prefix "e0983b87"', "other"]),
    ["e0983b87"],
  );
});

Deno.test("resticTime writes the instant in UTC, seconds precision", () => {
  assert.equal(resticTime(new Date("2021-03-04T05:06:07Z")), "2021-03-04 05:06:07");
  assert.equal(resticTime(new Date("2021-03-04T05:06:07.999+02:00")), "2021-03-04 03:06:07");
  assert.equal(resticTime(new Date("0999-12-31T23:59:59Z")), "0999-12-31 23:59:59");
  assert.throws(() => resticTime(new Date("nope")));
});

Deno.test("lines() splits across chunk boundaries and multi-byte characters", async () => {
  const bytes = new TextEncoder().encode("a\nbé\nlast");
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.length; i++) c.enqueue(bytes.subarray(i, i + 1));
      c.close();
    },
  });
  const out: string[] = [];
  for await (const l of lines(stream)) out.push(l);
  assert.deepEqual(out, ["a", "bé", "last"]);
});
