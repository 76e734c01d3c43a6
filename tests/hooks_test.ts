/**
 * Hooks against real containers, run under the CLI's own permission set: every phase runs in
 * tests/hooks_harness.ts through `deno run -P=stowage` (the real Engine adapter, discovery and
 * runner), and `admin hooks` through the CLI itself.
 */
import assert from "node:assert/strict";
import {
  cleanupDocker,
  docker,
  ensureTestImage,
  sh,
  TEST_LABEL,
  testName,
} from "./support/docker.ts";
import { createFixtureStack, type FixtureStack } from "./support/fixture.ts";
import { isolatedEnv, stowage } from "./support/cli.ts";
import type { StowageEvent } from "../core/events.ts";
import {
  type HookOutcome,
  type HookPhase,
  type PhaseResult,
  runPhaseHooks,
} from "../core/hooks/mod.ts";
import { EngineClient } from "../adapters/docker/engine.ts";
import { MemorySink } from "../core/events.ts";
import { configSchema } from "../core/config/schema.ts";
import { loadHookModule } from "../adapters/hooks/modules.ts";
import { runInGroup } from "../adapters/hooks/process.ts";
import { hookHost } from "../adapters/hooks/host.ts";

const ROOT = new URL("../", import.meta.url).pathname;

interface PhaseRun {
  result: PhaseResult;
  events: StowageEvent[];
}

