/**
 * A stack restored on a new host comes up as it was (real dockerd, restic, docker-compose):
 * env_file, an override file, a build context with a locally built image, an anonymous and a
 * named volume survive "delete everything, restore --latest --start --yes". And a reference
 * stowage cannot save is a named gap in dry-run, the backup summary and the recipe.
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
import { type TestRepoEnv, testRepoEnv } from "./support/repo.ts";
import type { RestoreReport } from "../core/restore/run.ts";
import type { RunReport } from "../core/report.ts";
import type { Recipe } from "../core/recipe.ts";

const [labelKey, labelValue] = TEST_LABEL.split("=");

/** Removes everything of a compose project, whether or not its files still exist. */
async function removeProject(project: string, images: string[]) {
  await cleanupDocker(`com.docker.compose.project=${project}`);
  for (const image of images) await sh("docker", ["rmi", "-f", image], { check: false });
}

async function snapshotsOf(env: TestRepoEnv, tag: string) {
  return JSON.parse(await env.restic("snapshots", "--json", "--tag", tag)) as {
    id: string;
    tags: string[];
  }[];
}

Deno.test("a new host: env_file, override, built image, anonymous and named volume all come back with restore --latest --start --yes", async () => {
  const base = await ensureTestImage();
  const project = testName("newhost");
  const built = `${project}-built:1`;
  const dir = await Deno.makeTempDir({ prefix: `stowage-${project}-` });
  const env = await testRepoEnv();
  const compose = (...args: string[]) =>
    sh("docker-compose", ["-p", project, ...args], { cwd: dir });
  // Anonymous volumes carry no label: remember them to remove them whatever happens.
  const anonVolumes = new Set<string>();
  const anonOf = async () => {
    const id = (await docker("ps", "-aq", "--filter", `name=^${project}_web_1$`)).stdout.trim();
    if (!id) return undefined;
    const mounts = JSON.parse((await docker("inspect", "-f", "{{json .Mounts}}", id)).stdout) as {
      Name?: string;
      Destination: string;
    }[];
    const name = mounts.find((m) => m.Destination === "/anon")?.Name;
    if (name) anonVolumes.add(name);
    return name;
  };
  try {
    await Deno.mkdir(`${dir}/app`);
    await Deno.writeTextFile(`${dir}/app.env`, "APP_MODE=prod\nGREETING=from-env-file\n");
    await Deno.writeTextFile(
      `${dir}/app/Dockerfile`,
      `FROM ${base}\nCOPY hello.txt /hello.txt\nLABEL ${labelKey}=${labelValue}\n`,
    );
    await Deno.writeTextFile(`${dir}/app/hello.txt`, "hello from the build context\n");
    await Deno.writeTextFile(`${dir}/app/.dockerignore`, "scratch.txt\n");
    const blob = new Uint8Array([0, 255, 1, 254, 0x80, 10]); // not UTF-8: stored as base64
    await Deno.writeFile(`${dir}/app/blob.bin`, blob);
    await Deno.writeTextFile(`${dir}/app/scratch.txt`, "not part of the context\n");
    await Deno.writeTextFile(
      `${dir}/docker-compose.yml`,
      `version: "2.4"
services:
  web:
    image: ${base}
    init: true
    command: ["sleep", "1000000"]
    env_file: ./app.env
    volumes:
      - /anon
      - named:/named
    labels:
      ${labelKey}: "${labelValue}"
  built:
    build: ./app
    image: ${built}
    init: true
    command: ["sleep", "1000000"]
    labels:
      ${labelKey}: "${labelValue}"
volumes:
  named:
    labels:
      ${labelKey}: "${labelValue}"
`,
    );
    await Deno.writeTextFile(
      `${dir}/docker-compose.override.yml`,
      `version: "2.4"
services:
  web:
    environment:
      FROM_OVERRIDE: "yes"
`,
    );
    await compose("build");
    await compose("up", "-d");
    await anonOf();
    await docker(
      "exec",
      `${project}_web_1`,
      "sh",
      "-c",
      "echo anon-data > /anon/a && echo named-data > /named/n",
    );

    const b = await stowage(["backup", "--unit", project, "--json"], { env: env.env });
    assert.equal(b.code, 0, b.stderr);
    const run = JSON.parse(b.stdout) as RunReport;
    assert.equal(run.ok, true);
    assert.deepEqual(run.units[0].gaps.filter((g) => g.kind === "reference-unsaved"), []);
    // The recipe holds the env file and the build context without what .dockerignore excludes.
    const recipeSnap = (await snapshotsOf(env, `unit=${project},type=recipe`))[0];
    const recipe = JSON.parse(await env.restic("dump", recipeSnap.id, "/recipe.json")) as Recipe;
    const kinds = Object.fromEntries(recipe.files.map((f) => [f.path, f.kind]));
    assert.equal(kinds[`${dir}/app.env`], "env_file");
    assert.equal(kinds[`${dir}/docker-compose.override.yml`], "compose");
    assert.equal(kinds[`${dir}/app/Dockerfile`], "build");
    assert.equal(kinds[`${dir}/app/hello.txt`], "build");
    assert.equal(kinds[`${dir}/app/scratch.txt`], undefined, ".dockerignore is honoured");
    assert.equal(recipe.files.find((f) => f.path === `${dir}/app/blob.bin`)?.encoding, "base64");
    // The locally built image (no repo digest) is its own snapshot, named by the recipe.
    const builtId = (await docker("image", "inspect", "-f", "{{.Id}}", built)).stdout.trim();
    const savedImage = recipe.images?.find((i) => i.reference === built);
    assert.ok(savedImage, JSON.stringify(recipe.images));
    assert.equal(savedImage.id, builtId);
    assert.equal((await snapshotsOf(env, `type=image,image=${builtId}`)).length, 1);

    // A new host: no project directory, no containers, volumes, networks or built image.
    const oldAnon = await anonOf();
    await removeProject(project, [built]);
    if (oldAnon) await sh("docker", ["volume", "rm", "-f", oldAnon], { check: false });
    await Deno.remove(dir, { recursive: true });
    assert.notEqual((await sh("docker", ["image", "inspect", built], { check: false })).code, 0);

    const r = await stowage(
      ["restore", "--unit", project, "--latest", "--start", "--yes", "--json"],
      { env: env.env },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = (JSON.parse(r.stdout) as { report: RestoreReport }).report;
    assert.deepEqual(report.imagesLoaded, [built]);
    assert.deepEqual(report.running.map((c) => [c.name, c.state]).sort(), [
      [`${project}_built_1`, "running"],
      [`${project}_web_1`, "running"],
    ]);
    const newAnon = await anonOf();
    assert.ok(newAnon && newAnon !== oldAnon, "compose created a new anonymous volume");
    const inWeb = async (cmd: string) =>
      (await docker("exec", `${project}_web_1`, "sh", "-c", cmd)).stdout;
    assert.equal(
      await inWeb("echo $APP_MODE $GREETING $FROM_OVERRIDE"),
      "prod from-env-file yes\n",
    );
    assert.equal(await inWeb("cat /anon/a /named/n"), "anon-data\nnamed-data\n");
    assert.equal(
      (await docker("exec", `${project}_built_1`, "cat", "/hello.txt")).stdout,
      "hello from the build context\n",
    );
    assert.equal(await Deno.readTextFile(`${dir}/app/hello.txt`), "hello from the build context\n");
    assert.deepEqual(await Deno.readFile(`${dir}/app/blob.bin`), blob);
    assert.equal(
      await Deno.readTextFile(`${dir}/app.env`),
      "APP_MODE=prod\nGREETING=from-env-file\n",
    );
  } finally {
    await anonOf().catch(() => {});
    await removeProject(project, [built]);
    for (const v of anonVolumes) await sh("docker", ["volume", "rm", "-f", v], { check: false });
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await env.cleanup();
  }
});

Deno.test("a referenced file stowage cannot save is a named gap in dry-run, the backup summary and the recipe", async () => {
  const base = await ensureTestImage();
  const project = testName("refgap");
  const dir = await Deno.makeTempDir({ prefix: `stowage-${project}-` });
  const env = await testRepoEnv();
  const file = `${dir}/docker-compose.yml`;
  const service = (extra: string) =>
    `version: "2.4"
services:
  web:
    image: ${base}
    init: true
    command: ["sleep", "1000000"]
${extra}    labels:
      ${labelKey}: "${labelValue}"
`;
  try {
    await Deno.writeTextFile(file, service(""));
    await sh("docker-compose", ["-p", project, "up", "-d"], { cwd: dir });
    // The compose file as it is on disk now names a file outside the safe roots, a remote build
    // context and a missing env file; discovery reads the file as it is.
    await Deno.writeTextFile(
      file,
      service(
        `    env_file: [/etc/hostname, ./missing.env]\n    build: https://example.invalid/repo.git\n`,
      ),
    );
    const dry = await stowage(["dry-run", "--unit", project, "--json"], { env: env.env });
    assert.equal(dry.code, 0, dry.stderr);
    const gaps = (JSON.parse(dry.stdout).units[0].gaps as { kind: string; item: string }[])
      .filter((g) => g.kind === "reference-unsaved").map((g) => g.item).sort();
    assert.deepEqual(gaps, ["/etc/hostname", "https://example.invalid/repo.git"]);
    // The test image was made by `docker import`: no repo digest, so it is saved, size shown.
    const image = (JSON.parse(dry.stdout).units[0].items as {
      type: string;
      item: string;
      sizeBytes?: number;
    }[]).find((i) => i.type === "image");
    assert.equal(image?.item, base);
    assert.ok((image?.sizeBytes ?? 0) > 0, JSON.stringify(image));

    const b = await stowage(["backup", "--unit", project, "--json"], { env: env.env });
    assert.equal(b.code, 0, b.stderr);
    const unit = (JSON.parse(b.stdout) as RunReport).units[0];
    const summary = unit.gaps.filter((g) => g.kind === "reference-unsaved");
    assert.deepEqual(
      summary.map((g) => g.item).sort(),
      [`${dir}/missing.env`, "/etc/hostname", "https://example.invalid/repo.git"].sort(),
    );
    assert.match(summary.find((g) => g.item === "/etc/hostname")!.reason, /outside the safe roots/);
    assert.match(summary.find((g) => g.item.endsWith("missing.env"))!.reason, /does not exist/);
    const recipeSnap = (await snapshotsOf(env, `unit=${project},type=recipe`))[0];
    const recipe = JSON.parse(await env.restic("dump", recipeSnap.id, "/recipe.json")) as Recipe;
    assert.deepEqual(
      recipe.unit.gaps.filter((g) => g.kind === "reference-unsaved").map((g) => g.item).sort(),
      [`${dir}/missing.env`, "/etc/hostname", "https://example.invalid/repo.git"].sort(),
    );
    const text = await Deno.readTextFile("/etc/hostname");
    assert.ok(!recipe.files.some((f) => f.content === text && f.path === "/etc/hostname"));
  } finally {
    await removeProject(project, []);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await env.cleanup();
  }
});
