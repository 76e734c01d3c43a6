import assert from "node:assert/strict";
import { manifestMismatches, parseManifest } from "./manifest.ts";
import { sampleBundle } from "./testing.ts";

Deno.test("manifest: parses what the planner writes", () => {
  const m = sampleBundle().manifest;
  assert.deepEqual(parseManifest(JSON.stringify(m), "b"), m);
});

Deno.test("manifest: malformed JSON, bad fields and duplicate names are one clear line each", () => {
  const m = sampleBundle().manifest;
  assert.throws(() => parseManifest("{", "b"), /manifest.json is not valid JSON/);
  assert.throws(
    () => parseManifest(JSON.stringify({ ...m, files: [{ ...m.files[0], sha256: "xyz" }] }), "b"),
    /malformed \(at 'files.0.sha256'/,
  );
  assert.throws(
    () =>
      parseManifest(
        JSON.stringify({ ...m, files: [{ ...m.files[0], name: "../../etc/passwd" }] }),
        "b",
      ),
    /malformed/,
  );
  assert.throws(
    () =>
      parseManifest(
        JSON.stringify({ ...m, files: [{ ...m.files[0], install_path: "relative/path" }] }),
        "b",
      ),
    /malformed/,
  );
  assert.throws(
    () => parseManifest(JSON.stringify({ ...m, files: [m.files[0], m.files[0]] }), "b"),
    /lists 'README.txt' twice/,
  );
});

Deno.test("manifest: mismatches name each file and what is wrong", () => {
  const m = sampleBundle().manifest;
  const seen = m.files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256 }));
  assert.deepEqual(manifestMismatches(m, seen), []);
  const bad = seen.slice(1).map((s) => (s.name === "recover.sh" ? { ...s, size: s.size + 1 } : s));
  bad.push({ name: "files/surprise", size: 1, sha256: "0".repeat(64) });
  assert.deepEqual(manifestMismatches(m, bad), [
    "README.txt is missing",
    `recover.sh has ${seen[1].size + 1} bytes, the manifest says ${seen[1].size}`,
    "files/surprise is not in the manifest",
  ]);
});
