/**
 * Repositories written by older formats still restore. Each old layout is written here with PLAIN
 * restic, shaped exactly like that format's stowage wrote it (docs/format.md): format 2, one
 * directory snapshot per volume (`type=volume`, `volume=NAME`, the volume's folder as its one path)
 * and the `type=complete` marker counting them; format 3, the recipe and the networks document as
 * two snapshots beside a `type=data` one. No Docker needed: `--to-dir` and `--volume` only.
 */
import assert from "node:assert/strict";
import { stowage } from "./support/cli.ts";
import { testName } from "./support/docker.ts";
import { testRepoEnv } from "./support/repo.ts";
import { stowageTags, tagArgs } from "./support/plain_tags.ts";
import { bareUnit } from "../core/restore/hooks.ts";

const BID = "2025-01-31T02-00-00Z";
const TS = "2025-01-31T02:00:00Z";

Deno.test("a format-2 repository (one snapshot per volume) restores whole and per volume", async () => {
  const env = await testRepoEnv();
  try {
    const unit = testName("oldlayout");
    const tags = (type: string, extra: string[] = []) =>
      tagArgs(
        stowageTags({ format: 2, unit, type, backupId: BID, timestamp: TS }, extra, "minimal"),
      );
    // Each volume's folder as Docker lays it out, below a private root.
    const root = `${env.dir}/docker/volumes`;
    const ids: { type: string; item: string; snapshotId: string }[] = [];
    for (const [name, text] of [[`${unit}_db`, "rows\n"], [`${unit}_files`, "a picture\n"]]) {
      const folder = `${root}/${name}/_data`;
      await Deno.mkdir(`${folder}/sub`, { recursive: true });
      await Deno.writeTextFile(`${folder}/sub/content.txt`, text);
      await Deno.chmod(`${folder}/sub/content.txt`, 0o640);
      const snapshotId = await env.resticBackup([
        "--host",
        "oldhost",
        "--time",
        "2025-01-31 02:00:05",
        ...tags("volume", [`volume=${name}`]),
        folder,
      ]);
      ids.push({ type: "volume", item: name, snapshotId });
    }
    await env.resticBackup(
      [
        "--host",
        "oldhost",
        "--time",
        "2025-01-31 02:00:09",
        "--stdin",
        "--stdin-filename",
        "complete.json",
        ...tags("complete", ["items=2", "size=19"]),
      ],
      JSON.stringify({ format: 2, backupId: BID, unit, items: ids }),
    );

    const list = await stowage(["restore", "--unit", unit, "--list", "--json"], { env: env.env });
    assert.equal(list.code, 0, list.stderr);
    const [point] = JSON.parse(list.stdout).restorePoints;
    assert.deepEqual(
      [point.backupId, point.status, point.format, point.volumes],
      [BID, "complete", 2, [`${unit}_db`, `${unit}_files`]],
    );

    const out = `${env.dir}/out`;
    const whole = await stowage(
      ["restore", "--unit", unit, "--latest", "--to-dir", out, "--yes"],
      { env: env.env },
    );
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(await Deno.readTextFile(`${out}/volumes/${unit}_db/sub/content.txt`), "rows\n");
    assert.equal(
      await Deno.readTextFile(`${out}/volumes/${unit}_files/sub/content.txt`),
      "a picture\n",
    );
    assert.equal(
      (await Deno.stat(`${out}/volumes/${unit}_db/sub/content.txt`)).mode! & 0o777,
      0o640,
    );

    const one = `${env.dir}/one`;
    const single = await stowage(
      ["restore", "--unit", unit, "--latest", "--volume", "files", "--to-dir", one, "--yes"],
      { env: env.env },
    );
    assert.equal(single.code, 0, single.stderr);
    assert.deepEqual(
      (await Array.fromAsync(Deno.readDir(`${one}/volumes`))).map((e) => e.name),
      [`${unit}_files`],
    );
  } finally {
    await env.cleanup();
  }
});

Deno.test("a format-3 point (recipe and networks as two snapshots) restores with its networks document", async () => {
  const env = await testRepoEnv();
  try {
    const unit = testName("format3");
    const tags = (type: string, extra: string[] = []) =>
      tagArgs(stowageTags({ format: 3, unit, type, backupId: BID, timestamp: TS }, extra));
    const restic = (args: string[], stdin?: string) =>
      env.resticBackup(["--host", "oldhost", "--time", "2025-01-31 02:00:05", ...args], stdin);
    // As format-3 stowage wrote it: the recipe (its unit.networks the same list as the networks
    // document; left empty here, so only the networks snapshot can bring the network back), the
    // networks document, one data snapshot with an item= tag, and the marker counting 3 items.
    const network = {
      id: "n".repeat(12),
      name: `${unit}_backend`,
      driver: "bridge",
      scope: "local",
      internal: false,
      attachable: false,
      enableIPv6: false,
      ipam: { driver: "default", config: [{ subnet: "10.213.250.0/24" }], options: {} },
      options: {},
      labels: {},
      containers: [],
    };
    const recipe = {
      format: 3,
      stowageVersion: "0.1.0",
      backupId: BID,
      scope: "standard",
      createdAt: TS,
      host: "oldhost",
      unit: { ...bareUnit(unit, "stack"), workingDir: `${env.dir}/app` },
      files: [],
      containers: [],
    };
    const ids = [
      {
        type: "recipe",
        item: "recipe.json",
        snapshotId: await restic(
          ["--stdin", "--stdin-filename", "recipe.json", ...tags("recipe")],
          JSON.stringify(recipe),
        ),
      },
      {
        type: "network",
        item: "networks.json",
        snapshotId: await restic(
          ["--stdin", "--stdin-filename", "networks.json", ...tags("network")],
          JSON.stringify({ format: 3, backupId: BID, unit, networks: [network] }),
        ),
      },
    ];
    const folder = `${env.dir}/docker/volumes/${unit}_db/_data`;
    await Deno.mkdir(folder, { recursive: true });
    await Deno.writeTextFile(`${folder}/rows.txt`, "rows\n");
    ids.push({
      type: "volume",
      item: `${unit}_db`,
      snapshotId: await restic([...tags("data", [`item=volume:${unit}_db:${folder}`]), folder]),
    });
    await restic(
      ["--stdin", "--stdin-filename", "complete.json", ...tags("complete", ["items=3", "size=5"])],
      JSON.stringify({ format: 3, backupId: BID, unit, items: ids }),
    );

    const list = await stowage(["restore", "--unit", unit, "--list", "--json"], { env: env.env });
    assert.equal(list.code, 0, list.stderr);
    const [point] = JSON.parse(list.stdout).restorePoints;
    assert.deepEqual([point.status, point.format], ["complete", 3]);

    const out = `${env.dir}/out`;
    const r = await stowage(
      ["restore", "--unit", unit, "--latest", "--to-dir", out, "--yes"],
      { env: env.env },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await Deno.readTextFile(`${out}/volumes/${unit}_db/rows.txt`), "rows\n");
    const networks = JSON.parse(await Deno.readTextFile(`${out}/stowage-networks.json`));
    assert.deepEqual(networks.networks.map((n: { name: string }) => n.name), [`${unit}_backend`]);
  } finally {
    await env.cleanup();
  }
});
