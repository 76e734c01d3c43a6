import assert from "node:assert/strict";
import { fingerprintOf, hostSpec, keyLabel, matchFingerprint, parseScannedKeys } from "./ssh.ts";
import { parseDfAvailable } from "./verify/disk.ts";

Deno.test("host key fingerprints are what ssh-keygen -lf prints", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const type of ["ed25519", "ecdsa", "rsa"]) {
      const f = `${dir}/${type}`;
      await new Deno.Command("ssh-keygen", { args: ["-q", "-t", type, "-N", "", "-f", f] })
        .output();
      const out = await new Deno.Command("ssh-keygen", { args: ["-lf", `${f}.pub`] }).output();
      const expected = new TextDecoder().decode(out.stdout).split(" ")[1];
      const key = (await Deno.readTextFile(`${f}.pub`)).split(" ")[1];
      assert.equal(fingerprintOf(key), expected, type);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ssh-keyscan output: comments and junk skipped, one key per type, fingerprints matched with or without the prefix", () => {
  const ed = "AAAAC3NzaC1lZDI1NTE5AAAAIG5hc2hvc3RrZXkxMjM0NTY3ODkwYWJjZGVmZ2hpams=";
  const text = [
    "# [h]:2222 SSH-2.0-OpenSSH_9.2",
    `[h]:2222 ssh-ed25519 ${ed}`,
    `[h]:2222 ssh-ed25519 ${ed}`,
    "[h]:2222 ssh-rsa not*base64",
    "",
  ].join("\n");
  const keys = parseScannedKeys(text);
  assert.equal(keys.length, 1);
  assert.equal(keys[0].type, "ssh-ed25519");
  assert.equal(keyLabel(keys[0].type), "ED25519");
  assert.equal(matchFingerprint(keys, keys[0].fingerprint), keys[0]);
  assert.equal(matchFingerprint(keys, keys[0].fingerprint.slice("SHA256:".length)), keys[0]);
  assert.equal(matchFingerprint(keys, "SHA256:other"), undefined);
  assert.equal(hostSpec("h", "2222"), "[h]:2222");
  assert.equal(hostSpec("h", "22"), "h");
  assert.equal(hostSpec("h"), "h");
});

Deno.test("df -Pk output gives the free KiB (the peer check of tailscale setup)", () => {
  const out = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n" +
    "/dev/sda1        102400000 51200000  48000000      52% /srv\n";
  assert.equal(parseDfAvailable(out), 48000000);
  assert.equal(parseDfAvailable(""), undefined);
});
