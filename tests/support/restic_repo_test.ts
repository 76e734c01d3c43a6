/**
 * tests/support/restic_repo.ts writes restic's key and config format itself, so real restic checks
 * it here in both directions: restic opens, fills, checks and restores a repository this code
 * created (and refuses a wrong password), and this code opens the key and config that a real
 * `restic init` wrote.
 */
import assert from "node:assert/strict";
import {
  cheapenKey,
  createTestRepository,
  openConfig,
  openKeyFile,
  TEST_KDF,
} from "./restic_repo.ts";

async function restic(repo: string, password: string, ...args: string[]) {
  return await new Deno.Command("restic", {
    args: ["-r", repo, ...args],
    env: { RESTIC_PASSWORD: password, RESTIC_CACHE_DIR: `${repo}.cache` },
    stdout: "piped",
    stderr: "piped",
  }).output();
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("restic opens, fills, checks and restores a repository that createTestRepository wrote", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-restic-repo-" });
  try {
    const repo = `${dir}/repo`;
    await createTestRepository(repo, "pw-1");
    const keys = [...Deno.readDirSync(`${repo}/keys`)];
    assert.deepEqual(keys.length, 1);
    // Private folders, as `restic init` makes them, whatever the umask.
    for (const d of ["", "/keys", "/data", "/data/ff", "/snapshots"]) {
      assert.equal(Deno.statSync(`${repo}${d}`).mode! & 0o777, 0o700, `${repo}${d}`);
    }
    const key = JSON.parse(Deno.readTextFileSync(`${repo}/keys/${keys[0].name}`));
    assert.deepEqual([key.N, key.r, key.p], [TEST_KDF.N, TEST_KDF.r, TEST_KDF.p]);

    await Deno.mkdir(`${dir}/src/sub`, { recursive: true });
    await Deno.writeTextFile(`${dir}/src/sub/a.txt`, "hello ".repeat(10_000));
    const backup = await restic(repo, "pw-1", "backup", "--json", `${dir}/src`);
    assert.ok(backup.success, text(backup.stderr));
    const check = await restic(repo, "pw-1", "check", "--read-data");
    assert.ok(check.success, text(check.stderr));
    const restore = await restic(repo, "pw-1", "restore", "latest", "--target", `${dir}/out`);
    assert.ok(restore.success, text(restore.stderr));
    assert.deepEqual(
      Deno.readTextFileSync(`${dir}/out${dir}/src/sub/a.txt`),
      "hello ".repeat(10_000),
    );

    const wrong = await restic(repo, "pw-2", "snapshots");
    assert.deepEqual(wrong.success, false);
    assert.ok(/wrong password/.test(text(wrong.stderr)), text(wrong.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the key and config of a real `restic init` open here, and cheapenKey keeps the repository", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-restic-repo-" });
  try {
    const repo = `${dir}/repo`;
    const init = await restic(repo, "pw-1", "init");
    assert.ok(init.success, text(init.stderr));
    const keyName = [...Deno.readDirSync(`${repo}/keys`)][0].name;
    const keyText = Deno.readTextFileSync(`${repo}/keys/${keyName}`);
    assert.throws(() => openKeyFile(keyText, "pw-2"), /verification failed/);
    const master = openKeyFile(keyText, "pw-1");
    const config = openConfig(Deno.readFileSync(`${repo}/config`), master);
    const cat = await restic(repo, "pw-1", "cat", "config");
    assert.ok(cat.success, text(cat.stderr));
    const real = JSON.parse(text(cat.stdout));
    assert.deepEqual(config, real);

    await Deno.mkdir(`${dir}/src`);
    await Deno.writeTextFile(`${dir}/src/b.txt`, "before the new key");
    assert.ok((await restic(repo, "pw-1", "backup", `${dir}/src`)).success);
    await cheapenKey(repo, "pw-1");
    const after = [...Deno.readDirSync(`${repo}/keys`)].map((e) => e.name);
    assert.deepEqual(after.length, 1);
    assert.ok(after[0] !== keyName, "the old key is replaced");
    const newKey = JSON.parse(Deno.readTextFileSync(`${repo}/keys/${after[0]}`));
    assert.deepEqual(newKey.N, TEST_KDF.N);
    const ls = await restic(repo, "pw-1", "ls", "latest");
    assert.ok(ls.success, text(ls.stderr));
    assert.ok(text(ls.stdout).includes(`${dir}/src/b.txt`), text(ls.stdout));
    const catAfter = await restic(repo, "pw-1", "cat", "config");
    assert.deepEqual(JSON.parse(text(catAfter.stdout)), real);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
