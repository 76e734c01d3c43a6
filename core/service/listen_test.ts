import assert from "node:assert/strict";
import { checkListenPolicy, isLoopback, parseListen } from "./listen.ts";
import { StowageError } from "../errors.ts";

Deno.test("parseListen reads host:port, [v6]:port and port 0", () => {
  assert.deepEqual(parseListen("127.0.0.1:9876"), { hostname: "127.0.0.1", port: 9876 });
  assert.deepEqual(parseListen("[::1]:80"), { hostname: "::1", port: 80 });
  assert.deepEqual(parseListen("localhost:0"), { hostname: "localhost", port: 0 });
  for (const bad of ["9876", "127.0.0.1", "::1:80", "host:99999", "a b:1", ""]) {
    assert.throws(
      () => parseListen(bad),
      (e) => e instanceof StowageError && e.code === "usage",
      bad,
    );
  }
});

Deno.test("isLoopback", () => {
  for (const h of ["127.0.0.1", "127.5.6.7", "::1", "localhost", "LOCALHOST"]) {
    assert.equal(isLoopback(h), true, h);
  }
  for (const h of ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "127.0.0.300", "example.com"]) {
    assert.equal(isLoopback(h), false, h);
  }
});

Deno.test("non-loopback needs the flag and a token file", () => {
  assert.deepEqual(checkListenPolicy({ listen: "127.0.0.1:1", allowRemote: false }), {
    hostname: "127.0.0.1",
    port: 1,
  });
  assert.throws(
    () => checkListenPolicy({ listen: "0.0.0.0:9876", allowRemote: false, tokenFile: "/t" }),
    /not a loopback address/,
  );
  assert.throws(
    () => checkListenPolicy({ listen: "0.0.0.0:9876", allowRemote: true }),
    /without a bearer token/,
  );
  assert.deepEqual(
    checkListenPolicy({ listen: "0.0.0.0:9876", allowRemote: true, tokenFile: "/t" }),
    { hostname: "0.0.0.0", port: 9876 },
  );
});
