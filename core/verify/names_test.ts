import assert from "node:assert/strict";
import { allocateSubnets, remapIp, sandboxName, sandboxObjectName, scratchPath } from "./names.ts";
import { diskShortfall, parseDfAvailable } from "./disk.ts";

Deno.test("sandbox names: the unit plus the run id, lowercase, never a live name", () => {
  assert.equal(sandboxName("shop", "1a2b3c4d"), "verify-1a2b3c4d-shop");
  assert.equal(sandboxName("My.App", "1a2b3c4d"), "verify-1a2b3c4d-my-app");
  assert.equal(sandboxObjectName("shop_db", "shop", "1a2b3c4d"), "verify-1a2b3c4d-shop_db");
  assert.equal(sandboxObjectName("shared", "shop", "1a2b3c4d"), "verify-1a2b3c4d-shop_shared");
});

Deno.test("an anonymous volume stays anonymous-looking: its first 8 digits become the run id", () => {
  const anon = "f".repeat(64);
  const out = sandboxObjectName(anon, "shop", "1a2b3c4d");
  assert.match(out, /^[0-9a-f]{64}$/);
  assert.equal(out.slice(0, 8), "1a2b3c4d");
  assert.notEqual(out, anon);
});

Deno.test("bind folders move below the scratch folder, whatever dots the path holds", () => {
  assert.equal(scratchPath("/s/verify/ab", "/srv/app/html"), "/s/verify/ab/binds/srv/app/html");
  assert.equal(scratchPath("/s/verify/ab", "/srv/../etc"), "/s/verify/ab/binds/etc");
});

Deno.test("subnets: same size, none overlapping the host's or each other, addresses follow", () => {
  const out = allocateSubnets(
    ["10.213.5.0/24", "172.30.0.0/16", "10.213.6.0/24"],
    ["10.240.0.0/24", "172.17.0.0/16"],
  );
  assert.equal(out.get("10.213.5.0/24"), "10.240.1.0/24");
  assert.equal(out.get("172.30.0.0/16"), "10.241.0.0/16");
  assert.equal(out.get("10.213.6.0/24"), "10.240.2.0/24");
  assert.equal(remapIp("10.213.5.10", "10.213.5.0/24", "10.240.1.0/24"), "10.240.1.10");
  assert.equal(remapIp("10.213.7.10", "10.213.5.0/24", "10.240.1.0/24"), undefined);
});

Deno.test("subnets: an exhausted pool is reported, not overlapped", () => {
  const out = allocateSubnets(["10.0.0.0/24"], ["10.240.0.0/12"]);
  assert.equal(out.get("10.0.0.0/24"), undefined);
});

Deno.test("free disk: df's available column, and a shortfall names the place", () => {
  const df = "Filesystem 1-blocks Used Available Capacity Mounted on\n" +
    "/dev/sda1 1000000 400000 600000 40% /\n";
  assert.equal(parseDfAvailable(df), 600000);
  assert.equal(parseDfAvailable("garbage"), undefined);
  assert.deepEqual(diskShortfall(100000, [{ path: "/", free: 600000 }]), []);
  const short = diskShortfall(700000, [{ path: "/var/lib/docker", free: 600000 }]);
  assert.equal(short.length, 1);
  assert.match(short[0], /^\/var\/lib\/docker has 0\.6 MiB free, the restore needs 0\.7 MiB$/);
});
