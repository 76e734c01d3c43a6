import assert from "node:assert/strict";
import { parsePing } from "./tailscale.ts";

Deno.test("tailscale ping's pong line gives the latency; a timeout gives none", () => {
  assert.equal(parsePing("pong from nas (100.64.0.2) via DERP(fra) in 23ms\n"), 23);
  assert.equal(parsePing("pong from nas (100.64.0.2) via 192.0.2.10:41641 in 1.5ms\n"), 1.5);
  assert.equal(parsePing('ping "100.64.0.2" timed out\n'), undefined);
});
