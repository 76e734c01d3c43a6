/**
 * Writes a benchmark report and formats it with `deno fmt`, as `deno task ok` (`deno fmt --check`)
 * wants every markdown file of the repository: a report committed as generated would fail CI.
 */
export async function writeReport(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", path],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno fmt ${path}: ${new TextDecoder().decode(out.stderr)}`);
  }
}
