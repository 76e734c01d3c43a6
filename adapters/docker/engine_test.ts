import assert from "node:assert/strict";
import { StowageError } from "../../core/errors.ts";
import {
  compareApiVersions,
  connectionError,
  negotiateApiVersion,
  socketPathFromHost,
} from "./engine.ts";

Deno.test("DOCKER_HOST: unix sockets only, default /var/run/docker.sock", () => {
  assert.equal(socketPathFromHost(undefined), "/var/run/docker.sock");
  assert.equal(socketPathFromHost(""), "/var/run/docker.sock");
  assert.equal(
    socketPathFromHost("unix:///run/user/1000/docker.sock"),
    "/run/user/1000/docker.sock",
  );
  assert.equal(socketPathFromHost("/var/run/docker.sock"), "/var/run/docker.sock");
  for (
    const bad of [
      "tcp://10.0.0.1:2375",
      "ssh://me@host",
      "npipe:////./pipe/docker_engine",
      "unix://relative.sock",
    ]
  ) {
    assert.throws(() => socketPathFromHost(bad), (e) => {
      assert.ok(e instanceof StowageError);
      assert.equal(e.code, "usage");
      assert.ok(e.message.includes(bad), e.message);
      assert.ok(e.hint);
      return true;
    });
  }
});

Deno.test("API version: the engine's, capped at 1.43, never below 1.41", () => {
  assert.ok(compareApiVersions("1.9", "1.41") < 0);
  assert.ok(compareApiVersions("1.43", "1.41") > 0);
  assert.equal(compareApiVersions("1.41", "1.41"), 0);
  assert.equal(negotiateApiVersion("1.41"), "1.41");
  assert.equal(negotiateApiVersion("1.42"), "1.42");
  assert.equal(negotiateApiVersion("1.45"), "1.43");
  assert.equal(negotiateApiVersion("2.0"), "1.43");
  assert.throws(() => negotiateApiVersion("1.40"), /API version 1\.40 is older than 1\.41/);
  assert.throws(() => negotiateApiVersion("garbage"), /unreadable API version/);
});

Deno.test("connection failures are classified from the OS error", () => {
  const fail = (msg: string) => {
    const e = new TypeError("fetch failed");
    (e as { cause?: unknown }).cause = new Error(msg);
    return e;
  };
  const missing = connectionError(
    "/s.sock",
    fail("client error (Connect): No such file or directory (os error 2)"),
  );
  assert.equal(missing?.code, "engine.unavailable");
  assert.equal(
    missing?.message,
    "Cannot reach the Docker Engine at /s.sock: the socket does not exist",
  );
  assert.match(missing!.hint!, /systemctl start docker/);
  assert.equal(
    connectionError("/s.sock", fail("(Connect): Connection refused (os error 111)"))?.code,
    "engine.unavailable",
  );
  const denied = connectionError(
    "/s.sock",
    fail("client error (Connect): Permission denied (os error 13)"),
  );
  assert.equal(denied?.code, "engine.permission");
  assert.match(denied!.hint!, /docker group/);
  assert.equal(connectionError("/s.sock", new SyntaxError("Unexpected token")), undefined);
});
