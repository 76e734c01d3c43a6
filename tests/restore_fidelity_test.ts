/**
 * Fidelity: a volume tree holding every attribute a restore must keep survives backup, destroying
 * the stack with its volumes and networks, and `restore --latest --start --yes` unchanged
 * (real dockerd, restic, docker-compose; compared with tests/support/tree.ts).
 */
import assert from "node:assert/strict";
import { createFixtureStack } from "./support/fixture.ts";
import { cleanupDocker, docker, sh } from "./support/docker.ts";
import { stowage } from "./support/cli.ts";
import { testRepoEnv } from "./support/repo.ts";
import { buildFidelityTree, describeTree, diffTrees } from "./support/tree.ts";

const mountpoint = async (volume: string) =>
  (await docker("volume", "inspect", "-f", "{{.Mountpoint}}", volume)).stdout.trim();

Deno.test("every attribute of a volume tree survives backup, destruction and restore --latest --start --yes", async () => {
  const s = await createFixtureStack({ name: "fid" });
  const env = await testRepoEnv();
  try {
    await s.up();
    const before = await mountpoint(s.volume("app_data"));
    await buildFidelityTree(before, { bigMiB: 50, smallFiles: 3000 });
    // Sparse files come back dense with restic 0.14 (docs/restore.md): content and size still match.
    await sh("bash", [
      "-c",
      `truncate -s 20M "${before}/big/sparse.bin" && printf tail >> "${before}/big/sparse.bin"`,
    ]);
    const expected = await describeTree(before);
    assert.ok(expected.size > 3000);

    const b = await stowage(["backup", "--unit", s.project, "--json"], { env: env.env });
    assert.equal(b.code, 0, b.stderr);

    await s.down();
    const nets = (await docker("network", "ls", "-q", "--filter", `name=${s.project}_backend`))
      .stdout.trim();
    assert.equal(nets, "", "the stack's network is gone");
    assert.notEqual(
      (await sh("docker", ["volume", "inspect", s.volume("app_data")], { check: false })).code,
      0,
      "the volume is gone",
    );

    const r = await stowage(["restore", "--unit", s.project, "--latest", "--start", "--yes"], {
      env: env.env,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Restored/);

    const after = await mountpoint(s.volume("app_data"));
    const diff = diffTrees(expected, await describeTree(after));
    assert.deepEqual(diff, [], `restored tree differs:\n${diff.slice(0, 40).join("\n")}`);
    for (const svc of ["db", "app", "web"]) {
      assert.equal(
        (await docker("inspect", "-f", "{{.State.Running}}", s.container(svc))).stdout.trim(),
        "true",
        `${svc} runs`,
      );
    }
    // The container sees the tree too (same volume, mounted by the recreated stack).
    assert.equal(
      (await docker("exec", s.container("app"), "cat", "/data/links/relative")).stdout,
      "h\n",
    );
  } finally {
    await s.down();
    await cleanupDocker();
    await env.cleanup();
    await Deno.remove(s.dir, { recursive: true }).catch(() => {});
  }
});
