import assert from "node:assert/strict";
import { describeLayerWrites, layerWrites } from "./layer_writes.ts";

const worker = { name: "demo-worker-1", mounts: [{ destination: "/srv/data" }] };

Deno.test("writes into the layer are found; mounts, noise and deletions are not", () => {
  const w = layerWrites(worker, [
    { Path: "/data", Kind: 1 },
    { Path: "/data/www", Kind: 1 },
    { Path: "/data/www/index.html", Kind: 1 },
    { Path: "/etc", Kind: 0 },
    { Path: "/etc/app.conf", Kind: 0 },
    { Path: "/srv", Kind: 0 },
    { Path: "/srv/data", Kind: 0 },
    { Path: "/srv/data/db.sqlite", Kind: 1 },
    { Path: "/tmp/x", Kind: 1 },
    { Path: "/run/app.pid", Kind: 1 },
    { Path: "/var/log/app.log", Kind: 1 },
    { Path: "/var/cache/apk/index", Kind: 1 },
    { Path: "/root/.cache/pip/x", Kind: 1 },
    { Path: "/usr/share/doc", Kind: 2 },
    { Path: "/sbin", Kind: 0 },
    { Path: "/sbin/docker-init", Kind: 1 },
  ]);
  // "/srv" is only listed because its mount point was created in it: not data of its own.
  assert.deepEqual(w, {
    container: "demo-worker-1",
    paths: ["/data/www/index.html", "/etc/app.conf"],
  });
});

Deno.test("no changes, or only noise, is no finding", () => {
  assert.equal(layerWrites(worker, null), undefined);
  assert.equal(layerWrites(worker, []), undefined);
  assert.equal(
    layerWrites(worker, [{ Path: "/tmp", Kind: 0 }, { Path: "/tmp/a", Kind: 1 }]),
    undefined,
  );
  assert.equal(
    layerWrites({ name: "c", mounts: [{ destination: "/" }] }, [{ Path: "/x", Kind: 1 }]),
    undefined,
  );
  // A folder listed only because a file in it was deleted is not data either.
  assert.equal(
    layerWrites(worker, [{ Path: "/etc", Kind: 0 }, { Path: "/etc/motd", Kind: 2 }]),
    undefined,
  );
});

Deno.test("the finding reads as one line with the first paths", () => {
  const line = describeLayerWrites({ container: "c", paths: ["/a", "/b", "/c", "/d", "/e"] });
  assert.equal(
    line,
    "container c has written 5 paths outside its volumes and bind mounts, which no backup sees: /a, /b, /c, ... (2 more)",
  );
});
