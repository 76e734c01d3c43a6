/**
 * The daemon as a real process, as systemd runs it: a test NOTIFY_SOCKET (a real datagram socket)
 * receives READY, STATUS, WATCHDOG beats during a backup longer than the watchdog interval, and
 * STOPPING, in order; SIGTERM exits 0 and never leaves containers down; the daemon and a manual
 * `stowage backup` never overlap; /metrics shows the fixture stack's last backup; the journal gets
 * the run's records with UNIT, OPERATION and BACKUP_ID.
 */
import assert from "node:assert/strict";
import { stowage } from "./support/cli.ts";
import { cleanupDocker, docker, runTestContainer, sh } from "./support/docker.ts";
import { type FixtureStack, withFixtureStack } from "./support/fixture.ts";
import { type TestRepoEnv, testRepoEnv } from "./support/repo.ts";
import { DatagramListener, spawnService, waitFor } from "./support/service.ts";
import { decodeJournalEntry } from "./support/journal.ts";
import { parsePrometheusText, promValue } from "./support/prometheus.ts";

/** The arguments of `admin service daemon` backing up one unit every 60 minutes. */
const hourlyDaemon = (unit: string, ...extra: string[]) => [
  "admin",
  "service",
  "daemon",
  "--interval-minutes",
  "60",
  "--unit",
  unit,
  ...extra,
];

interface Scene {
  dir: string;
  notify: DatagramListener;
  journal: DatagramListener;
  env: Record<string, string>;
  extraNet: string[];
}

