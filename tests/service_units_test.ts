/**
 * `admin service write-units` as a user runs it: the generated units pass `systemd-analyze verify`
 * (PID 1 is not systemd here; verify still parses every directive and checks the ExecStart
 * programs exist), bad schedules are refused, --dry-run writes nothing.
 */
import assert from "node:assert/strict";
import { isolatedEnv, stowage } from "./support/cli.ts";
import { sh } from "./support/docker.ts";

const UNITS = [
  "stowage.service",
  "stowage.timer",
  "stowage-backup.service",
  "stowage-verify.timer",
  "stowage-verify.service",
];

async function withEnv(fn: (e: Awaited<ReturnType<typeof isolatedEnv>>) => Promise<void>) {
  const e = await isolatedEnv(
    "repository:\n  location: /srv/stowage-test-repo\nbackup:\n  scope: minimal\n",
  );
  try {
    await fn(e);
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
}

async function verify(dir: string) {
  const r = await sh("systemd-analyze", ["verify", ...UNITS.map((u) => `${dir}/${u}`)], {
    check: false,
  });
  // verify exits 0 on unknown keys too, with a warning: any output is a failure here.
  assert.equal(r.code, 0, r.stderr);
  assert.equal((r.stderr + r.stdout).trim(), "", r.stderr + r.stdout);
}

Deno.test("write-units with --binary: five files (backup and restore drill units) that pass systemd-analyze verify", async () => {
  await withEnv(async (e) => {
    const bin = `${e.dir}/bin/stowage`;
    await Deno.mkdir(`${e.dir}/bin`);
    await Deno.copyFile("/bin/true", bin);
    await Deno.chmod(bin, 0o755);
    const out = `${e.dir}/units`;
    const r = await stowage([
      "admin",
      "service",
      "write-units",
      "--output-dir",
      out,
      "--binary",
      bin,
      "--schedule",
      "*-*-* 03:30:00",
    ], { env: e.env });
    assert.equal(r.code, 0, r.stderr);
    for (const u of UNITS) {
      assert.match(r.stdout, new RegExp(`Wrote ${out}/${u.replace(".", "\\.")}`));
    }
    assert.match(r.stdout, /systemctl daemon-reload/);
    assert.match(r.stdout, /systemctl enable --now stowage\.timer/);
    assert.deepEqual([...Deno.readDirSync(out)].map((f) => f.name).sort(), [...UNITS].sort());
    for (const u of UNITS) assert.equal((await Deno.stat(`${out}/${u}`)).mode! & 0o777, 0o644);
    const svc = await Deno.readTextFile(`${out}/stowage.service`);
    assert.match(
      svc,
      new RegExp(`^ExecStart=${bin} --config ${e.configPath} admin service daemon$`, "m"),
    );
    assert.match(
      svc,
      new RegExp(
        `^ExecStopPost=${bin} --config ${e.configPath} admin system recover-journal$`,
        "m",
      ),
    );
    assert.match(svc, new RegExp(`^ReadWritePaths=-${e.stateDir}$`, "m"));
    assert.match(svc, /^ReadWritePaths=-\/srv\/stowage-test-repo$/m);
    assert.match(svc, /^ReadWritePaths=-\/var\/lib\/docker\/volumes$/m);
    assert.match(svc, /^ReadWritePaths=-\/run\/docker\.sock$/m);
    assert.match(svc, new RegExp(`^Environment="STOWAGE_STATE_DIR=${e.stateDir}"$`, "m"));
    assert.match(
      await Deno.readTextFile(`${out}/stowage.timer`),
      /^OnCalendar=\*-\*-\* 03:30:00$/m,
    );
    await verify(out);
  });
});

Deno.test("write-units without --binary runs this checkout through deno; it verifies too", async () => {
  await withEnv(async (e) => {
    const out = `${e.dir}/units`;
    const r = await stowage([
      "admin",
      "service",
      "write-units",
      "--output-dir",
      out,
      "--interval-minutes",
      "90",
      "--json",
    ], { env: e.env });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.dryRun, false);
    assert.deepEqual(
      doc.files.map((f: { path: string }) => f.path),
      UNITS.map((u) => `${out}/${u}`),
    );
    assert.equal(
      doc.next.some((h: string) => h.includes("stowage.timer")),
      false,
      "with --interval-minutes the timer stays off",
    );
    const svc = await Deno.readTextFile(`${out}/stowage.service`);
    assert.match(
      svc,
      /^ExecStart=\S+deno run --config=\S+deno\.json --no-prompt -P=stowage --unstable-net --quiet \S+main\.ts .* admin service daemon --interval-minutes 90$/m,
    );
    await verify(out);
  });
});