async function phase(
  phase: HookPhase,
  unit: string,
  config: string,
  extra: { outcome?: HookOutcome; dryRun?: boolean; aborted?: boolean; backupId?: string } = {},
): Promise<PhaseRun> {
  const res = await sh(Deno.execPath(), [
    "run",
    "-P=stowage",
    "--no-prompt",
    "--quiet",
    `${ROOT}tests/hooks_harness.ts`,
  ], {
    cwd: ROOT,
    check: false,
    env: { NO_COLOR: "1" },
    stdin: JSON.stringify({
      phase,
      unit,
      config,
      backupId: extra.backupId ?? "2025-01-31T23-59-59Z",
      ...extra,
    }),
  });
  if (res.code !== 0) throw new Error(`hooks harness failed (${res.code}): ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split("\n").pop()!);
}

async function readIn(container: string, path: string): Promise<string | undefined> {
  const r = await sh("docker", ["exec", container, "cat", path], { check: false });
  return r.code === 0 ? r.stdout : undefined;
}

const logs = (run: PhaseRun, level?: string) =>
  run.events.filter((e): e is Extract<StowageEvent, { type: "log" }> =>
    e.type === "log" && (!level || e.level === level)
  )
    .map((e) => e.message);
const hookEvents = (run: PhaseRun) =>
  run.events.filter((e): e is Extract<StowageEvent, { type: "hook" }> => e.type === "hook");

/** Quotes for a YAML double-quoted scalar. */
const q = (s: string) => JSON.stringify(s);

Deno.test({
  name: "hooks: shell, argv, module and label hooks around real containers",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await ensureTestImage();
    const dir = await Deno.makeTempDir({ prefix: "stowage-hooks-" });
    const stack: FixtureStack = await createFixtureStack({ name: "hooks" });
    const solo = testName("hooksolo");
    try {
      await stack.up();
      const app = stack.container("app");
      const db = stack.container("db");
      const [labelKey, labelValue] = TEST_LABEL.split("=");
      await docker(
        "run",
        "-d",
        "--init",
        "--name",
        solo,
        "--label",
        `${labelKey}=${labelValue}`,
        "--label",
        "stowage.pre-backup=echo pre-$STOWAGE_PHASE > /data/label-pre; id -u > /data/label-uid; echo label said hi",
        "--label",
        'stowage.post-backup=echo "$STOWAGE_OUTCOME $STOWAGE_BACKUP_ID $STOWAGE_ERROR" > /data/label-post',
        "--label",
        "stowage.hook-user=app",
        "--label",
        "stowage.pre-restore=sleep 1000",
        "--label",
        "stowage.hook-timeout=1",
        "stowage-test/busybox:1",
        "sh",
        "-c",
        "chmod 1777 /data && exec sleep 1000000",
      );

      await t.step(
        "pre hooks of every kind leave markers in the running containers, in order",
        async () => {
          await Deno.writeTextFile(
            `${dir}/mark.ts`,
            `import type { Hook } from "@stowage/hooks-sdk";
export default {
  sdk: 1,
  name: "marker",
  async preBackup(ctx) {
    const r = await ctx.exec("app", ["sh", "-c", "echo module-$STOWAGE_UNIT > /data/module-marker; echo from-exec"], { check: true });
    ctx.log.info("exec said " + r.stdout.trim());
    const h = await ctx.run("sh", ["-c", "echo host-$STOWAGE_PHASE"]);
    ctx.log.info("run said " + h.stdout.trim() + " for " + ctx.containers.map((c) => c.service).sort().join(","));
  },
} satisfies Hook;
`,
          );
          const config = `
hooks:
  pre_backup:
    - run: ${
            q(`env | grep ^STOWAGE_ | sort > ${dir}/env.txt; docker exec ${app} touch /data/shell-marker; echo shell says hi`)
          }
units:
  ${stack.project}:
    hooks:
      pre_backup:
        - run: ["docker", "exec", ${q(app)}, "touch", "/data/argv-marker"]
        - module: ${q(`${dir}/mark.ts`)}
`;
          const run = await phase("pre_backup", stack.project, config);
          assert.deepEqual(run.result, { status: "ok" });
          for (const m of ["shell-marker", "argv-marker"]) {
            assert.equal(await readIn(app, `/data/${m}`), "", m);
          }
          assert.equal(await readIn(app, "/data/module-marker"), `module-${stack.project}\n`);
          assert.deepEqual(hookEvents(run).map((e) => [e.hook, e.outcome]), [["env", "ok"], [
            "docker",
            "ok",
          ], ["marker", "ok"]]);
          const info = logs(run, "info");
          assert.ok(info.includes("env: shell says hi"), info.join("\n"));
          assert.ok(info.includes("marker: exec said from-exec"), info.join("\n"));
          assert.ok(
            info.includes("marker: run said host-pre_backup for app,db,web"),
            info.join("\n"),
          );
          const env = await Deno.readTextFile(`${dir}/env.txt`);
          assert.match(env, new RegExp(`^STOWAGE_UNIT=${stack.project}$`, "m"));
          assert.match(env, /^STOWAGE_PHASE=pre_backup$/m);
          assert.match(env, /^STOWAGE_BACKUP_ID=2025-01-31T23-59-59Z$/m);
          assert.match(env, /^STOWAGE_SCOPE=standard$/m);
          assert.match(env, /^STOWAGE_DRY_RUN=0$/m);
          const containers = JSON.parse(/^STOWAGE_CONTAINERS=(.*)$/m.exec(env)![1]);
          assert.deepEqual(
            containers.map((c: { service: string }) => c.service).sort(),
            ["app", "db", "web"],
          );
          assert.ok(!/STOWAGE_OUTCOME/.test(env), "pre hooks get no outcome");
        },
      );

      await t.step(
        "label hooks run inside their container, as the hook user; post hooks see the outcome",
        async () => {
          const pre = await phase("pre_backup", solo, "{}");
          assert.deepEqual(pre.result, { status: "ok" });
          assert.equal(await readIn(solo, "/data/label-pre"), "pre-pre_backup\n");
          assert.equal(await readIn(solo, "/data/label-uid"), "1000\n");
          assert.ok(logs(pre, "info").includes(`stowage.pre-backup@${solo}: label said hi`));
          const post = await phase("post_backup", solo, "{}", {
            outcome: {
              status: "failed",
              backupId: "2025-02-01T00-00-00Z",
              snapshots: [],
              error: "disk full",
            },
            backupId: "2025-02-01T00-00-00Z",
          });
          assert.deepEqual(post.result, { status: "ok" });
          assert.equal(
            await readIn(solo, "/data/label-post"),
            "failed 2025-02-01T00-00-00Z disk full\n",
          );
        },
      );

      await t.step(
        "module post hooks get the outcome; shell post hooks get STOWAGE_OUTCOME",
        async () => {
          await Deno.writeTextFile(
            `${dir}/post.ts`,
            `import type { Hook } from "@stowage/hooks-sdk";
export default {
  sdk: 1,
  async postBackup(ctx) {
    await ctx.run("sh", ["-c", 'cat > "$1"', "sh", ${
              q(`${dir}/outcome.json`)
            }], { stdin: JSON.stringify(ctx.outcome), check: true });
  },
} satisfies Hook;
`,
          );
          const config = `
hooks:
  post_backup:
    - module: ${q(`${dir}/post.ts`)}
    - run: ${
            q(`echo "$STOWAGE_OUTCOME|$STOWAGE_SNAPSHOTS|$STOWAGE_DOWNTIME_MS" > ${dir}/outcome.txt`)
          }
`;
          const outcome: HookOutcome = {
            status: "ok",
            backupId: "2025-01-31T23-59-59Z",
            snapshots: ["abc", "def"],
            downtimeMs: 1234,
          };
          const run = await phase("post_backup", stack.project, config, { outcome });
          assert.deepEqual(run.result, { status: "ok" });
          assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/outcome.json`)), outcome);
          assert.equal(await Deno.readTextFile(`${dir}/outcome.txt`), "ok|abc def|1234\n");
        },
      );

      await t.step("an essential pre failure stops the phase: later hooks do not run", async () => {
        const config = `
units:
  ${stack.project}:
    hooks:
      pre_backup:
        - run: "echo cannot reach the database >&2; exit 3"
        - run: ["docker", "exec", ${q(app)}, "touch", "/data/after-failure"]
`;
        const run = await phase("pre_backup", stack.project, config);
        assert.equal(run.result.status, "failed");
        assert.ok(run.result.status === "failed");
        assert.match(
          run.result.error,
          /pre_backup hook 'echo' \(units\..*\.hooks\.pre_backup\[0\]\) exited with code 3: cannot reach the database/,
        );
        assert.equal(await readIn(app, "/data/after-failure"), undefined);
        assert.deepEqual(
          hookEvents(run).map((e) => e.outcome),
          ["failed"],
        );
        const state = (await docker("inspect", "-f", "{{.State.Running}}", app, db)).stdout.trim()
          .split("\n");
        assert.deepEqual(state, ["true", "true"]);
      });

      await t.step("an optional failure is a warning and the phase goes on", async () => {
        const config = `
hooks:
  pre_backup:
    - run: "echo optional thing broke >&2; exit 4"
      mode: optional
    - run: ["docker", "exec", ${q(app)}, "touch", "/data/after-optional"]
`;
        const run = await phase("pre_backup", stack.project, config);
        assert.deepEqual(run.result, { status: "ok" });
        assert.equal(await readIn(app, "/data/after-optional"), "");
        assert.ok(
          logs(run, "warning").some((m) =>
            /optional pre_backup hook 'echo' .* exited with code 4: optional thing broke; going on/
              .test(m)
          ),
        );
      });

      await t.step("exit 75 and { skip } skip the unit without a failure", async () => {
        const shell = await phase(
          "pre_backup",
          stack.project,
          `hooks: { pre_backup: [ { run: "echo nightly job still running; exit 75" } ] }`,
        );
        assert.deepEqual(shell.result, {
          status: "skip",
          reason: "pre_backup hook 'echo' asked to skip: nightly job still running",
        });
        await Deno.writeTextFile(
          `${dir}/skip.ts`,
          `export default { sdk: 1, preBackup: () => ({ skip: "not today" }) };\n`,
        );
        const mod = await phase(
          "pre_backup",
          stack.project,
          `hooks: { pre_backup: [ { module: ${q(`${dir}/skip.ts`)} } ] }`,
        );
        assert.deepEqual(mod.result, {
          status: "skip",
          reason: "pre_backup hook 'skip.ts' asked to skip: not today",
        });
        assert.deepEqual(hookEvents(mod).map((e) => e.outcome), ["skipped"]);
      });

      await t.step(
        "an error thrown in a module fails the hook with the module's message and line",
        async () => {
          await Deno.writeTextFile(
            `${dir}/throws.ts`,
            `export default {\n  sdk: 1,\n  preBackup() {\n    helper();\n  },\n};\nfunction helper() {\n  throw new Error("maintenance API answered 503");\n}\n`,
          );
          const run = await phase(
            "pre_backup",
            stack.project,
            `hooks: { pre_backup: [ { module: ${q(`${dir}/throws.ts`)} } ] }`,
          );
          assert.ok(run.result.status === "failed");
          assert.equal(
            run.result.error,
            `pre_backup hook 'throws.ts' (hooks.pre_backup[0]) threw: maintenance API answered 503 (at ${dir}/throws.ts:8:9)`,
          );
          assert.ok(!run.result.error.includes("core/hooks"), "no stowage stack frames");
          await Deno.writeTextFile(
            `${dir}/sdk2.ts`,
            `export default { sdk: 2, preBackup() {} };\n`,
          );
          const old = await phase(
            "pre_backup",
            stack.project,
            `hooks: { pre_backup: [ { module: ${q(`${dir}/sdk2.ts`)} } ] }`,
          );
          assert.ok(old.result.status === "failed");
          assert.match(
            old.result.error,
            /is written for hooks SDK 2, but this stowage supports SDK 1/,
          );
        },
      );

      await t.step(
        "post phases run every hook and report the essential failures together",
        async () => {
          const config = `
hooks:
  post_backup:
    - run: "exit 5"
    - run: ["docker", "exec", ${q(app)}, "touch", "/data/post-ran"]
    - run: "echo second >&2; exit 6"
`;
          // Even after a shutdown request: post hooks undo what pre hooks did.
          const run = await phase("post_backup", stack.project, config, {
            aborted: true,
            outcome: { status: "ok", backupId: "2025-01-31T23-59-59Z", snapshots: [] },
          });
          assert.ok(run.result.status === "failed");
          assert.match(run.result.error, /exited with code 5.*; .*exited with code 6: second/);
          assert.equal(await readIn(app, "/data/post-ran"), "");
        },
      );

      await t.step("a dry run runs no hook", async () => {
        const run = await phase(
          "pre_backup",
          stack.project,
          `hooks: { pre_backup: [ { run: "touch ${dir}/dry" } ] }`,
          { dryRun: true },
        );
        assert.deepEqual(run.result, { status: "ok" });
        assert.deepEqual(hookEvents(run).map((e) => [e.outcome, e.message]), [[
          "skipped",
          "dry run: not run",
        ]]);
        await assert.rejects(() => Deno.stat(`${dir}/dry`));
      });

      await t.step(
        "a label hook of a container that no longer exists is passed over with a warning",
        async () => {
          // In-process with the real Engine adapter: a restore hands over the recipe's unit, whose
          // containers may be gone.
          using engine = EngineClient.fromConfig(undefined);
          const gone = testName("gone");
          const sink = new MemorySink();
          const result = await runPhaseHooks({
            phase: "pre_restore",
            unit: {
              name: gone,
              kind: "standalone",
              files: [],
              dependsOn: {},
              images: [],
              volumes: [],
              binds: [],
              networks: [],
              gaps: [],
              containers: [{
                id: gone,
                name: gone,
                image: "x",
                imageId: "x",
                state: "exited",
                running: false,
                hasHealthcheck: false,
                labels: { "stowage.pre-restore": "true" },
                mounts: [],
                networks: {},
                networkMode: "default",
              }],
            },
            config: configSchema.parse({}),
            backupId: "2025-01-31T23-59-59Z",
            scope: "standard",
            dryRun: false,
            engine,
            signal: new AbortController().signal,
            sink,
            host: hookHost,
          });
          assert.deepEqual(result, { status: "ok" });
          const ev = sink.events.find((e) => e.type === "hook");
          assert.ok(
            ev?.type === "hook" && ev.outcome === "skipped" &&
              /does not exist/.test(ev.message ?? ""),
            JSON.stringify(sink.events),
          );
        },
      );

      await t.step("timeouts kill the hook and every child it started", async () => {
        const marker = `stowage-hook-${crypto.randomUUID().slice(0, 8)}`;
        const alive = async () =>
          (await sh("pgrep", ["-f", marker], { check: false })).stdout.trim();
        const shell = await phase(
          "pre_backup",
          stack.project,
          `hooks: { pre_backup: [ { timeout: 1, run: ${
            q(`sh -c 'sleep 1000; :' ${marker}-a & sh -c 'sleep 1000; :' ${marker}-b & sleep 1000`)
          } } ] }`,
        );
        assert.ok(shell.result.status === "failed");
        assert.match(shell.result.error, /timed out after 1 s; killed it and its child processes/);
        assert.equal(await alive(), "");

        await Deno.writeTextFile(
          `${dir}/hang.ts`,
          `export default { sdk: 1, async preBackup(ctx) { await ctx.run("sh", ["-c", "sleep 1000; :", ${
            q(`${marker}-m`)
          }]); } };\n`,
        );
        const mod = await phase(
          "pre_backup",
          stack.project,
          `hooks: { pre_backup: [ { timeout: 1, module: ${q(`${dir}/hang.ts`)} } ] }`,
        );
        assert.ok(mod.result.status === "failed");
        assert.match(mod.result.error, /timed out after 1 s/);
        assert.equal(await alive(), "");

        const label = await phase("pre_restore", solo, "{}");
        assert.ok(label.result.status === "failed");
        assert.match(label.result.error, /timed out after 1 s in container/);
        const ps = (await docker("exec", solo, "ps", "-o", "args")).stdout;
        assert.ok(!ps.split("\n").some((l) => l.trim() === "sleep 1000"), ps);
      });
    } finally {
      await stack.down();
      await cleanupDocker();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "hooks: `admin hooks check` reports broken hooks with their config path",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "stowage-hookcheck-" });
    try {
      await Deno.writeTextFile(
        `${dir}/good.ts`,
        "export default { sdk: 1, preBackup() {}, postBackup() {} };\n",
      );
      await Deno.writeTextFile(
        `${dir}/syntax.ts`,
        "export default {\n  sdk: 1,\n  preBackup( {\n};\n",
      );
      await Deno.writeTextFile(`${dir}/shape.ts`, "export default { sdk: 1, prebackup() {} };\n");
      await Deno.writeTextFile(`${dir}/noexec.sh`, "#!/bin/sh\n");
      await Deno.writeTextFile(`${dir}/ok.sh`, "#!/bin/sh\n", { mode: 0o755 });
      await Deno.chmod(`${dir}/ok.sh`, 0o755);
      const env = await isolatedEnv(`
hooks:
  pre_backup:
    - module: ${dir}/good.ts
    - run: ${dir}/ok.sh --flag
    - run: "if then fi"
  post_backup:
    - module: ${dir}/good.ts
units:
  nextcloud:
    hooks:
      pre_backup:
        - module: ${dir}/syntax.ts
        - module: ${dir}/shape.ts
        - run: ["${dir}/noexec.sh"]
        - run: ["no-such-program-xyz"]
        - run: ["sh", "-c", "true"]
      post_backup:
        - module: ${dir}/good.ts
`);
      try {
        const res = await stowage(["admin", "hooks", "check", "--json"], { env: env.env });
        assert.equal(res.code, 15, res.stderr);
        const doc = JSON.parse(res.stdout);
        assert.equal(doc.ok, false);
        const by = Object.fromEntries(
          doc.hooks.filter((h: { kind: string }) => h.kind !== "label").map((
            h: { source: string },
          ) => [h.source, h]),
        );
        assert.equal(by["hooks.pre_backup[0]"].ok, true);
        assert.equal(by["hooks.pre_backup[1]"].ok, true);
        assert.match(by["hooks.pre_backup[2]"].problems[0], /does not parse in sh/);
        assert.match(
          by["units.nextcloud.hooks.pre_backup[0]"].problems[0],
          new RegExp(`Cannot load hook module '${dir}/syntax.ts': .*${dir}/syntax.ts:\\d+`),
        );
        assert.match(
          by["units.nextcloud.hooks.pre_backup[1]"].problems[0],
          /unknown key 'prebackup' \(did you mean 'preBackup'\?\)/,
        );
        assert.match(by["units.nextcloud.hooks.pre_backup[2]"].problems[0], /is not executable/);
        assert.match(
          by["units.nextcloud.hooks.pre_backup[3]"].problems[0],
          /'no-such-program-xyz' is not on PATH/,
        );
        assert.equal(by["units.nextcloud.hooks.pre_backup[4]"].ok, true);
        // good.ts has postBackup and is listed under post_backup in both scopes: no warning.
        assert.deepEqual(by["hooks.pre_backup[0]"].warnings, []);

        const text = await stowage(["admin", "hooks", "check"], { env: env.env });
        assert.equal(text.code, 15);
        assert.match(
          text.stderr,
          /problem: units\.nextcloud\.hooks\.pre_backup\[1\]: Hook module '.*shape\.ts' has an unknown key/,
        );
        assert.match(text.stdout, /\d+ hooks checked, \d+ with problems\./);
      } finally {
        await Deno.remove(env.dir, { recursive: true });
      }
      const clean = await isolatedEnv(`hooks: { pre_backup: [ { module: ${dir}/good.ts } ] }`);
      try {
        const res = await stowage(["admin", "hooks", "check"], { env: clean.env });
        assert.equal(res.code, 0, res.stderr);
        assert.match(
          res.stderr,
          /warning: hooks\.pre_backup\[0\]: defines postBackup, but the module is not listed under hooks\.post_backup/,
        );
      } finally {
        await Deno.remove(clean.dir, { recursive: true });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "hooks: the examples from `admin hooks init` type-check and run against real containers",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "stowage-hookinit-" });
    const stack = await createFixtureStack({ name: "hookinit" });
    try {
      const init = await stowage(["admin", "hooks", "init", `${dir}/hooks`, "--json"]);
      assert.equal(init.code, 0, init.stderr);
      assert.deepEqual(
        JSON.parse(init.stdout).files.map((f: string) => f.slice(dir.length + 7)).sort(),
        ["deno.json", "maintenance.ts", "pg_dump.ts", "sdk.ts"],
      );
      const again = await stowage(["admin", "hooks", "init", `${dir}/hooks`]);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /already exist/);

      const check = await sh(Deno.execPath(), ["check", "maintenance.ts", "pg_dump.ts"], {
        cwd: `${dir}/hooks`,
        check: false,
        env: { NO_COLOR: "1" },
      });
      assert.equal(check.code, 0, check.stderr);
      // deno check must be able to fail here: a wrong SDK major is a type error.
      await Deno.writeTextFile(
        `${dir}/hooks/wrong.ts`,
        `import type { Hook } from "@stowage/hooks-sdk";\nexport default { sdk: 2, preBackup() {} } satisfies Hook;\n`,
      );
      const wrong = await sh(Deno.execPath(), ["check", "wrong.ts"], {
        cwd: `${dir}/hooks`,
        check: false,
        env: { NO_COLOR: "1" },
      });
      assert.notEqual(wrong.code, 0);

      await stack.up();
      const app = stack.container("app");
      const db = stack.container("db");
      // busybox has no PostgreSQL: a labelled stand-in prints what pg_dumpall would.
      await docker(
        "exec",
        db,
        "sh",
        "-c",
        'printf "#!/bin/sh\\necho \\"-- dump by \\$2\\"\\n" > /bin/pg_dumpall && chmod +x /bin/pg_dumpall',
      );
      const config = `
units:
  ${stack.project}:
    hooks:
      pre_backup:
        - module: ${dir}/hooks/pg_dump.ts
        - module: ${dir}/hooks/maintenance.ts
      post_backup:
        - module: ${dir}/hooks/maintenance.ts
`;
      const pre = await phase("pre_backup", stack.project, config);
      assert.deepEqual(pre.result, { status: "ok" }, JSON.stringify(pre.events));
      assert.equal(await readIn(db, "/data/stowage-dump.sql"), "-- dump by postgres\n");
      assert.equal(await readIn(app, "/data/maintenance"), "");
      const post = await phase("post_backup", stack.project, config, {
        outcome: { status: "ok", backupId: "2025-01-31T23-59-59Z", snapshots: ["abc"] },
      });
      assert.deepEqual(post.result, { status: "ok" });
      assert.equal(await readIn(app, "/data/maintenance"), undefined);
      assert.ok(
        logs(post, "info").includes(
          "maintenance-mode: maintenance mode off; backup 2025-01-31T23-59-59Z ok",
        ),
      );

      const env = await isolatedEnv(config);
      try {
        const res = await stowage(["admin", "hooks", "check", "--json"], { env: env.env });
        assert.equal(res.code, 0, res.stdout + res.stderr);
        const list = await stowage(["admin", "hooks", "list", "--unit", stack.project, "--json"], {
          env: env.env,
        });
        assert.equal(list.code, 0, list.stderr);
        assert.deepEqual(
          JSON.parse(list.stdout).units[0].hooks.map((h: { phase: string; name: string }) =>
            `${h.phase} ${h.name}`
          ),
          ["pre_backup pg_dump.ts", "pre_backup maintenance.ts", "post_backup maintenance.ts"],
        );
      } finally {
        await Deno.remove(env.dir, { recursive: true });
      }
    } finally {
      await stack.down();
      await cleanupDocker();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "hooks: `admin hooks check` does not run a module's top-level code (a write there fails the check, no file appears)",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "stowage-hookside-" });
    try {
      const marker = `${dir}/created-by-top-level`;
      await Deno.writeTextFile(
        `${dir}/side.ts`,
        `Deno.writeTextFileSync(${JSON.stringify(marker)}, "ran");\n` +
          "export default { sdk: 1, preBackup() {} };\n",
      );
      await Deno.writeTextFile(
        `${dir}/spawn.ts`,
        `new Deno.Command("touch", { args: [${JSON.stringify(marker + "-2")}] }).outputSync();\n` +
          "export default { sdk: 1, preBackup() {} };\n",
      );
      const env = await isolatedEnv(
        `hooks: { pre_backup: [ { module: ${dir}/side.ts }, { module: ${dir}/spawn.ts } ] }`,
      );
      try {
        const res = await stowage(["admin", "hooks", "check", "--json"], { env: env.env });
        assert.equal(res.code, 15, res.stderr);
        const hooks = JSON.parse(res.stdout).hooks;
        assert.match(hooks[0].problems[0], /side\.ts': NotCapable: Requires write access/);
        assert.match(hooks[1].problems[0], /spawn\.ts': NotCapable: Requires run access/);
        assert.ok(!(await Deno.stat(marker).then(() => true, () => false)), "no write happened");
        assert.ok(
          !(await Deno.stat(marker + "-2").then(() => true, () => false)),
          "no process ran",
        );
      } finally {
        await Deno.remove(env.dir, { recursive: true });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "hooks: modules and programs others could change are refused like sshd and sudo do (group/world-writable, foreign owner, writable parent)",
  async fn() {
    // Not under /tmp's sticky bit alone: a private parent whose modes the test sets.
    const dir = await Deno.makeTempDir({ prefix: "stowage-hooktrust-" });
    try {
      const good = "export default { sdk: 1, preBackup() {} };\n";
      const mk = async (rel: string, text: string, mode: number, uid?: number) => {
        await Deno.mkdir(`${dir}/${rel.split("/").slice(0, -1).join("/")}`, { recursive: true });
        await Deno.writeTextFile(`${dir}/${rel}`, text);
        await Deno.chmod(`${dir}/${rel}`, mode);
        if (uid !== undefined) await Deno.chown(`${dir}/${rel}`, uid, null);
      };
      await mk("ok/hook.ts", good, 0o644);
      await mk("ok/prog.sh", "#!/bin/sh\n", 0o755);
      await mk("gw/hook.ts", good, 0o664);
      await mk("ww/prog.sh", "#!/bin/sh\n", 0o757);
      await mk("other/hook.ts", good, 0o644, 65534);
      await mk("opendir/prog.sh", "#!/bin/sh\n", 0o755);
      await Deno.chmod(`${dir}/opendir`, 0o777);
      const env = await isolatedEnv(`
hooks:
  pre_backup:
    - module: ${dir}/ok/hook.ts
    - run: ${dir}/ok/prog.sh --flag
    - module: ${dir}/gw/hook.ts
    - run: ["${dir}/ww/prog.sh"]
    - module: ${dir}/other/hook.ts
    - run: "X=1 ${dir}/opendir/prog.sh arg"
`);
      try {
        const res = await stowage(["admin", "hooks", "check", "--json"], { env: env.env });
        assert.equal(res.code, 15, res.stderr);
        const h = JSON.parse(res.stdout).hooks;
        assert.deepEqual([h[0].problems, h[1].problems], [[], []]);
        assert.match(
          h[2].problems[0],
          /Refusing hook module '.*gw\/hook.ts': it is writable by its group \(mode 0664\)/,
        );
        assert.match(
          h[3].problems[0],
          /prog.sh' is refused: it is writable by everyone \(mode 0757\)/,
        );
        assert.match(h[4].problems[0], /it is owned by uid 65534, not root/);
        assert.match(
          h[5].problems[0],
          /its directory '.*opendir' is writable by everyone \(mode 0777\)/,
        );
      } finally {
        await Deno.remove(env.dir, { recursive: true });
      }
      // At run time too: the module loader and the process runner refuse before anything runs.
      await assert.rejects(() => loadHookModule(`${dir}/gw/hook.ts`), (e: Error) => {
        assert.match(e.message, /^Refusing hook module .*writable by its group/);
        assert.match((e as Error & { hint: string }).hint, /chmod go-w/);
        return true;
      });
      await mk("ww/marker.sh", `#!/bin/sh\ntouch ${dir}/ran\n`, 0o777);
      await assert.rejects(
        () => runInGroup([`${dir}/ww/marker.sh`], { timeoutMs: 5000 }),
        /Refusing hook program .*writable by everyone/,
      );
      await assert.rejects(
        () => runInGroup(["sh", "-c", `${dir}/ww/marker.sh`], { timeoutMs: 5000 }),
        /Refusing hook program/,
      );
      assert.ok(!(await Deno.stat(`${dir}/ran`).then(() => true, () => false)));
      const ok = await runInGroup([`${dir}/ok/prog.sh`], { timeoutMs: 5000 });
      assert.equal(ok.exitCode, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
