import assert from "node:assert/strict";
import { defaultConfig } from "../config/schema.ts";
import { resolvePaths } from "../paths.ts";
import {
  calendarProblem,
  checkSchedule,
  execLine,
  fillTemplate,
  quoteExecArg,
  readWritePaths,
  renderUnits,
  stateDirectoryName,
  type UnitSettings,
} from "./units.ts";
import { UNIT_TEMPLATES } from "../../units/mod.ts";
import { StowageError } from "../errors.ts";

const rootPaths = resolvePaths({ uid: 0, env: () => undefined });

Deno.test("ReadWritePaths: state dir, Docker volumes, the socket, nothing twice", () => {
  const paths = readWritePaths(defaultConfig(), rootPaths);
  assert.deepEqual(paths, ["/var/lib/stowage", "/var/lib/docker/volumes", "/run/docker.sock"]);
});

Deno.test("ReadWritePaths adds a local repository and bundle dir outside the state dir, not remote ones", () => {
  const config = defaultConfig();
  config.repository.location = "/srv/backup/repo/";
  config.recovery_bundle_path = "/srv/bundles";
  config.docker.host = "unix:///custom/docker.sock";
  assert.deepEqual(readWritePaths(config, rootPaths, { extra: ["/srv/dumps"] }), [
    "/var/lib/stowage",
    "/srv/backup/repo",
    "/var/lib/docker/volumes",
    "/custom/docker.sock",
    "/srv/bundles",
    "/srv/dumps",
  ]);
  config.repository.location = "sftp:backup@host:/repo";
  assert.equal(readWritePaths(config, rootPaths).some((p) => p.includes("repo")), false);
  config.repository.location = "local:/data/repo";
  assert.ok(readWritePaths(config, rootPaths).includes("/data/repo"));
});

Deno.test("StateDirectory only for /var/lib/<name>", () => {
  assert.equal(stateDirectoryName("/var/lib/stowage"), "stowage");
  assert.equal(stateDirectoryName("/srv/stowage"), undefined);
  assert.equal(stateDirectoryName("/var/lib/a/b"), undefined);
});

Deno.test("ExecStart words: specifiers and variables stay literal, spaces are quoted", () => {
  assert.equal(quoteExecArg("/usr/bin/stowage"), "/usr/bin/stowage");
  assert.equal(quoteExecArg("/opt/my stowage/bin"), '"/opt/my stowage/bin"');
  assert.equal(quoteExecArg("50%"), "50%%");
  assert.equal(quoteExecArg("$HOME"), '"$$HOME"');
  assert.equal(quoteExecArg('a"b'), '"a\\"b"');
  assert.equal(execLine(["/bin/x", "--config", "/etc/s.yaml"]), "/bin/x --config /etc/s.yaml");
});

Deno.test("schedules: calendar expressions pass, line breaks and junk do not", () => {
  for (
    const ok of ["*-*-* 02:00:00", "daily", "Mon..Fri 03:30", "*:0/15", "2025-01-01 00:00:00 UTC"]
  ) {
    assert.equal(calendarProblem(ok), undefined, ok);
  }
  assert.match(calendarProblem("daily\nExecStartPre=/bin/rm") ?? "", /line break/);
  assert.match(calendarProblem("") ?? "", /empty/);
  assert.match(calendarProblem("$(reboot)") ?? "", /characters/);
  assert.match(calendarProblem("sometimes") ?? "", /no date or time/);
  assert.throws(() => checkSchedule("daily\nX=1"), /Cannot use schedule 'daily\?X=1'/);
});

Deno.test("fillTemplate fills, drops empty placeholder lines and refuses unknown names", () => {
  assert.equal(fillTemplate("a={{x}}\n{{y}}\nb", { x: "1", y: "" }), "a=1\nb");
  assert.throws(() => fillTemplate("{{nope}}", {}), /unknown placeholder/);
});

