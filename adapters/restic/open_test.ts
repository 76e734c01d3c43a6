import assert from "node:assert/strict";
import { type ConfigInput, configSchema } from "../../core/config/schema.ts";
import { isStowageError } from "../../core/errors.ts";
import { resolvePaths } from "../../core/paths.ts";
import type { LoadedConfig } from "../../cli/runtime.ts";
import { DenoProcessRunner } from "../process.ts";
import {
  describeRepository,
  modeWarning,
  openRepository,
  parseEnvFile,
  parseSftpLocation,
  repositorySettings,
  resticLocation,
  sftpCommand,
} from "./open.ts";
import { Restic } from "./restic.ts";

function loaded(stateDir: string, config: ConfigInput = {}): LoadedConfig {
  return {
    config: configSchema.parse(config),
    paths: resolvePaths({ uid: 0, env: (n) => (n === "STOWAGE_STATE_DIR" ? stateDir : undefined) }),
  };
}

const noEnv = () => undefined;
const runner = new DenoProcessRunner();

Deno.test("settings: the embedded default is a local repository under the state dir", () => {
  const s = repositorySettings(loaded("/var/lib/stowage"));
  assert.equal(s.location, "/var/lib/stowage/repository");
  assert.equal(s.passwordFile, "/var/lib/stowage/repository.password");
  assert.equal(s.isDefault, true);
  assert.equal(s.binary, "restic");
  assert.deepEqual(s.extraArgs, []);
  assert.equal(s.cacheDir, "/var/lib/stowage/cache/restic");
  assert.deepEqual(describeRepository(loaded("/s")), {
    location: "/s/repository",
    passwordFile: "/s/repository.password",
    isDefault: true,
  });
});

Deno.test("settings: configured location, password file (with ~), binary and env", () => {
  const s = repositorySettings(
    loaded("/s", {
      repository: {
        location: "s3:s3.example.com/bucket/stowage",
        password_file: "~/pw",
        restic_binary: "/usr/local/bin/restic",
        env: { AWS_ACCESS_KEY_ID: "id" },
      },
    }),
    (n) => (n === "HOME" ? "/home/op" : undefined),
  );
  assert.equal(s.location, "s3:s3.example.com/bucket/stowage");
  assert.equal(s.passwordFile, "/home/op/pw");
  assert.equal(s.isDefault, false);
  assert.equal(s.binary, "/usr/local/bin/restic");
  assert.deepEqual(s.env, { AWS_ACCESS_KEY_ID: "id" });
});

Deno.test("tailscale peers become sftp to the MagicDNS name", () => {
  assert.equal(resticLocation("tailscale:nas:/srv/restic"), "sftp:nas:/srv/restic");
  assert.equal(
    resticLocation("tailscale:backup@nas.tail1234.ts.net:/r"),
    "sftp:backup@nas.tail1234.ts.net:/r",
  );
  assert.equal(resticLocation("/plain"), "/plain");
  const s = repositorySettings(
    loaded("/s", {
      repository: { location: "tailscale:nas:/srv/r", ssh_key: "/k", known_hosts: "/kh" },
    }),
  );
  assert.equal(s.location, "sftp:nas:/srv/r");
  assert.deepEqual(s.extraArgs, [
    "-o",
    "sftp.command=ssh -i /k -o IdentitiesOnly=yes -o UserKnownHostsFile=/kh -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=30 nas -s sftp",
  ]);
});

Deno.test("sftp locations parse in both restic forms", () => {
  assert.deepEqual(parseSftpLocation("sftp:user@host:/srv/r"), {
    user: "user",
    host: "host",
    path: "/srv/r",
  });
  assert.deepEqual(parseSftpLocation("sftp:host:r"), { user: undefined, host: "host", path: "r" });
  assert.deepEqual(parseSftpLocation("sftp://u@h:2222//srv/r"), {
    user: "u",
    host: "h",
    port: "2222",
    path: "/srv/r",
  });
  assert.deepEqual(parseSftpLocation("sftp://[::1]:22//r"), {
    user: undefined,
    host: "::1",
    port: "22",
    path: "/r",
  });
  assert.throws(() => parseSftpLocation("sftp:"), (e) => isStowageError(e, "config.invalid"));
});

