import assert from "node:assert/strict";
import { mountOf, parseFindmnt } from "./fs_snapshot.ts";
import { DenoProcessRunner } from "./process.ts";

const COLUMNS = "TARGET,SOURCE,FSROOT,FSTYPE";

Deno.test("a path's mount from the one mount listing is the one findmnt -T names", async () => {
  const runner = new DenoProcessRunner();
  const list = await runner.run("findmnt", ["-J", "-l", "-o", COLUMNS]);
  assert.equal(list.code, 0, list.stderr);
  const mounts = parseFindmnt(list.stdout);
  const dir = await Deno.makeTempDir({ prefix: "stowage-mount-of-" });
  try {
    await Deno.symlink("/proc/self", `${dir}/link`);
    const paths = [
      "/",
      "/proc",
      "/proc/self/fd",
      "/sys/fs/cgroup",
      "/dev/shm",
      "/etc/hostname",
      "/var/lib/docker/volumes",
      "/usr/bin",
      "/var/lib",
      "/run",
      "/dev",
      Deno.cwd(),
      dir,
      `${dir}/link`,
      // every mount point itself, but those other tests create and remove while this runs
      // (containers' overlays and netns, loop devices in temp dirs)
      ...mounts.map((m) => m.target)
        .filter((t) => t !== "/" && !/^\/(var\/lib\/docker|run\/docker|run\/netns|tmp)\//.test(t))
        .slice(0, 40),
    ];
    let compared = 0;
    for (const p of paths) {
      const real = await Deno.realPath(p).catch(() => undefined);
      if (real === undefined) continue; // findmnt -T is still asked for paths that do not resolve
      const r = await runner.run("findmnt", ["-J", "-T", p, "-o", COLUMNS]);
      assert.equal(r.code, 0, `${p}: ${r.stderr}`);
      const named = parseFindmnt(r.stdout)[0];
      // The host's mounts may change between the listing and this question: list again once.
      const now = mountOf(real, mounts)?.target === named?.target
        ? mounts
        : parseFindmnt((await runner.run("findmnt", ["-J", "-l", "-o", COLUMNS])).stdout);
      assert.deepEqual(mountOf(real, now), named, p);
      compared++;
    }
    assert.ok(compared >= 10, `only ${compared} paths compared`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
