import assert from "node:assert/strict";
import { parsePing } from "./tailscale.ts";
import { parseDfAvailable } from "./ssh_client.ts";

Deno.test("tailscale ping's pong line gives the latency; a timeout gives none", () => {
  assert.equal(parsePing("pong from nas (100.64.0.2) via DERP(fra) in 23ms\n"), 23);
  assert.equal(parsePing("pong from nas (100.64.0.2) via 192.0.2.10:41641 in 1.5ms\n"), 1.5);
  assert.equal(parsePing('ping "100.64.0.2" timed out\n'), undefined);
});

Deno.test("df -Pk's last line gives the free KiB", () => {
  const out = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n" +
    "/dev/sda1        102400000 51200000  48000000      52% /srv\n";
  assert.equal(parseDfAvailable(out), 48000000);
  assert.equal(parseDfAvailable(""), undefined);
});
