/**
 * A repository is not trusted: snapshots made with PLAIN restic, carrying hostile tags or a hostile
 * recipe, are refused by `stowage restore` (with and without --to-dir) with one line, a hint, the
 * documented exit code, no stack trace, and nothing changed on disk or in Docker
 * (docs/restore.md "What restore refuses").
 */
import assert from "node:assert/strict";
import { stowageTags } from "./support/plain_tags.ts";
import { stowage } from "./support/cli.ts";
import {
  cleanupDocker,
  docker,
  ensureTestImage,
  sh,
  TEST_LABEL,
  testName,
} from "./support/docker.ts";
import { type TestRepoEnv, testRepoEnv } from "./support/repo.ts";
import { bareUnit } from "../core/restore/hooks.ts";

const BID = "2030-01-01T00-00-00Z";
const TS = "2030-01-01T00:00:00Z";

interface Hostile {
  env: TestRepoEnv;
  /** A folder outside --to-dir that a hostile restore would replace or write into. */
  victim: string;
  /** The --to-dir of the tests: `<dir>/out`, so `out/volumes/../../victim` is the victim. */
  out: string;
  /** Plain restic: a snapshot of stdin with these tags. */
  stdin(name: string, content: string, tags: string[]): Promise<void>;
  /** Plain restic: a directory snapshot with these tags. */
  dir(path: string, tags: string[]): Promise<void>;
  /** Every file below the test directory with its content and mode, for "nothing changed". */
  tree(): Promise<string>;
}

const tags = (unit: string, type: string, extra: string[] = []) =>
  stowageTags({ format: 1, unit, type, backupId: BID, timestamp: TS }, extra);

async function withHostileRepo(fn: (h: Hostile) => Promise<void>) {
  const env = await testRepoEnv();
  try {
    const victim = `${env.dir}/victim`;
    await Deno.mkdir(victim);
    await Deno.writeTextFile(`${victim}/keep.txt`, "precious\n");
    const restic = (args: string[], stdin?: string) =>
      sh("restic", ["-r", env.repo, "--password-file", env.passwordFile, "--quiet", ...args], {
        stdin,
      });
    const tagArgs = (t: string[]) => t.flatMap((x) => ["--tag", x]);
    const h: Hostile = {
      env,
      victim,
      out: `${env.dir}/out`,
      async stdin(name, content, t) {
        await restic(["backup", "--stdin", "--stdin-filename", name, ...tagArgs(t)], content);
      },
      async dir(path, t) {
        await restic(["backup", path, ...tagArgs(t)]);
      },
      async tree() {
        const out: string[] = [];
        const walk = async (d: string) => {
          for await (const e of Deno.readDir(d)) {
            const p = `${d}/${e.name}`;
            if (p === env.repo || p === `${env.dir}/state`) continue;
            const st = await Deno.lstat(p);
            out.push(`${p} ${st.mode?.toString(8)} ${e.isFile ? await Deno.readTextFile(p) : ""}`);
            if (e.isDirectory) await walk(p);
          }
        };
        await walk(env.dir);
        return out.sort().join("\n");
      },
    };
    await fn(h);
  } finally {
    await env.cleanup();
  }
}