Deno.test("the sftp ssh command carries key, known_hosts, port and user, quoted for restic", () => {
  assert.equal(
    sftpCommand("sftp://backup@10.0.0.2:2222//srv/r", {
      key: "/etc/stowage/my key",
      knownHosts: "/kh",
    }),
    'ssh -i "/etc/stowage/my key" -o IdentitiesOnly=yes -o UserKnownHostsFile=/kh -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=30 -p 2222 -l backup 10.0.0.2 -s sftp',
  );
  assert.equal(
    sftpCommand("sftp:h:/r", { knownHosts: "/kh" }),
    "ssh -o UserKnownHostsFile=/kh -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=30 h -s sftp",
  );
  assert.throws(
    () => sftpCommand("sftp:h:/r", { key: '/a"b' }),
    (e) => isStowageError(e, "config.invalid"),
  );
  // Without ssh_key/known_hosts: still never a prompt, host keys pinned in stowage's own file
  // (then the operator's), the whole -o value one CSV field for restic's flag parser.
  assert.deepEqual(
    repositorySettings(
      loaded("/s", { repository: { location: "sftp:h:/r" } }),
      (n) => (n === "HOME" ? "/root" : undefined),
    ).extraArgs,
    [
      "-o",
      '"sftp.command=ssh -o ""UserKnownHostsFile=/s/known_hosts /root/.ssh/known_hosts"" -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=30 h -s sftp"',
    ],
  );
  assert.deepEqual(
    repositorySettings(loaded("/s", { repository: { location: "/local" } })).extraArgs,
    [],
  );
});

Deno.test("env files: KEY=VALUE, comments, export, quotes; a bad line is named by number only", () => {
  assert.deepEqual(
    parseEnvFile(
      "# creds\nexport B2_ACCOUNT_ID=abc\n\nB2_ACCOUNT_KEY=\"k=ey\"\nX='q'\nEMPTY=\n",
      "/f",
    ),
    { B2_ACCOUNT_ID: "abc", B2_ACCOUNT_KEY: "k=ey", X: "q", EMPTY: "" },
  );
  assert.throws(
    () => parseEnvFile("GOOD=1\nthis is secret-value\n", "/f"),
    (e) =>
      isStowageError(e, "config.invalid") && /line 2/.test(e.message) &&
      !e.message.includes("secret-value"),
  );
});

Deno.test("modeWarning flags group/other bits only", () => {
  assert.equal(modeWarning("Password file", "/p", 0o100600), undefined);
  assert.equal(modeWarning("Password file", "/p", 0o100400), undefined);
  assert.match(modeWarning("Password file", "/p", 0o100644) ?? "", /mode 0644; it should be 0600/);
  assert.equal(modeWarning("Password file", "/p", null), undefined);
});

