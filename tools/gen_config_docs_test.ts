import assert from "node:assert/strict";
import { formattedConfigDocs } from "./gen_config_docs.ts";

Deno.test("docs/config.md is what `deno task docs` generates from the schema", async () => {
  const committed = await Deno.readTextFile(new URL("../docs/config.md", import.meta.url));
  assert.ok(
    committed === await formattedConfigDocs(),
    "docs/config.md is out of date: run `deno task docs` and commit the result",
  );
});
