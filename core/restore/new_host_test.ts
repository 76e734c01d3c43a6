import assert from "node:assert/strict";
import { bareUnit } from "./hooks.ts";
import { checkReferencedFile } from "./references.ts";
import { planImages, splitReference } from "./images.ts";
import { anonymousMount } from "./anonymous.ts";
import type { Recipe } from "../recipe.ts";
import type { Unit } from "../model.ts";

const id = (c: string) => `sha256:${c.repeat(64)}`;
const anon = "a".repeat(64);

function recipe(extra: Partial<Recipe> = {}, unit: Partial<Unit> = {}): Recipe {
  return {
    format: 1,
    stowageVersion: "x",
    backupId: "2025-01-01T00-00-00Z",
    scope: "standard",
    createdAt: "2025-01-01T00:00:00Z",
    host: "h",
    unit: { ...bareUnit("p", "stack"), ...unit },
    files: [],
    containers: [],
    ...extra,
  };
}

Deno.test("referenced recipe files are written only to clean absolute paths inside the safe roots", () => {
  const f = (path: string) => ({ path, kind: "env_file" as const, mode: 0o644, content: "A=1\n" });
  assert.equal(checkReferencedFile(f("/srv/app/app.env"), "/srv/app/app.env"), undefined);
  assert.match(checkReferencedFile(f("/srv/app/../etc/x"), "/srv/app/../etc/x")!, /clean absolute/);
  assert.match(checkReferencedFile(f("app.env"), "app.env")!, /clean absolute/);
  assert.match(checkReferencedFile(f("/etc/cron.d/x"), "/etc/cron.d/x")!, /outside the safe roots/);
  assert.match(
    checkReferencedFile(
      { ...f("/srv/a/x"), encoding: "hex" as unknown as "base64" },
      "/srv/a/x",
    )!,
    /malformed/,
  );
  // compose and .env files keep their own rules.
  assert.equal(
    checkReferencedFile({ ...f("/etc/x.yml"), kind: "compose" }, "/etc/x.yml"),
    undefined,
  );
});

Deno.test("saved images: loaded only when the host lacks them, tagged when the tag is missing, odd entries refused", () => {
  const r = recipe({
    images: [
      {
        reference: "app-built:1",
        id: id("1"),
        snapshotId: "abcdef01",
        file: `/${"1".repeat(64)}.tar`,
      },
      { reference: "here:2", id: id("2"), snapshotId: "abcdef02", file: `/${"2".repeat(64)}.tar` },
      { reference: "bad ref; rm -rf /", id: id("3"), snapshotId: "abcdef03", file: "/x.tar" },
      { reference: "x:1", id: id("4"), snapshotId: "abcdef04", file: "/../../etc/passwd" },
    ],
  });
  const { steps, problems } = planImages(r, [{ Id: id("2"), RepoTags: ["here:2"] }]);
  assert.deepEqual(steps.map((s) => [s.reference, s.load, s.tag]), [
    ["app-built:1", true, true],
    ["here:2", false, false],
  ]);
  assert.equal(problems.length, 2);
  assert.deepEqual(splitReference("registry:5000/x/y:1.2"), {
    repo: "registry:5000/x/y",
    tag: "1.2",
  });
  assert.deepEqual(splitReference("registry:5000/x"), { repo: "registry:5000/x", tag: "latest" });
});

Deno.test("an anonymous volume is found by its service and mount destination; named volumes are not anonymous", () => {
  const r = recipe({}, {
    volumes: [
      {
        name: anon,
        driver: "local",
        mountpoint: "",
        labels: {},
        options: {},
        usedBy: ["p_web_1"],
        external: false,
      },
    ],
    containers: [{
      id: "c",
      name: "p_web_1",
      service: "web",
      image: "i",
      imageId: "i",
      state: "running",
      running: true,
      hasHealthcheck: false,
      labels: { "com.docker.compose.container-number": "1" },
      mounts: [
        { type: "volume", source: anon, destination: "/anon", readOnly: false },
        { type: "volume", source: "p_named", destination: "/named", readOnly: false },
      ],
      networks: {},
      networkMode: "default",
    }],
  });
  assert.deepEqual(anonymousMount(r, anon), { service: "web", destination: "/anon", number: "1" });
  assert.equal(anonymousMount(r, "p_named"), undefined);
  assert.equal(anonymousMount(undefined, anon), undefined);
});
