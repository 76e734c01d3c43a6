import assert from "node:assert/strict";
import { isSafeBindPath, isWithin, normalizePath } from "./safe_paths.ts";

Deno.test("system, kernel and Docker paths are never safe, with a reason", () => {
  for (
    const p of [
      "/",
      "/etc",
      "/etc/nginx/nginx.conf",
      "/var/lib/docker",
      "/var/lib/docker/volumes/x/_data",
      "/proc",
      "/sys/fs/cgroup",
      "/dev/shm",
      "/run",
      "/run/user/1000",
      "/var/run",
      "/boot/grub",
      "/home",
      "/home/alice",
      "/root",
      "/usr/share/zoneinfo",
      "/lib/modules",
    ]
  ) {
    const v = isSafeBindPath(p);
    assert.equal(v.safe, false, p);
    assert.ok(v.reason && v.reason.length > 0, p);
  }
});

Deno.test("the Docker socket is unsafe wherever it lives", () => {
  assert.match(isSafeBindPath("/var/run/docker.sock").reason!, /control socket/);
  assert.match(isSafeBindPath("/srv/proxy/docker.sock").reason!, /control socket/);
});

Deno.test("application folders are safe, including folders inside a home", () => {
  for (
    const p of [
      "/srv/app/html",
      "/opt/nextcloud/config",
      "/home/alice/site",
      "/root/stack/data",
      "/tmp/x",
      "/data",
    ]
  ) {
    assert.deepEqual(isSafeBindPath(p), { safe: true }, p);
  }
});

Deno.test("paths are compared after normalising, not by prefix text", () => {
  assert.equal(isSafeBindPath("/etc/../srv/app").safe, true);
  assert.equal(isSafeBindPath("/srv/../etc/passwd").safe, false);
  assert.equal(isSafeBindPath("//etc//").safe, false);
  // /etcetera is not /etc.
  assert.equal(isSafeBindPath("/etcetera").safe, true);
  assert.equal(isSafeBindPath("/var/lib/dockerfiles").safe, true);
  assert.equal(isSafeBindPath("/home/alice/").safe, false);
});

Deno.test("relative paths are refused", () => {
  const v = isSafeBindPath("html");
  assert.equal(v.safe, false);
  assert.match(v.reason!, /not an absolute path/);
});

Deno.test("backup.unsafe_paths adds whole trees", () => {
  assert.equal(isSafeBindPath("/srv/media/movies", ["/srv/media"]).safe, false);
  assert.match(
    isSafeBindPath("/srv/media", ["/srv/media/"]).reason!,
    /backup\.unsafe_paths \(\/srv\/media\)/,
  );
  assert.equal(isSafeBindPath("/srv/mediaserver", ["/srv/media"]).safe, true);
  assert.equal(isSafeBindPath("/srv/app", ["not-absolute"]).safe, true);
});

Deno.test("normalizePath and isWithin", () => {
  assert.equal(normalizePath("/a/b/../c/"), "/a/c");
  assert.equal(normalizePath("/"), "/");
  assert.equal(normalizePath("a/b"), undefined);
  assert.ok(isWithin("/a/b", "/a"));
  assert.ok(isWithin("/a", "/a"));
  assert.ok(!isWithin("/ab", "/a"));
  assert.ok(isWithin("/anything", "/"));
});
