import assert from "node:assert/strict";
import { LocalRestoreFiles } from "./restore_files.ts";

async function sh(cmd: string, ...args: string[]) {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  assert.ok(out.success, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

Deno.test("mountOf: the mount point holding a folder, through symlinks and folders not yet created", async () => {
  const files = new LocalRestoreFiles();
  const dir = await Deno.makeTempDir({ prefix: "stowage-mountof-" });
  await Deno.mkdir(`${dir}/m`);
  await sh("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", `${dir}/m`);
  try {
    await Deno.symlink(`${dir}/m`, `${dir}/link`);
    assert.equal(await files.mountOf(`${dir}/m/not/yet`), `${dir}/m`);
    assert.equal(await files.mountOf(`${dir}/link/new`), `${dir}/m`);
    const outside = await files.mountOf(`${dir}/other`);
    assert.equal(typeof outside, "string");
    assert.notEqual(outside, `${dir}/m`);
  } finally {
    await sh("umount", `${dir}/m`);
    await Deno.remove(dir, { recursive: true });
  }
});