Deno.test("renderUnits fills every template", () => {
  const units = renderUnits(UNIT_TEMPLATES, {
    stowage: ["/usr/local/bin/stowage", "--config", "/etc/stowage/config.yaml"],
    schedule: "*-*-* 03:00:00",
    readWritePaths: ["/var/lib/stowage", "/srv/with space"],
    stateDirectory: "stowage",
    environment: { STOWAGE_STATE_DIR: "/var/lib/stowage" },
    version: "9.9.9",
    daemonArgs: ["--interval-minutes", "60"],
  });
  assert.deepEqual(units.map((u) => u.name), [
    "stowage.service",
    "stowage.timer",
    "stowage-backup.service",
    "stowage-verify.timer",
    "stowage-verify.service",
  ]);
  const [, , , verifyTimer, verifyService] = units.map((u) => u.content);
  assert.match(verifyTimer, /^OnCalendar=Sun \*-\*-\* 04:00:00$/m);
  assert.match(verifyTimer, /^Unit=stowage-verify\.service$/m);
  assert.match(verifyService, /^ExecStart=\S+ .*verify --latest$/m);
  assert.match(verifyService, /^ExecStopPost=.*admin system recover-journal$/m);
  const [svc, timer, oneshot] = units.map((u) => u.content);
  for (const text of [svc, timer, oneshot]) {
    assert.doesNotMatch(text, /\{\{/);
    assert.match(text, /stowage 9\.9\.9/);
  }
  assert.match(svc, /^Type=notify$/m);
  assert.match(svc, /^WatchdogSec=300$/m);
  assert.match(svc, /^Restart=on-failure$/m);
  assert.match(svc, /^RestartSec=30$/m);
  assert.match(svc, /^RuntimeDirectory=stowage$/m);
  assert.match(
    svc,
    /^ExecStart=\/usr\/local\/bin\/stowage --config \/etc\/stowage\/config.yaml admin service daemon --interval-minutes 60$/m,
  );
  assert.match(
    svc,
    /^ExecStopPost=\/usr\/local\/bin\/stowage --config \/etc\/stowage\/config.yaml admin system recover-journal$/m,
  );
  assert.match(oneshot, /^Type=oneshot$/m);
  assert.match(
    oneshot,
    /^ExecStart=\/usr\/local\/bin\/stowage --config \/etc\/stowage\/config.yaml backup$/m,
  );
  assert.match(timer, /^OnCalendar=\*-\*-\* 03:00:00$/m);
  assert.match(timer, /^Persistent=true$/m);
  assert.match(timer, /^RandomizedDelaySec=15m$/m);
  for (const text of [svc, oneshot]) {
    assert.match(text, /^ReadWritePaths=-\/var\/lib\/stowage$/m);
    assert.match(text, /^ReadWritePaths=-"\/srv\/with space"$/m);
    assert.match(text, /^StateDirectory=stowage$/m);
    assert.match(text, /^Environment="STOWAGE_STATE_DIR=\/var\/lib\/stowage"$/m);
    // every hardening setting is preceded by a comment saying what it breaks
    for (
      const key of [
        "NoNewPrivileges",
        "PrivateTmp",
        "ProtectSystem",
        "ProtectHome",
        "PrivateDevices",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectControlGroups",
        "RestrictAddressFamilies",
        "SystemCallFilter",
      ]
    ) {
      const lines = text.split("\n");
      const i = lines.findIndex((l) => l.startsWith(`${key}=`));
      assert.ok(i > 0, `${key} missing`);
      assert.ok(
        lines.slice(0, i).reverse().find((l) =>
          !l.startsWith("ReadWritePaths=") && !l.startsWith("StateDirectory")
        )?.startsWith("#"),
        `${key} has no comment`,
      );
    }
  }
});

Deno.test("renderUnits refuses any value that would leave its line, and relative read-write paths", () => {
  const base: UnitSettings = {
    stowage: ["/usr/local/bin/stowage"],
    schedule: "daily",
    readWritePaths: ["/var/lib/stowage"],
    environment: {},
    version: "9.9.9",
    daemonArgs: [],
  };
  const bad: Partial<UnitSettings>[] = [
    { stowage: ["/usr/local/bin/stowage", "--config", "/etc/a\nExecStartPre=/bin/true"] },
    { stowage: ["/usr/local/bin/sto\rwage"] },
    { stowage: ["/opt/it's/stowage"] },
    { readWritePaths: ["/srv\nExecStartPre=/bin/true"] },
    { readWritePaths: ["/srv/\u2028x"] },
    { readWritePaths: ["relative/state"] },
    { environment: { STOWAGE_STATE_DIR: "/srv\n[Install]" } },
    { environment: { "BAD NAME": "x" } },
    { daemonArgs: ["--interval-minutes", "6\n0"] },
    { version: "1\n2" },
  ];
  for (const change of bad) {
    assert.throws(
      () => renderUnits(UNIT_TEMPLATES, { ...base, ...change }),
      (e: unknown) => e instanceof StowageError && e.code === "usage" && !e.message.includes("\n"),
      JSON.stringify(change),
    );
  }
  const ok = renderUnits(UNIT_TEMPLATES, {
    ...base,
    stowage: ["/opt/100%/$x/stowage", "--config", '/etc/a "b" \\c $d %e ;'],
  });
  assert.match(
    ok[0].content,
    /^ExecStart=\/opt\/100%%\/\$x\/stowage --config "\/etc\/a \\"b\\" \\\\c \$\$d %%e ;" admin service daemon$/m,
  );
});

Deno.test("restic's cache dir is writable in every hardened service, for the default and a custom state dir", () => {
  for (
    const paths of [
      rootPaths,
      resolvePaths({ uid: 0, env: (n) => n === "STOWAGE_STATE_DIR" ? "/srv/stowage" : undefined }),
    ]
  ) {
    const units = renderUnits(UNIT_TEMPLATES, {
      stowage: ["/usr/local/bin/stowage"],
      schedule: "daily",
      readWritePaths: readWritePaths(defaultConfig(), paths),
      stateDirectory: stateDirectoryName(paths.stateDir),
      environment: {},
      version: "9.9.9",
      daemonArgs: [],
    });
    const services = units.filter((u) => u.name.endsWith(".service"));
    assert.equal(services.length, 3);
    for (const u of services) {
      const lines = u.content.split("\n");
      // ProtectHome makes restic's default (~/.cache/restic) read-only: the cache must be elsewhere.
      assert.ok(lines.includes("ProtectHome=read-only"), u.name);
      assert.ok(lines.includes("ProtectSystem=strict"), u.name);
      const writable = [
        ...lines.filter((l) => l.startsWith("ReadWritePaths=-")).map((l) => l.slice(16)),
        ...lines.filter((l) => l.startsWith("StateDirectory=")).map((l) =>
          `/var/lib/${l.slice(15)}`
        ),
      ];
      assert.ok(
        writable.some((w) => paths.resticCacheDir.startsWith(`${w}/`)),
        `${u.name}: ${paths.resticCacheDir} is not under ${writable.join(", ")}`,
      );
      // Nothing points restic elsewhere (stowage's --cache-dir would override it anyway).
      assert.ok(!lines.some((l) => /RESTIC_CACHE_DIR|^CacheDirectory=/.test(l)), u.name);
    }
  }
});