Deno.test("openRepository: the default password file is generated only with prepare, 0600 in a 0700 dir", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-open-" });
  try {
    const state = `${dir}/state`;
    await assert.rejects(
      openRepository(loaded(state), { runner, prepare: false, env: noEnv }),
      (e) =>
        isStowageError(e, "repo.missing") && e.message.includes(`${state}/repository.password`),
    );
    await assert.rejects(Deno.stat(state), Deno.errors.NotFound, "reading must not write");

    const repo = await openRepository(loaded(state), { runner, prepare: true, env: noEnv });
    assert.ok(repo instanceof Restic);
    const pw = await Deno.readTextFile(`${state}/repository.password`);
    assert.match(pw, /^[A-Za-z0-9]{48}\n$/);
    assert.equal((await Deno.stat(`${state}/repository.password`)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(state)).mode! & 0o777, 0o700);
    assert.deepEqual(repo.warnings, []);
    assert.deepEqual([...Deno.readDirSync(state)].map((e) => e.name), ["repository.password"]);

    // Never replaced once it exists, even when several processes race to create it.
    await Promise.all(
      [1, 2, 3].map(() => openRepository(loaded(state), { runner, prepare: true, env: noEnv })),
    );
    assert.equal(await Deno.readTextFile(`${state}/repository.password`), pw);
    assert.deepEqual([...Deno.readDirSync(state)].map((e) => e.name), ["repository.password"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRepository: a configured password file must exist; a wide mode is a warning", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-open-" });
  try {
    const cfg = { repository: { location: `${dir}/repo`, password_file: `${dir}/pw` } };
    await assert.rejects(
      openRepository(loaded(`${dir}/state`, cfg), { runner, prepare: true, env: noEnv }),
      (e) => isStowageError(e, "repo.password") && e.message.includes(`'${dir}/pw' does not exist`),
    );
    await Deno.writeTextFile(`${dir}/pw`, "secret-password\n", { mode: 0o644 });
    await Deno.chmod(`${dir}/pw`, 0o644);
    const repo = await openRepository(loaded(`${dir}/state`, cfg), {
      runner,
      prepare: true,
      env: noEnv,
    }) as Restic;
    assert.equal(repo.warnings.length, 1);
    assert.match(repo.warnings[0], /mode 0644/);
    assert.ok(!repo.warnings[0].includes("secret-password"));
    await assert.rejects(Deno.stat(`${dir}/state`), Deno.errors.NotFound);
    await assert.rejects(
      openRepository(
        loaded(`${dir}/state`, { repository: { ...cfg.repository, env_file: `${dir}/nope.env` } }),
        {
          runner,
          prepare: false,
          env: noEnv,
        },
      ),
      (e) => isStowageError(e, "config.invalid") && e.message.includes("nope.env"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("restic gets the password only by file, backend env from config and env_file, and ignores inherited RESTIC_* settings", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-open-" });
  // A recording wrapper around the real restic: it logs argv and environment, then execs restic.
  const wrapper = `${dir}/restic-wrapper`;
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh\nprintf '%s\\n' "$@" >> "${dir}/argv"\nenv > "${dir}/env"\nexec restic "$@"\n`,
    { mode: 0o755 },
  );
  const saved = ["RESTIC_PASSWORD_COMMAND", "RESTIC_PASSWORD", "RESTIC_REPOSITORY"].map((n) =>
    [n, Deno.env.get(n)] as const
  );
  try {
    Deno.env.set("RESTIC_PASSWORD_COMMAND", "echo from-parent");
    Deno.env.set("RESTIC_PASSWORD", "from-parent");
    Deno.env.set("RESTIC_REPOSITORY", "/somewhere/else");
    const password = "Pw-" + crypto.randomUUID();
    await Deno.writeTextFile(`${dir}/pw`, password, { mode: 0o600 });
    await Deno.writeTextFile(
      `${dir}/creds.env`,
      "AWS_ACCESS_KEY_ID=from-file\nAWS_SECRET_ACCESS_KEY=file-secret\n",
      {
        mode: 0o600,
      },
    );
    const repo = await openRepository(
      loaded(`${dir}/state`, {
        repository: {
          location: `${dir}/repo`,
          password_file: `${dir}/pw`,
          restic_binary: wrapper,
          env_file: `${dir}/creds.env`,
          env: { AWS_ACCESS_KEY_ID: "from-config" },
        },
      }),
      { runner, prepare: false, env: noEnv },
    );
    await repo.init();
    assert.equal(await repo.exists(), true);
    const argv = await Deno.readTextFile(`${dir}/argv`);
    assert.ok(!argv.includes(password), "password on the command line");
    assert.match(argv, /--cache-dir\n.*\/state\/cache\/restic\n/);
    const env = Object.fromEntries(
      (await Deno.readTextFile(`${dir}/env`)).trim().split("\n").map((
        l,
      ) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    assert.equal(env.RESTIC_PASSWORD_FILE, `${dir}/pw`);
    assert.equal(env.RESTIC_PASSWORD, "");
    assert.equal(env.RESTIC_PASSWORD_COMMAND, "");
    assert.equal(env.AWS_ACCESS_KEY_ID, "from-config");
    assert.equal(env.AWS_SECRET_ACCESS_KEY, "file-secret");
    assert.ok(await Deno.stat(`${dir}/repo/config`));
  } finally {
    for (const [n, v] of saved) v === undefined ? Deno.env.delete(n) : Deno.env.set(n, v);
    await Deno.remove(dir, { recursive: true });
  }
});
