import assert from "node:assert/strict";
import { LocalRestoreFiles } from "./restore_files.ts";

async function sh(cmd: string, ...args: string[]) {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  assert.ok(out.success, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

Deno.test("mountsOf: the mount point holding each folder, through symlinks and folders not yet created, in one listing", async () => {
  const files = new LocalRestoreFiles();
  const dir = await Deno.makeTempDir({ prefix: "stowage-mountof-" });
  await Deno.mkdir(`${dir}/m`);
  await sh("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", `${dir}/m`);
  try {
    await Deno.symlink(`${dir}/m`, `${dir}/link`);
    const [inside, linked, outside] = await files.mountsOf([
      `${dir}/m/not/yet`,
      `${dir}/link/new`,
      `${dir}/other`,
    ]);
    assert.equal(inside, `${dir}/m`);
    assert.equal(linked, `${dir}/m`);
    assert.equal(typeof outside, "string");
    assert.notEqual(outside, `${dir}/m`);
    assert.deepEqual(await files.mountsOf([]), []);
  } finally {
    await sh("umount", `${dir}/m`);
    await Deno.remove(dir, { recursive: true });
  }
});