/** One `stowage: ...` line and one `hint: ...` line, no stack trace. */
function assertOneLineRefusal(r: { code: number; stdout: string; stderr: string }, code: number) {
  assert.equal(r.code, code, `exit code\n${r.stdout}\n${r.stderr}`);
  const lines = r.stderr.trim().split("\n").filter((l) => !l.includes("experimental"));
  assert.equal(lines.length, 2, `one line and a hint:\n${r.stderr}`);
  assert.match(lines[0], /^stowage: Cannot restore /, r.stderr);
  assert.match(lines[1], /^hint: /, r.stderr);
  assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace:\n${r.stderr}`);
  assert.ok(!r.stderr.includes("TypeError") && !r.stderr.includes("internal error"), r.stderr);
}

/** A recipe document as stowage writes it (core/recipe.ts), for a stack in `wd`. */
function recipeJson(unit: string, wd: string, files: { path: string; mode: number }[]) {
  return JSON.stringify({
    format: 1,
    stowageVersion: "0.1.0",
    backupId: BID,
    scope: "standard",
    createdAt: TS,
    host: "elsewhere",
    unit: {
      ...bareUnit(unit, "stack"),
      workingDir: wd,
      files: files.map((f) => ({ path: f.path, kind: "compose", exists: true })),
    },
    files: files.map((f) => ({
      path: f.path,
      kind: "compose",
      mode: f.mode,
      content: 'version: "2.4"\nservices: {}\n',
    })),
    containers: [],
  });
}

Deno.test("a volume tag ../../victim in the latest point: refused with and without --to-dir, victim untouched", async () => {
  await withHostileRepo(async (h) => {
    const unit = testName("evilvol");
    const payload = `${h.env.dir}/payload`;
    await Deno.mkdir(payload);
    await Deno.writeTextFile(`${payload}/pwned.txt`, "pwned\n");
    await h.stdin("recipe.json", recipeJson(unit, `${h.env.dir}/app`, []), tags(unit, "recipe"));
    await h.dir(payload, tags(unit, "volume", ["volume=../../victim"]));
    const before = await h.tree();
    for (const extra of [["--to-dir", h.out], ["--only", "volumes"]]) {
      const r = await stowage(
        ["restore", "--unit", unit, "--latest", "--yes", ...extra],
        { env: h.env.env },
      );
      assertOneLineRefusal(r, 21);
      assert.match(r.stderr, /invalid tags \(volume: not a Docker volume name/);
      assert.equal(await h.tree(), before, "nothing on disk changed");
    }
    // The listing shows the point as refused and says why.
    const list = await stowage(["restore", "--unit", unit, "--list"], { env: h.env.env });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /REFUSED \(invalid tags\)/);
    assert.match(
      list.stdout,
      /ignored snapshot \w+ \(backup id 2030-01-01T00-00-00Z\): invalid tags/,
    );
    const admin = await stowage(["admin", "snapshot", "list", "--unit", unit, "--no-sizes"], {
      env: h.env.env,
    });
    assert.equal(admin.code, 0, admin.stderr);
    assert.match(
      admin.stdout,
      /ignored snapshot \w+ \(unit .*\): invalid tags: volume: not a Docker volume name/,
    );
  });
});

Deno.test("a bind tag with .. (path=<dir>/decoy/../victim) is refused by --backup-id, victim untouched", async () => {
  await withHostileRepo(async (h) => {
    const unit = testName("evilbind");
    const payload = `${h.env.dir}/payload`;
    await Deno.mkdir(payload);
    await Deno.writeTextFile(`${payload}/pwned.txt`, "pwned\n");
    await h.dir(payload, tags(unit, "bind", [`path=${h.env.dir}/decoy/../victim`]));
    const before = await h.tree();
    for (const extra of [["--to-dir", h.out], []]) {
      const r = await stowage(
        ["restore", "--unit", unit, "--backup-id", BID, "--yes", ...extra],
        { env: h.env.env },
      );
      assertOneLineRefusal(r, 21);
      assert.match(r.stderr, /is not a normalised absolute path/);
      assert.equal(await h.tree(), before, "nothing on disk changed");
    }
  });
});

Deno.test("a format-3 data snapshot whose item= tag names a path it did not save is refused, victim untouched", async () => {
  await withHostileRepo(async (h) => {
    const unit = testName("evildata");
    const payload = `${h.env.dir}/payload`;
    await Deno.mkdir(payload);
    await Deno.writeTextFile(`${payload}/pwned.txt`, "pwned\n");
    // The snapshot saved `payload`, its tag claims the victim's folder is in it.
    await h.dir(payload, [...tags(unit, "data"), `item=bind:${h.victim}`]);
    const before = await h.tree();
    for (const extra of [["--to-dir", h.out], []]) {
      const r = await stowage(
        ["restore", "--unit", unit, "--backup-id", BID, "--yes", ...extra],
        { env: h.env.env },
      );
      assertOneLineRefusal(r, 21);
      assert.match(r.stderr, /is not one of the paths the snapshot saved/);
      assert.equal(await h.tree(), before, "nothing on disk changed");
    }
  });
});

Deno.test("a recipe file path with .. (<wd>/../escape/pwned.txt) is refused with and without --to-dir", async () => {
  await withHostileRepo(async (h) => {
    const unit = testName("evilrecipe");
    const wd = `${h.env.dir}/app`;
    await h.stdin(
      "recipe.json",
      recipeJson(unit, wd, [{ path: `${wd}/../escape/pwned.txt`, mode: 0o644 }]),
      tags(unit, "recipe"),
    );
    const before = await h.tree();
    for (const extra of [["--to-dir", `${h.env.dir}/out`], []]) {
      const r = await stowage(
        ["restore", "--unit", unit, "--latest", "--only", "recipe", "--yes", ...extra],
        { env: h.env.env },
      );
      assertOneLineRefusal(r, 21);
      assert.match(
        r.stderr,
        /its recipe is invalid \((unit\.)?files\.0\.path: .* is not a normalised/,
      );
      assert.equal(await h.tree(), before, "nothing on disk changed");
      assert.equal(await Deno.stat(`${h.env.dir}/escape`).catch(() => null), null);
    }
  });
});

Deno.test("a recipe that is JSON but not a recipe ends in one line and exit 21, not a stack trace", async () => {
  await withHostileRepo(async (h) => {
    for (const [i, doc] of ['{"format":1}', "[]", '{"format":1,"files":"x","unit":{}}'].entries()) {
      const unit = testName(`garbage${i}`);
      await h.stdin("recipe.json", doc, tags(unit, "recipe"));
      const before = await h.tree();
      const r = await stowage(
        ["restore", "--unit", unit, "--latest", "--to-dir", h.out, "--yes"],
        { env: h.env.env },
      );
      assertOneLineRefusal(r, 21);
      assert.match(r.stderr, /its recipe is invalid/);
      assert.equal(await h.tree(), before);
    }
  });
});

Deno.test("a compose file saved with mode 4777 comes back 0777", async () => {
  await withHostileRepo(async (h) => {
    const unit = testName("suid");
    const wd = `${h.env.dir}/app`;
    await h.stdin(
      "recipe.json",
      recipeJson(unit, wd, [{ path: `${wd}/docker-compose.yml`, mode: 0o4777 }]),
      tags(unit, "recipe"),
    );
    const r = await stowage(
      ["restore", "--unit", unit, "--latest", "--only", "recipe", "--to-dir", h.out, "--yes"],
      { env: h.env.env },
    );
    assert.equal(r.code, 0, r.stderr);
    const mode = (await Deno.stat(`${h.out}/docker-compose.yml`)).mode! & 0o7777;
    assert.equal(mode.toString(8), "777");
  });
});

Deno.test("a standalone container saved privileged with / bound is refused without --allow-privileged; nothing created", async () => {
  const image = await ensureTestImage();
  await withHostileRepo(async (h) => {
    const unit = testName("privileged");
    const [labelKey, labelValue] = TEST_LABEL.split("=");
    const recipe = {
      format: 1,
      stowageVersion: "0.1.0",
      backupId: BID,
      scope: "standard",
      createdAt: TS,
      host: "elsewhere",
      unit: bareUnit(unit, "standalone"),
      files: [],
      containers: [{
        Id: "f".repeat(64),
        Name: `/${unit}`,
        Image: "sha256:x",
        State: { Status: "exited", Running: false },
        Config: { Image: image, Cmd: ["sleep", "1"], Env: [], Labels: { [labelKey]: labelValue } },
        HostConfig: {
          NetworkMode: "default",
          Privileged: true,
          Binds: ["/:/host"],
          CapAdd: ["SYS_ADMIN"],
          Devices: [{
            PathOnHost: "/dev/null",
            PathInContainer: "/dev/x",
            CgroupPermissions: "rwm",
          }],
        },
        Mounts: [],
        NetworkSettings: { Networks: {} },
      }],
    };
    await h.stdin("recipe.json", JSON.stringify(recipe), tags(unit, "recipe"));
    try {
      const dry = await stowage(
        ["restore", "--unit", unit, "--latest", "--only", "recipe", "--dry-run"],
        { env: h.env.env },
      );
      assert.equal(dry.code, 14, dry.stderr);
      assert.match(
        dry.stdout,
        /CONFLICT: Cannot recreate container .* with Privileged, capability SYS_ADMIN, device \/dev\/null, host bind \/ .*\(--allow-privileged\)/,
      );
      const r = await stowage(
        ["restore", "--unit", unit, "--latest", "--only", "recipe", "--yes"],
        { env: h.env.env },
      );
      assert.equal(r.code, 14, r.stderr);
      assert.match(r.stderr, /^stowage: Cannot restore /);
      assert.match(r.stderr, /hint: Resolve with --allow-privileged/);
      assert.ok(!/\n\s+at /.test(r.stderr), r.stderr);
      const exists = await docker("ps", "-a", "--filter", `name=^${unit}$`, "-q");
      assert.equal(exists.stdout.trim(), "", "no container was created");
    } finally {
      await cleanupDocker();
    }
  });
});

Deno.test("a recipe naming another unit's container gets no pre_restore label hook executed in it", async () => {
  const image = await ensureTestImage();
  const victim = testName("hookvictim");
  await docker("run", "-d", "--init", "--label", TEST_LABEL, "--name", victim, image);
  try {
    await withHostileRepo(async (h) => {
      const unit = testName("evilhook");
      const doc = JSON.parse(recipeJson(unit, `${h.env.dir}/app`, []));
      doc.unit.containers = [{
        id: "f".repeat(64),
        name: victim,
        service: "app",
        image,
        imageId: "sha256:x",
        state: "running",
        running: true,
        hasHealthcheck: false,
        labels: { "stowage.pre-restore": "touch /pwned", "stowage.hook-mode": "optional" },
        mounts: [],
        networks: {},
        networkMode: "default",
      }];
      await h.stdin("recipe.json", JSON.stringify(doc), tags(unit, "recipe"));
      const r = await stowage(
        ["restore", "--unit", unit, "--latest", "--only", "recipe", "--yes"],
        { env: h.env.env },
      );
      assert.equal(r.code, 0, r.stderr);
      const pwned = await sh("docker", ["exec", victim, "test", "-e", "/pwned"], { check: false });
      assert.notEqual(pwned.code, 0, "the hook ran inside another unit's container");
    });
  } finally {
    await cleanupDocker();
  }
});
