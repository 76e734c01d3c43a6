/**
 * Data no backup sees: a real container that writes into its own layer is named by `dry-run` and
 * `doctor`; writes into its volume or into scratch paths (/tmp) are not.
 */
import assert from "node:assert/strict";
import { docker, ensureTestImage, sh, TEST_LABEL, testName } from "./support/docker.ts";
import { stowage } from "./support/cli.ts";
import { testRepoEnv } from "./support/repo.ts";

Deno.test("dry-run and doctor warn about a container that keeps data in its own layer, not about one that uses its volume", async () => {
  const image = await ensureTestImage();
  const layer = testName("layer-writer");
  const clean = testName("volume-writer");
  const volume = testName("layer-vol");
  const env = await testRepoEnv();
  try {
    await docker("volume", "create", "--label", TEST_LABEL, volume);
    for (const name of [layer, clean]) {
      await docker(
        "run",
        "-d",
        "--init",
        "--label",
        TEST_LABEL,
        "--name",
        name,
        "-v",
        `${volume}:/data`,
        image,
        "sleep",
        "infinity",
      );
    }
    // The demo's mistake: the page is written where no volume is mounted.
    await docker("exec", layer, "sh", "-c", "mkdir -p /srv/www && echo hi > /srv/www/index.html");
    await docker("exec", clean, "sh", "-c", "echo ok > /data/state && echo t > /tmp/scratch");

    const json = await stowage(["dry-run", "--unit", layer, clean, "--json"], { env: env.env });
    assert.equal(json.code, 0, json.stderr);
    const units = JSON.parse(json.stdout).units as {
      unit: string;
      layerWrites: { container: string; paths: string[] }[];
    }[];
    const byUnit = Object.fromEntries(units.map((u) => [u.unit, u.layerWrites]));
    assert.deepEqual(byUnit[layer], [{ container: layer, paths: ["/srv/www/index.html"] }]);
    assert.deepEqual(byUnit[clean], []);

    const text = await stowage(["dry-run", "--unit", layer, clean], { env: env.env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(
        `warning: container ${layer} has written 1 path outside its volumes and bind mounts, which no backup sees: /srv/www/index.html`,
      ),
    );
    assert.ok(!text.stdout.includes(`container ${clean} has written`), text.stdout);

    const doctor = await stowage(["doctor", "--json"], { env: env.env });
    const checks = JSON.parse(doctor.stdout).checks as {
      name: string;
      status: string;
      detail: string;
    }[];
    const found = checks.filter((c) => c.name === "data outside volumes");
    assert.ok(
      found.some((c) => c.status === "warn" && c.detail.includes(`container ${layer} has written`)),
      JSON.stringify(found, null, 2),
    );
    assert.ok(!found.some((c) => c.detail.includes(clean)), JSON.stringify(found, null, 2));
  } finally {
    await sh("docker", ["rm", "-f", "-v", layer, clean], { check: false });
    await sh("docker", ["volume", "rm", "-f", volume], { check: false });
    await env.cleanup();
  }
});