Deno.test("write-units --dry-run prints the units and writes nothing", async () => {
  await withEnv(async (e) => {
    const out = `${e.dir}/units`;
    const r = await stowage(["admin", "service", "write-units", "--output-dir", out, "--dry-run"], {
      env: e.env,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /# ----- .*stowage\.service\n/);
    assert.match(r.stdout, /^OnCalendar=\*-\*-\* 02:00:00$/m);
    assert.match(r.stdout, /nothing written/);
    assert.equal(await Deno.stat(out).then(() => true, () => false), false);
  });
});

Deno.test("write-units refuses bad schedules and binaries with one line and a hint", async () => {
  await withEnv(async (e) => {
    const out = `${e.dir}/units`;
    const plain = `${e.dir}/not-a-program`;
    await Deno.writeTextFile(plain, "x", { mode: 0o644 });
    const cases: [string[], RegExp][] = [
      [
        ["--schedule", "daily\nExecStartPre=/bin/rm -rf /"],
        /Cannot use schedule 'daily\?ExecStartPre.*line break/,
      ],
      [["--schedule", "Mon 25:99"], /Cannot use schedule 'Mon 25:99': systemd does not accept it/],
      [["--binary", "stowage"], /Cannot use --binary 'stowage': it is not an absolute path/],
      [["--binary", plain], /Cannot use --binary '.*not-a-program': it is not an executable file/],
      [["--read-write-path", "relative/dir"], /Cannot use --read-write-path 'relative\/dir'/],
    ];
    for (const [args, message] of cases) {
      const r = await stowage(["admin", "service", "write-units", "--output-dir", out, ...args], {
        env: e.env,
      });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /^hint: /m);
      assert.doesNotMatch(r.stderr, / {4}at /, "no stack trace");
    }
    assert.equal(await Deno.stat(out).then(() => true, () => false), false);
  });
});

Deno.test("write-units refuses a line break in any value it puts into a unit (no injected directive)", async () => {
  await withEnv(async (e) => {
    const out = `${e.dir}/units`;
    const injected = "ExecStartPre=/bin/touch /tmp/stowage-pwned";
    // A config path and a state dir with a line break can exist on disk: make both.
    const oddDir = `${e.dir}/odd\nExecStartPre=true`;
    await Deno.mkdir(oddDir);
    const oddConfig = `${oddDir}/config.yaml`;
    await Deno.copyFile(e.configPath, oddConfig);
    const cases: [string[], Record<string, string>, RegExp][] = [
      [["--read-write-path", `/srv\n${injected}`], {}, /the read-write path '\/srv\\nExecStartPre/],
      [[], { STOWAGE_STATE_DIR: `${e.dir}/state\n${injected}` }, /\\nExecStartPre/],
      [[], { STOWAGE_CONFIG: oddConfig }, /the argument '.*odd\\nExecStartPre/],
      [["--read-write-path", "/srv/a\u0085b"], {}, /control character/],
    ];
    for (const [args, env, message] of cases) {
      const r = await stowage(["admin", "service", "write-units", "--output-dir", out, ...args], {
        env: { ...e.env, ...env },
      });
      assert.equal(r.code, 2, `${JSON.stringify(args)} ${JSON.stringify(env)}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /line break or control character/);
      assert.equal(r.stderr.trimEnd().split("\n").length, 2, r.stderr);
      assert.match(r.stderr, /^hint: /m);
    }
    assert.equal(await Deno.stat(out).then(() => true, () => false), false);
  });
});

Deno.test("write-units keeps %, $, quotes, backslashes, ';' and spaces literal: systemd-analyze finds the program", async () => {
  await withEnv(async (e) => {
    // verify checks that ExecStart's program exists: a quoting mistake names another path.
    // (systemd itself refuses quotes and backslashes in a program path; see the next test.)
    const odd = `${e.dir}/b %h $HOME ; y`;
    await Deno.mkdir(odd, { recursive: true });
    const bin = `${odd}/stowage`;
    await Deno.copyFile("/bin/true", bin);
    await Deno.chmod(bin, 0o755);
    const out = `${e.dir}/units`;
    const r = await stowage([
      "admin",
      "service",
      "write-units",
      "--output-dir",
      out,
      "--binary",
      bin,
      "--read-write-path",
      `${odd}/dumps "q" \\x`,
    ], { env: { ...e.env, STOWAGE_STATE_DIR: `${odd}/state` } });
    assert.equal(r.code, 0, r.stderr);
    await verify(out);
    const svc = await Deno.readTextFile(`${out}/stowage.service`);
    assert.ok(svc.includes(`ExecStart="${e.dir}/b %%h $HOME ; y/stowage" `), svc);
    assert.ok(svc.includes(`ReadWritePaths=-"${e.dir}/b %%h $HOME ; y/dumps \\"q\\" \\\\x"`), svc);
  });
});

Deno.test("write-units refuses a program path systemd would refuse (quotes, backslashes)", async () => {
  await withEnv(async (e) => {
    const odd = `${e.dir}/b "q"`;
    await Deno.mkdir(odd, { recursive: true });
    const bin = `${odd}/stowage`;
    await Deno.copyFile("/bin/true", bin);
    await Deno.chmod(bin, 0o755);
    const out = `${e.dir}/units`;
    const r = await stowage([
      "admin",
      "service",
      "write-units",
      "--output-dir",
      out,
      "--binary",
      bin,
    ], {
      env: e.env,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /systemd refuses quotes and backslashes/);
    assert.match(r.stderr, /^hint: /m);
    assert.equal(await Deno.stat(out).then(() => true, () => false), false);
  });
});

Deno.test("write-units: a config that serves status to the network (with a token) gets --allow-remote-status", async () => {
  const e = await isolatedEnv(
    "status:\n  listen: 0.0.0.0:9876\n  token_file: /etc/stowage/status.token\n",
  );
  try {
    const r = await stowage(["admin", "service", "write-units", "--dry-run"], { env: e.env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ExecStart=.* admin service daemon --allow-remote-status$/m);
    const loopback = await isolatedEnv("status:\n  listen: 127.0.0.1:9876\n");
    try {
      const l = await stowage(["admin", "service", "write-units", "--dry-run"], {
        env: loopback.env,
      });
      assert.equal(l.code, 0, l.stderr);
      assert.match(l.stdout, /^ExecStart=.* admin service daemon$/m);
    } finally {
      await Deno.remove(loopback.dir, { recursive: true });
    }
  } finally {
    await Deno.remove(e.dir, { recursive: true });
  }
});
