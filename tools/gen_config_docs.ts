/**
 * Writes docs/config.md from the config schema (`deno task docs`), formatted the way `deno fmt`
 * wants it. With `--check` it writes nothing and exits 1 when the file is out of date, so a
 * test keeps the two in step.
 */
import { renderConfigDocs } from "../core/config/docs.ts";

const target = new URL("../docs/config.md", import.meta.url);

/** Runs the markdown through `deno fmt` so the committed file passes `deno fmt --check`. */
export async function formattedConfigDocs(): Promise<string> {
  const child = new Deno.Command("deno", {
    args: ["fmt", "--ext=md", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(renderConfigDocs()));
  await w.close();
  const out = await child.output();
  if (!out.success) throw new Error(`deno fmt failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

if (import.meta.main) {
  const text = await formattedConfigDocs();
  if (Deno.args.includes("--check")) {
    let current = "";
    try {
      current = await Deno.readTextFile(target);
    } catch { /* missing counts as out of date */ }
    if (current !== text) {
      console.error("docs/config.md is out of date: run `deno task docs`.");
      Deno.exit(1);
    }
    console.log("docs/config.md is up to date.");
  } else {
    await Deno.writeTextFile(target, text);
    console.log(`Wrote ${target.pathname}`);
  }
}
