import assert from "node:assert/strict";
import { isStowageError } from "../../core/errors.ts";
import { loadHookModule } from "./modules.ts";

Deno.test("loadHookModule: missing file, syntax error, bad shape, good module", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-hookmod-" });
  try {
    await assert.rejects(
      () => loadHookModule(`${dir}/none.ts`),
      (e) => isStowageError(e, "hook.failed") && /does not exist/.test(e.message),
    );
    await Deno.writeTextFile(`${dir}/bad.ts`, "export default {\n  sdk: 1,\n  preBackup( {\n};\n");
    await assert.rejects(() => loadHookModule(`${dir}/bad.ts`), (e) => {
      assert.ok(isStowageError(e, "hook.failed"));
      assert.match(
        e.message,
        new RegExp(`Cannot load hook module '${dir}/bad.ts': .*\\(at ${dir}/bad.ts:\\d+:\\d+\\)`),
      );
      return true;
    });
    await Deno.writeTextFile(`${dir}/shape.ts`, "export default { sdk: 1, prebackup() {} };\n");
    await assert.rejects(() => loadHookModule(`${dir}/shape.ts`), /did you mean 'preBackup'/);
    await Deno.writeTextFile(`${dir}/good.ts`, "export default { sdk: 1, preBackup() {} };\n");
    const m = await loadHookModule(`${dir}/good.ts`);
    assert.equal(m.name, "good.ts");
    // An edited file is imported again (the daemon keeps running between backups).
    await Deno.writeTextFile(
      `${dir}/good.ts`,
      "export default { sdk: 1, name: 'renamed', preBackup() {} };\n",
    );
    assert.equal((await loadHookModule(`${dir}/good.ts`)).name, "renamed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