async function withScene(repo: TestRepoEnv, fn: (s: Scene) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "stowage-daemon-" });
  await Deno.mkdir(`${dir}/rt`, { mode: 0o700 });
  const notify = await DatagramListener.start(`${dir}/notify.sock`);
  const journal = await DatagramListener.start(`${dir}/journal.sock`);
  try {
    await fn({
      dir,
      notify,
      journal,
      env: {
        ...repo.env,
        NOTIFY_SOCKET: `${dir}/notify.sock`,
        WATCHDOG_USEC: "400000",
        RUNTIME_DIRECTORY: `${dir}/rt`,
        STOWAGE_JOURNAL_SOCKET: `${dir}/journal.sock`,
      },
      extraNet: [
        `unix:${dir}/notify.sock`,
        `unix:${dir}/journal.sock`,
        `unix:${dir}/rt/notify.sock`,
      ],
    });
  } finally {
    await notify.stop();
    await journal.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A step on the file's one stack (see the last test), with a repository of its own. */
function onRepo(fn: (s: FixtureStack, repo: TestRepoEnv) => Promise<void>) {
  return async (s: FixtureStack) => {
    const repo = await testRepoEnv();
    try {
      await fn(s, repo);
    } finally {
      await repo.cleanup();
    }
  };
}

async function running(s: FixtureStack): Promise<Record<string, boolean>> {
  const out: Record<string, boolean> = {};
  for (const svc of ["db", "app", "web"]) {
    out[svc] =
      (await docker("inspect", "-f", "{{.State.Running}}", s.container(svc))).stdout.trim() ===
        "true";
  }
  return out;
}

Deno.test("without a backup: READY, WATCHDOG beats, STOPPING on SIGTERM, exit 0", async () => {
  const repo = await testRepoEnv();
  try {
    await withScene(repo, async (sc) => {
      const d = spawnService(["admin", "service", "daemon"], {
        env: sc.env,
        extraNet: sc.extraNet,
      });
      try {
        await waitFor(
          "READY=1",
          () => sc.notify.messages.some((m) => m.startsWith("READY=1")),
          30_000,
        );
        await waitFor(
          "three watchdog beats",
          () => sc.notify.messages.filter((m) => m === "WATCHDOG=1").length >= 3,
          10_000,
        );
      } finally {
        assert.equal(await d.stop(), 0, d.stderr());
      }
      await sc.notify.drain();
      const m = sc.notify.messages;
      assert.equal(m[0], "READY=1\nSTATUS=No backup recorded yet");
      assert.match(m[m.length - 1], /^STOPPING=1\nSTATUS=Stopping: no backup running$/);
      assert.deepEqual(new Set(m.slice(1, -1)), new Set(["WATCHDOG=1"]));
    });
  } finally {
    await repo.cleanup();
  }
});

Deno.test("WATCHDOG_PID naming another process: no beats", async () => {
  const repo = await testRepoEnv();
  try {
    await withScene(repo, async (sc) => {
      const d = spawnService(["admin", "service", "daemon"], {
        env: { ...sc.env, WATCHDOG_PID: "1" },
        extraNet: sc.extraNet,
      });
      try {
        await waitFor(
          "READY=1",
          () => sc.notify.messages.some((m) => m.startsWith("READY=1")),
          30_000,
        );
        // An absence needs a window: a second daemon with the same watchdog interval, started
        // once this one was ready, sends three beats; this one had at least as long to beat.
        const refRepo = await testRepoEnv();
        try {
          await withScene(refRepo, async (ref) => {
            const r = spawnService(["admin", "service", "daemon"], {
              env: ref.env,
              extraNet: ref.extraNet,
            });
            try {
              await waitFor(
                "three watchdog beats of the reference daemon",
                () => ref.notify.messages.filter((m) => m === "WATCHDOG=1").length >= 3,
                30_000,
              );
            } finally {
              assert.equal(await r.stop(), 0, r.stderr());
            }
          });
        } finally {
          await refRepo.cleanup();
        }
      } finally {
        assert.equal(await d.stop(), 0, d.stderr());
      }
      await sc.notify.drain();
      assert.ok(
        sc.notify.messages.some((m) => m.startsWith("STOPPING=1")),
        "the listener heard it",
      );
      assert.equal(sc.notify.messages.includes("WATCHDOG=1"), false);
    });
  } finally {
    await repo.cleanup();
  }
});

const intervalBackup = onRepo(async (s, repo) => {
  await withScene(repo, async (sc) => {
    const d = spawnService(
      hourlyDaemon(s.project, "--status-listen", "127.0.0.1:0"),
      { env: sc.env, extraNet: sc.extraNet, journal: true },
    );
    const entries = () => sc.journal.datagrams.map(decodeJournalEntry);
    let manual;
    try {
      const runningLine = `STATUS=Running backup: ${s.project} (1/1)`;
      await waitFor("the running STATUS", () => sc.notify.messages.includes(runningLine), 60_000)
        .catch((e) => {
          throw new Error(
            `${e.message}: ${sc.notify.messages.join(" | ")} / ${
              entries().map((x) => x.MESSAGE).join(" | ")
            }`,
          );
        });
      // A manual backup while the daemon's run holds the host lock is refused.
      manual = await stowage(["backup", "--unit", s.project], { env: repo.env });
      await waitFor(
        "the finished STATUS",
        () => sc.notify.messages.some((m) => /^STATUS=Last backup: .*, ok; next at /.test(m)),
        180_000,
      );

      const port = entries().map((e) =>
        /status endpoint on http:\/\/127\.0\.0\.1:(\d+) /.exec(e.MESSAGE)?.[1]
      ).find(Boolean);
      assert.ok(port, "the endpoint announced itself in the journal");
      const metrics = parsePrometheusText(
        (await sh("curl", ["-fsS", `http://127.0.0.1:${port}/metrics`])).stdout,
      );
      const lastSuccess = promValue(metrics, "stowage_unit_last_success_timestamp_seconds", {
        unit: s.project,
      });
      assert.ok(
        lastSuccess && lastSuccess > Date.now() / 1000 - 600,
        `last success of ${s.project}: ${lastSuccess}`,
      );
      assert.ok(promValue(metrics, "stowage_unit_last_snapshots", { unit: s.project })! >= 3);
      assert.ok(
        promValue(metrics, "stowage_unit_last_downtime_seconds", { unit: s.project })! > 0,
      );
      assert.equal(promValue(metrics, "stowage_unit_failures_total", { unit: s.project }), 0);
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      assert.equal(health.status, 200, await health.clone().text());
      await health.body?.cancel();
      const status = await (await fetch(`http://127.0.0.1:${port}/status`)).json();
      assert.equal(status.mode, "interval");
      assert.equal(status.units[0].unit, s.project);
      assert.equal(status.units[0].last.outcome, "ok");
      assert.ok(status.nextRunAt > new Date().toISOString());
      await waitFor("repository statistics", async () => {
        const m = parsePrometheusText(
          await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
        );
        return (promValue(m, "stowage_unit_snapshots", { unit: s.project }) ?? 0) >= 3 &&
          (promValue(m, "stowage_repository_size_bytes") ?? 0) > 100e6;
      }, 30_000);
    } finally {
      assert.equal(await d.stop(), 0, d.stderr());
    }
    await sc.notify.drain();
    await sc.journal.drain();

    assert.equal(manual.code, 11, manual.stderr);
    assert.match(manual.stderr, /another backup is running \(pid \d+/);

    const m = sc.notify.messages;
    const ready = m.findIndex((x) => x.startsWith("READY=1"));
    const run = m.indexOf(`STATUS=Running backup: ${s.project} (1/1)`);
    const done = m.findIndex((x) => /^STATUS=Last backup: .*, ok; next at /.test(x));
    const stop = m.findIndex((x) => x.startsWith("STOPPING=1"));
    assert.ok(ready === 0 && run > ready && done > run && stop > done, m.join(" | "));
    assert.equal(stop, m.length - 1, "nothing after STOPPING=1");
    const beats = m.slice(run, done).filter((x) => x === "WATCHDOG=1").length;
    // The run lasted longer than the watchdog interval (0.4 s), and the beats kept coming.
    const report = JSON.parse(await Deno.readTextFile(`${repo.stateDir}/results.json`)).runs.at(
      -1,
    );
    assert.ok(report.durationMs > 400, `run took ${report.durationMs} ms`);
    assert.ok(
      beats >= 2,
      `${beats} beats during a ${report.durationMs} ms run: ${m.join(" | ")}`,
    );

    // The journal got the run, with fields to filter by.
    const unitEntries = entries().filter((e) => e.UNIT === s.project);
    assert.ok(
      unitEntries.some((e) => /^stopped /.test(e.MESSAGE)),
      JSON.stringify(entries().slice(0, 20)),
    );
    assert.ok(
      unitEntries.every((e) =>
        e.OPERATION === "backup" && e.BACKUP_ID === report.backupId &&
        e.SYSLOG_IDENTIFIER === "stowage"
      ),
    );

    assert.deepEqual(await running(s), { db: true, app: true, web: true });
  });
});

const sigtermDuringBackup = onRepo(async (s, repo) => {
  await withScene(repo, async (sc) => {
    const d = spawnService(hourlyDaemon(s.project), { env: sc.env, extraNet: sc.extraNet });
    try {
      await waitFor(
        "the running STATUS",
        () => sc.notify.messages.includes(`STATUS=Running backup: ${s.project} (1/1)`),
        60_000,
      )
        .catch((e) => {
          throw new Error(`${e.message}: ${sc.notify.messages.join(" | ")} / ${d.stderr()}`);
        });
      await waitFor(
        "a stopped container",
        async () => Object.values(await running(s)).includes(false),
        60_000,
      );
    } finally {
      assert.equal(await d.stop(), 0, d.stderr());
    }
    await sc.notify.drain();
    assert.deepEqual(await running(s), { db: true, app: true, web: true });
    const stop = sc.notify.messages.find((x) => x.startsWith("STOPPING=1"));
    assert.match(stop ?? "", /interrupting the running backup and starting its containers/);
    assert.match(d.stderr(), /backup \S+ interrupted|backup interrupted by shutdown/);
  });
});

Deno.test("the daemon's scheduled run is skipped, not failed, while another backup holds the lock", async () => {
  const repo = await testRepoEnv();
  await Deno.mkdir(repo.stateDir, { recursive: true });
  // A real unit of its own: the daemon checks unit names before it queues for the lock.
  const unit = await runTestContainer("skipped");
  const holder = new Deno.Command("flock", {
    args: ["-x", `${repo.stateDir}/backup.lock`, "sleep", "300"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitFor(
      "the lock holder",
      async () =>
        (await sh("flock", ["-n", `${repo.stateDir}/backup.lock`, "true"], { check: false }))
          .code !== 0,
    );
    await withScene(repo, async (sc) => {
      const d = spawnService(hourlyDaemon(unit, "--status-listen", "127.0.0.1:0"), {
        env: sc.env,
        extraNet: sc.extraNet,
      });
      try {
        await waitFor(
          "the skip",
          () => /backup skipped: .*another backup is running/.test(d.stderr()),
          60_000,
        );
        const port = /status endpoint on http:\/\/127\.0\.0\.1:(\d+) /.exec(d.stderr())![1];
        const status = await (await fetch(`http://127.0.0.1:${port}/status`)).json();
        assert.match(status.notice, /skipped a scheduled backup .*another backup is running/);
        assert.equal(status.inProgress, null);
      } finally {
        assert.equal(await d.stop(), 0, d.stderr());
      }
    });
  } finally {
    try {
      holder.kill("SIGKILL");
    } catch { /* already gone: the assertion above says why */ }
    await holder.status;
    await repo.cleanup();
    await cleanupDocker();
  }
});

Deno.test("daemon backups, on one fixture stack", async (t) => {
  // One stack for both steps (a stack costs docker-compose, three containers and a network);
  // each step has its own repository, and leaves the containers running.
  await withFixtureStack({ name: "svc" }, async (s) => {
    // Enough data that saving the volume takes a while: a deliberately slow backup.
    await docker(
      "exec",
      s.container("db"),
      "sh",
      "-c",
      "dd if=/dev/urandom of=/data/blob bs=1M count=150 2>/dev/null",
    );
    await t.step(
      "interval backup: notify order, beats during the run, lock contention, metrics, journal fields",
      () => intervalBackup(s),
    );
    await t.step(
      "SIGTERM during the daemon's backup: containers start again, STOPPING, exit 0",
      () => sigtermDuringBackup(s),
    );
  });
});
