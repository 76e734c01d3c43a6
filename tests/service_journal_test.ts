/**
 * Journal records through journald's native protocol, received by a real datagram socket standing
 * in for /run/systemd/journal/socket: when stderr is the journal stream (JOURNAL_STREAM = its
 * dev:inode) records arrive as structured entries and stderr stays quiet; otherwise plain stderr.
 */
import assert from "node:assert/strict";
import { DatagramListener, spawnService, waitFor } from "./support/service.ts";
import { decodeJournalEntry } from "./support/journal.ts";

async function scene(fn: (dir: string, journal: DatagramListener) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "stowage-journal-" });
  await Deno.mkdir(`${dir}/rt`, { mode: 0o700 });
  const journal = await DatagramListener.start(`${dir}/journal.sock`);
  try {
    await fn(dir, journal);
  } finally {
    await journal.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

const env = (dir: string) => ({
  STOWAGE_STATE_DIR: `${dir}/state`,
  STOWAGE_JOURNAL_SOCKET: `${dir}/journal.sock`,
  RUNTIME_DIRECTORY: `${dir}/rt`,
});
const net = (dir: string) => [`unix:${dir}/journal.sock`, `unix:${dir}/rt/notify.sock`];

Deno.test("stderr is the journal: records arrive as native-protocol entries with fields", async () => {
  await scene(async (dir, journal) => {
    const d = spawnService(["admin", "service", "daemon", "--status-listen", "127.0.0.1:0"], {
      env: env(dir),
      extraNet: net(dir),
      journal: true,
    });
    const entries = () => journal.datagrams.map(decodeJournalEntry);
    try {
      await waitFor(
        "the ready record",
        () => entries().some((e) => e.MESSAGE?.startsWith("stowage daemon ready")),
        30_000,
      );
    } finally {
      assert.equal(await d.stop(), 0, d.stderr());
    }
    await journal.drain();
    assert.ok(
      entries().some((e) => e.MESSAGE?.startsWith("stowage daemon stopping")),
      "the stopping record",
    );
    const ready = entries().find((e) => e.MESSAGE.startsWith("stowage daemon ready"))!;
    assert.equal(ready.SYSLOG_IDENTIFIER, "stowage");
    assert.equal(ready.PRIORITY, "6");
    assert.ok(
      entries().some((e) => /^status endpoint on http:\/\/127\.0\.0\.1:\d+ /.test(e.MESSAGE)),
    );
    // The journal replaced stderr for log records: nothing is said twice.
    assert.doesNotMatch(d.stderr(), /stowage daemon ready|status endpoint on/);
    // the socket stowage sent from lives in RuntimeDirectory and is gone afterwards
    assert.deepEqual([...Deno.readDirSync(`${dir}/rt`)], []);
  });
});

Deno.test("JOURNAL_STREAM naming another stream: plain stderr, nothing sent", async () => {
  await scene(async (dir, journal) => {
    const d = spawnService(["admin", "service", "daemon"], {
      env: { ...env(dir), JOURNAL_STREAM: "1:1" },
      extraNet: net(dir),
    });
    try {
      await waitFor("the ready line", () => d.stderr().includes("stowage daemon ready"), 30_000)
        .catch((e) => {
          throw new Error(`${e.message}: ${d.stderr()} / ${journal.messages.join(" ")}`);
        });
    } finally {
      assert.equal(await d.stop(), 0, d.stderr());
    }
    assert.match(d.stderr(), /stowage daemon stopping/);
    await journal.drain();
    assert.equal(journal.datagrams.length, 0);
  });
});

Deno.test("a timer-started backup logs to the journal with UNIT, OPERATION and BACKUP_ID", async () => {
  const { createFixtureStack } = await import("./support/fixture.ts");
  const { cleanupDocker } = await import("./support/docker.ts");
  const { testRepoEnv } = await import("./support/repo.ts");
  const s = await createFixtureStack({ name: "jbackup" });
  const repoEnv = await testRepoEnv();
  try {
    await s.up();
    await scene(async (dir, journal) => {
      const b = spawnService(["backup", "--unit", s.project], {
        env: { ...repoEnv.env, ...env(dir) },
        extraNet: net(dir),
        journal: true,
      });
      assert.equal(await b.child.status.then((st) => st.code), 0, b.stderr());
      await journal.drain();
      const entries = journal.datagrams.map(decodeJournalEntry);
      const stops = entries.filter((e) =>
        e.UNIT === s.project && e.OPERATION === "backup" && /^stopped /.test(e.MESSAGE)
      );
      assert.equal(stops.length, 3, JSON.stringify(entries.map((e) => e.MESSAGE)));
      assert.match(stops[0].BACKUP_ID, /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/);
      assert.ok(entries.some((e) => e.UNIT === s.project && /done, down/.test(e.MESSAGE)));
    });
  } finally {
    await s.down();
    await cleanupDocker();
    await repoEnv.cleanup();
    await Deno.remove(s.dir, { recursive: true }).catch(() => {});
  }
});
