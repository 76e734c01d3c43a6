/**
 * The live progress line of a real backup, on a real pseudo-terminal at 50 and 120 columns: it
 * fits the width, is redrawn in place (no leftover copies on the screen afterwards) and shows
 * bytes done/total, rate, ETA and elapsed time. Without a terminal there is no progress line.
 */
import assert from "node:assert/strict";
import { docker, ensureTestImage, sh, TEST_LABEL, testName } from "./support/docker.ts";
import { stowage } from "./support/cli.ts";
import { testRepoEnv } from "./support/repo.ts";
import { onTerminal, screen } from "./support/terminal.ts";

// A frame: CR, erase line, then the progress text.
// deno-lint-ignore no-control-regex -- the frames are terminal escape sequences
const FRAME = /\r\x1b\[2K(\[[^\r\n\x1b]*?\d+%[^\r\n\x1b]*)/g;

Deno.test("backup on a terminal: a progress line that fits 50 and 120 columns, redrawn in place, none without a terminal", async () => {
  const image = await ensureTestImage();
  const name = testName("progress");
  const volume = testName("progress-data");
  // No warm pass: it would save the fresh bytes while the container runs, leaving the cold pass,
  // whose frames this test reads last, nothing to show progress on.
  const env = await testRepoEnv("  warm_pass: false\n");
  // restic reports progress 30 times a second, so even a short save draws several frames.
  const runEnv = { ...env.env, RESTIC_PROGRESS_FPS: "30" };
  const freshData = () =>
    docker(
      "exec",
      name,
      "sh",
      "-c",
      "dd if=/dev/urandom of=/data/blob bs=1M count=64 2>/dev/null",
    );
  try {
    await docker("volume", "create", "--label", TEST_LABEL, volume);
    await docker(
      "run",
      "-d",
      "--init",
      "--label",
      TEST_LABEL,
      "--name",
      name,
      "-v",
      `${volume}:/data`,
      image,
      "sleep",
      "infinity",
    );
    for (const columns of [50, 120]) {
      await freshData(); // new bytes each time: a deduplicated save would be over at once
      const r = await onTerminal(["backup", "--unit", name], { env: runEnv, columns });
      const where = `at ${columns} columns:\n${JSON.stringify(r.output)}`;
      assert.equal(r.timedOut, false, where);
      assert.equal(r.code, 0, where);
      const frames = [...r.output.matchAll(FRAME)].map((m) => m[1]);
      assert.ok(frames.length > 0, `no progress frame ${where}`);
      for (const f of frames) assert.ok(f.length < columns, `frame wider than ${columns}: ${f}`);
      const last = frames.at(-1)!;
      assert.match(
        last,
        /\d+(\.\d)? (B|KiB|MiB)\/\d+(\.\d)? (B|KiB|MiB)/,
        `bytes done/total: ${last}`,
      );
      assert.match(last, /ETA /, last);
      if (columns >= 120) {
        assert.match(last, /\/s {2}\d+:\d\d elapsed$/, `rate and elapsed: ${last}`);
        assert.ok(last.includes(volume), `the whole name at 120 columns: ${last}`);
      } else {
        assert.ok(last.includes("…"), `the name cut in the middle at 50 columns: ${last}`);
      }
      // What the operator sees afterwards: step lines, no stale progress copies, nothing wider.
      const lines = screen(r.output, columns);
      const stale = lines.filter((l) => /\d+%/.test(l) && /ETA/.test(l));
      assert.deepEqual(stale, [], `leftover progress lines:\n${lines.join("\n")}`);
      assert.ok(lines.some((l) => l.includes("saved data")), lines.join("\n"));
    }

    await freshData();
    const piped = await stowage(["backup", "--unit", name], { env: runEnv });
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok(!piped.stderr.includes("\r") && !/ETA/.test(piped.stderr), piped.stderr);
  } finally {
    await sh("docker", ["rm", "-f", "-v", name], { check: false });
    await sh("docker", ["volume", "rm", "-f", volume], { check: false });
    await env.cleanup();
  }
});
