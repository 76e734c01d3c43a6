/**
 * Volumes saved as a tar stream from the Engine's archive API (`source=archive`, used when the
 * volume's host folder was not readable) restore too: into Docker and with --to-dir, with owners,
 * modes, links and mtimes. The snapshot is written exactly as docs/format.md lays it out.
 */
import assert from "node:assert/strict";
import {
  cleanupDocker,
  docker,
  ensureTestImage,
  sh,
  TEST_LABEL,
  testName,
} from "./support/docker.ts";
import { stowage } from "./support/cli.ts";
import { testRepoEnv } from "./support/repo.ts";
import { describeTree, diffTrees } from "./support/tree.ts";
import { backupIdFor, buildTags, isoSeconds } from "../core/tags.ts";

Deno.test("a source=archive volume snapshot restores into a new volume and into --to-dir", async () => {
  const image = await ensureTestImage();
  const env = await testRepoEnv();
  const unit = testName("arch");
  const vol = testName("arch-data");
  const out = await Deno.makeTempDir({ prefix: "stowage-arch-" });
  try {
    await docker("volume", "create", "--label", TEST_LABEL, vol);
    const mp = (await docker("volume", "inspect", "-f", "{{.Mountpoint}}", vol)).stdout.trim();
    await sh("bash", [
      "-c",
      `set -e; cd "${mp}"; mkdir -p sub/deep; echo a > sub/a; chown 1000:1001 sub/a; chmod 4750 sub/a
      ln sub/a hard; ln -s sub/a soft; ln -s missing dangling; mkfifo pipe; chmod 2775 sub; : > empty
      touch -d '2005-05-05 05:05:05' sub/deep sub/a; chmod 0711 "${mp}"`,
    ]);
    const expected = await describeTree(mp);

    // What backup does when the folder is unreadable: the archive of the mounted folder, as one file.
    await docker(
      "run",
      "-d",
      "--init",
      "--name",
      unit,
      "--label",
      TEST_LABEL,
      "-v",
      `${vol}:/data`,
      image,
    );
    const now = new Date();
    const tags = buildTags({
      unit,
      type: "volume",
      backupId: backupIdFor(now),
      timestamp: isoSeconds(now),
      scope: "minimal",
      volume: vol,
      source: "archive",
    });
    await sh("bash", [
      "-c",
      `set -o pipefail; docker cp ${unit}:/data - | restic -r "${env.repo}" --password-file "${env.passwordFile}" backup -q --stdin --stdin-filename "${vol}.tar" --host "$(hostname)" --tag "${
        tags.join(",")
      }"`,
    ]);
    // The completion marker a stowage run writes last (docs/format.md): without it the point is
    // incomplete and --latest would skip it.
    const marker = buildTags({
      unit,
      type: "complete",
      backupId: backupIdFor(now),
      timestamp: isoSeconds(now),
      scope: "minimal",
      items: 1,
    });
    await sh("bash", [
      "-c",
      `echo '{}' | restic -r "${env.repo}" --password-file "${env.passwordFile}" backup -q --stdin --stdin-filename complete.json --host "$(hostname)" --tag "${
        marker.join(",")
      }"`,
    ]);
    await docker("rm", "-f", unit);
    await docker("volume", "rm", vol);

    const toDir = await stowage(["restore", "--unit", unit, "--latest", "--to-dir", out, "--yes"], {
      env: env.env,
    });
    assert.equal(toDir.code, 0, toDir.stderr);
    // The Engine's archive carries whole-second mtimes (docs/restore.md); everything else is exact.
    const d1 = diffTrees(expected, await describeTree(`${out}/volumes/${vol}`), undefined, {
      mtimeSeconds: true,
    });
    assert.deepEqual(d1, [], d1.join("\n"));

    const r = await stowage(["restore", "--unit", unit, "--latest", "--yes"], { env: env.env });
    assert.equal(r.code, 0, r.stderr);
    const mp2 = (await docker("volume", "inspect", "-f", "{{.Mountpoint}}", vol)).stdout.trim();
    const d2 = diffTrees(expected, await describeTree(mp2), undefined, { mtimeSeconds: true });
    assert.deepEqual(d2, [], d2.join("\n"));
  } finally {
    await sh("docker", ["rm", "-f", unit], { check: false });
    await sh("docker", ["volume", "rm", "-f", vol], { check: false });
    await cleanupDocker();
    await env.cleanup();
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
});
