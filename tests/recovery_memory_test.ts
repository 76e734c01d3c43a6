/**
 * Disaster-recovery bundles stream: a 200 MiB file in the bundle costs far less than 200 MiB of
 * the CLI's peak RSS, writing and verifying. Its own file (moved from recovery_test.ts) because it
 * measures memory: scripts/test.sh runs it serially, with no other test file loading the CPU
 * (V8 frees large buffers late when starved), while recovery_test.ts runs in parallel.
 */
import assert from "node:assert/strict";
import { sh } from "./support/docker.ts";
import { type Env, makeEnv, ROOT } from "./support/recovery.ts";

/** Peak RSS (KiB) of the CLI process, from GNU time. */
async function peakRss(
  args: string[],
  env: Record<string, string>,
): Promise<{ kib: number; code: number; stderr: string }> {
  const r = await sh(
    "/usr/bin/time",
    [
      "-f",
      "PEAK_RSS_KIB=%M",
      Deno.execPath(),
      "run",
      "-P=stowage",
      "--no-prompt",
      "--quiet",
      `${ROOT}main.ts`,
      ...args,
    ],
    { env: { NO_COLOR: "1", ...env }, cwd: ROOT, check: false },
  );
  const m = r.stderr.match(/PEAK_RSS_KIB=(\d+)/);
  assert.ok(m, r.stderr);
  return { kib: Number(m[1]), code: r.code, stderr: r.stderr };
}

Deno.test("memory stays flat: a 200 MiB file in the bundle costs far less than 200 MiB of RSS, writing and verifying", async () => {
  const small = await makeEnv();
  const big = await makeEnv({ knownHostsBytes: 200 * 1024 * 1024 });
  try {
    const args = (e: Env) => [
      "disaster-recovery",
      "--password-file",
      e.bundlePasswordFile,
      "--output",
      e.out,
      "--json",
    ];
    const w0 = await peakRss(args(small), small.env);
    const w1 = await peakRss(args(big), big.env);
    assert.equal(w0.code, 0, w0.stderr);
    assert.equal(w1.code, 0, w1.stderr);
    const [bundle] = [...Deno.readDirSync(big.out)].map((x) => x.name);
    assert.ok(
      (await Deno.stat(`${big.out}/${bundle}`)).size > 200 * 1024 * 1024,
      "the big file is in the bundle",
    );
    const v1 = await peakRss([
      "disaster-recovery",
      "verify",
      `${big.out}/${bundle}`,
      "--password-file",
      big.bundlePasswordFile,
    ], big.env);
    assert.equal(v1.code, 0, v1.stderr);
    const grow = (kib: number) => (kib - w0.kib) / 1024;
    // Buffering the input would grow RSS by at least its 200 MiB. Streaming costs a bounded
    // amount whatever the size: V8 frees the chunks' ArrayBuffers only after about 64 MiB of
    // garbage, so growth settles near 70-90 MiB here (the same for 200 MiB and 500 MiB).
    const limit = 0.6 * 200;
    assert.ok(
      grow(w1.kib) < limit,
      `writing grew RSS by ${grow(w1.kib).toFixed(0)} MiB (baseline ${w0.kib} KiB)`,
    );
    assert.ok(
      grow(v1.kib) < limit,
      `verifying grew RSS by ${grow(v1.kib).toFixed(0)} MiB (baseline ${w0.kib} KiB)`,
    );
  } finally {
    await small.cleanup();
    await big.cleanup();
  }
});
