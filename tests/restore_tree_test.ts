/**
 * The tree comparison helper (tests/support/tree.ts) used by the restore fidelity tests: an exact
 * copy compares equal, and each kind of attribute change is caught, so the fidelity test can fail.
 */
import assert from "node:assert/strict";
import { buildFidelityTree, compareTrees, describeTree } from "./support/tree.ts";
import { sh } from "./support/docker.ts";

Deno.test("the tree helper sees an exact copy as equal and catches every kind of change", async () => {
  const base = await Deno.makeTempDir({ prefix: "stowage-tree-" });
  try {
    const a = `${base}/a`;
    await Deno.mkdir(a);
    await buildFidelityTree(a, { bigMiB: 1, smallFiles: 20 });
    const desc = await describeTree(a);
    assert.ok(desc.has("caf\\xe9"), "a latin-1 name is kept as its bytes");
    assert.equal(desc.get("links/dangling")?.target, "does-not-exist");
    assert.equal(desc.get("modes/setuid")?.mode, "4755");
    assert.equal(desc.get("fifo/pipe")?.type, "p");
    assert.deepEqual(desc.get("links/a")?.links, ["links/b", "owners/hard-to-a"]);
    assert.ok(desc.get("xattr-file")?.xattrs.some((x) => x.startsWith("user.binary=0x00ff10")));
    assert.ok(
      desc.get("acl-dir")?.acl.some((x) => x.startsWith("default:group:1001:r-x")),
      JSON.stringify(desc.get("acl-dir")),
    );

    // Each change, and the difference line it must produce (path and attribute), so a helper that
    // reported some unrelated difference (or any difference at all) could not pass.
    const changes: [string, string, RegExp[]][] = [
      ["owner", "chown 1001 owners/f1000", [/^owners\/f1000: uid /]],
      ["mode", "chmod 0755 modes/setuid", [/^modes\/setuid: mode .*"4755".*"755"/]],
      [
        "content",
        "printf 'X' | dd of=many/f3 bs=1 seek=0 conv=notrunc 2>/dev/null; touch -r many/f4 many/f3",
        [/^many\/f3: sha256 /],
      ],
      ["mtime", "touch -d '2000-01-01' empty-file", [/^empty-file: mtime /]],
      ["xattr", "setfattr -n user.comment -v changed xattr-file", [/^xattr-file: xattrs /]],
      ["acl", "setfacl -m u:1000:r acl-file", [/^acl-file: acl /]],
      ["hard link", "rm links/b && cp -p links/a links/b", [/^links\/b: (nlink|links) /]],
      ["symlink", "ln -sfn elsewhere links/dangling", [/^links\/dangling: target /]],
      ["extra file", "echo extra > many/extra", [/^many\/extra: only in /]],
      [
        "non-UTF-8 name",
        `mv "$(printf 'caf\\351')" "$(printf 'caf\\350')"`,
        [/^caf\\xe9: only in .*\/a$/, /^caf\\xe8: only in .*\/b$/],
      ],
    ];
    for (const [what, cmd, expected] of changes) {
      const b = `${base}/b`;
      await sh("cp", ["-a", a, b]);
      assert.deepEqual(await compareTrees(a, b), [], "cp -a keeps everything");
      await sh("bash", ["-c", `cd "${b}" && ${cmd}`]);
      const diff = await compareTrees(a, b);
      for (const re of expected) {
        assert.ok(
          diff.some((line) => re.test(line)),
          `a ${what} change was not reported as ${re}: ${JSON.stringify(diff)}`,
        );
      }
      await Deno.remove(b, { recursive: true });
    }
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
