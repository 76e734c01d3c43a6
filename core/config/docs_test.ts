import assert from "node:assert/strict";
import { configJsonSchema, configKeys, renderConfigDocs } from "./docs.ts";
import { editorCommand } from "./edit.ts";
import { newConfigDocument } from "./new.ts";
import { checkConfig } from "./validate.ts";

Deno.test("configJsonSchema: a draft 2020-12 object schema with descriptions, closed to unknown keys", () => {
  const s = configJsonSchema();
  assert.equal(s.$schema, "https://json-schema.org/draft/2020-12/schema");
  assert.equal(s.type, "object");
  assert.equal(s.additionalProperties, false);
  assert.ok(s.properties?.repository?.properties?.location?.description);
  assert.equal(s.properties?.backup?.properties?.stop_timeout?.maximum, 3600);
  // io "input": keys with defaults are optional to write.
  assert.ok(!(s.required as string[] | undefined)?.includes("backup"));
});

Deno.test("configKeys: every key has a type and a description", () => {
  const keys = configKeys();
  assert.ok(keys.length > 40);
  for (const k of keys) {
    assert.ok(k.type && k.type !== "any", `${k.key} has no type`);
    assert.ok(k.description.trim().length > 0, `${k.key} has no description`);
  }
  const byKey = Object.fromEntries(keys.map((k) => [k.key, k]));
  assert.equal(byKey["backup.stop_timeout"].default, "30");
  assert.equal(byKey["backup.stop_timeout"].type, "integer (1–3600)");
  assert.ok(byKey["hooks.pre_backup[].run"]);
  assert.ok(byKey["units.<name>.volumes.<name>.skip"]);
});

Deno.test("renderConfigDocs names every top-level key of the schema", () => {
  const md = renderConfigDocs();
  for (const key of Object.keys(configJsonSchema().properties ?? {})) {
    assert.ok(md.includes(`\`${key}\``), key);
  }
});

Deno.test("newConfigDocument is valid and holds only what was chosen plus everyday knobs", () => {
  const plain = newConfigDocument();
  assert.equal(plain.repository, undefined, "the embedded default repository stays implicit");
  assert.ok(checkConfig(plain).ok);
  const chosen = newConfigDocument({
    repository: "sftp:b@nas:/r",
    passwordFile: "/etc/p",
    scope: "full",
  });
  const r = checkConfig(chosen);
  assert.ok(r.ok);
  assert.equal(r.config.repository.location, "sftp:b@nas:/r");
  assert.equal(r.config.repository.password_file, "/etc/p");
  assert.equal(r.config.backup.scope, "full");
});

Deno.test("editorCommand: VISUAL before EDITOR before vi, run through sh with the file as $1", () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  assert.deepEqual(editorCommand(env({}), "/tmp/c.yaml"), {
    editor: "vi",
    program: "sh",
    args: ["-c", 'vi "$@"', "vi", "/tmp/c.yaml"],
  });
  assert.equal(editorCommand(env({ EDITOR: "nano -w" }), "/f").args[1], 'nano -w "$@"');
  assert.equal(
    editorCommand(env({ EDITOR: "nano", VISUAL: "code --wait" }), "/f").editor,
    "code --wait",
  );
  assert.equal(editorCommand(env({ EDITOR: "  ", VISUAL: "" }), "/f").editor, "vi");
});
