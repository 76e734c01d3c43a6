/**
 * Disaster-recovery bundles installed: recover.sh in a wiped environment (and with hostile values),
 * `disaster-recovery open --install`, and crafted bundles it refuses.
 */
import assert from "node:assert/strict";
import { stowage } from "./support/cli.ts";
import { sh } from "./support/docker.ts";

import { bundleFileName } from "../core/recovery/mod.ts";
import { openFrom, sampleBundle, sampleInput } from "../core/recovery/testing.ts";
import type { AssembledBundle, BundleManifest } from "../core/recovery/mod.ts";
import { archiveStream } from "../core/recovery/write.ts";
import { writeBundleFile } from "../adapters/recovery/bundle_io.ts";

import {
  BUNDLE_PASSWORD,
  listTree,
  makeBundle,
  makeEnv,
  mode,
  opensslOpen,
  REPO_PASSWORD,
  ROOT,
} from "./support/recovery.ts";

Deno.test("recover.sh: in a wiped environment it installs with 0600/0700, lists the units, and is safe to run twice", async () => {
  const e = await makeEnv();
  try {
    const bundle = await makeBundle(e);
    const x = `${e.dir}/x`;
    await Deno.mkdir(x);
    await opensslOpen(bundle, x, e.bundlePasswordFile);
    const [root] = (await listTree(x)).filter((f) => /^stowage-recovery-[^/]+\/$/.test(f));
    const script = `${x}/${root}recover.sh`;
    // The new server: no config, no password, no credentials, no state.
    for (const p of [`${e.dir}/etc`, `${e.dir}/secrets`, `${e.dir}/ssh`, e.stateDir]) {
      await Deno.remove(p, { recursive: true }).catch(() => {});
    }
    const bin = `${e.dir}/bin`;
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      `${bin}/stowage`,
      `#!/bin/sh\nexec deno run -P=stowage --no-prompt --quiet --config '${ROOT}deno.json' '${ROOT}main.ts' "$@"\n`,
      { mode: 0o755 },
    );
    const env = { ...e.env, PATH: `${bin}:${Deno.env.get("PATH")}`, HOME: e.dir };

    const first = await sh("sh", [script], { env, check: false });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /installed +.*\/etc\/stowage\/config.yaml \(0600\)/);
    assert.match(first.stdout, /units with backups:\n +demo\n/);
    assert.ok(
      first.stdout.includes(
        `stowage --config ${e.configPath} restore --unit demo --latest --start --yes`,
      ),
    );
    for (
      const [p, m] of [
        [e.configPath, 0o600],
        [e.repoPasswordFile, 0o600],
        [`${e.dir}/secrets/backend.env`, 0o600],
        [e.knownHosts, 0o600],
        [`${e.dir}/etc`, 0o700],
        [`${e.dir}/etc/stowage`, 0o700],
        [`${e.dir}/secrets`, 0o700],
      ] as const
    ) {
      assert.equal(await mode(p), m, p);
    }
    assert.equal(await Deno.readTextFile(e.repoPasswordFile), REPO_PASSWORD + "\n");
    // The installed config works for stowage itself.
    const v = await stowage([
      "disaster-recovery",
      "--password-file",
      `${x}/${root}files/repository.password`,
      "--output",
      `${e.dir}/again`,
      "--json",
    ], { env: e.env });
    assert.equal(v.code, 0, v.stderr);
    assert.deepEqual(JSON.parse(v.stdout).units_error, null);

    const second = await sh("busybox", ["sh", script], { env, check: false });
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.doesNotMatch(second.stdout, /installed /);
    assert.equal((second.stdout.match(/in place/g) ?? []).length, 4);
    assert.ok(
      !(await listTree(e.dir)).some((f) =>
        f.includes("before-recovery") || f.includes("recover-tmp")
      ),
    );

    // A different file at a target is kept aside, never overwritten blindly.
    await Deno.writeTextFile(e.knownHosts, "someone else's\n");
    const third = await sh("sh", [script], { env, check: false });
    assert.equal(third.code, 0, third.stdout + third.stderr);
    assert.equal(
      await Deno.readTextFile(
        `${e.knownHosts}.before-recovery-${root.slice("stowage-recovery-".length, -1)}`,
      ),
      "someone else's\n",
    );

    // A damaged extracted file stops the script before it installs anything.
    await Deno.remove(e.configPath);
    await Deno.writeTextFile(`${x}/${root}files/config.yaml`, "tampered: true\n");
    const damaged = await sh("sh", [script], { env, check: false });
    assert.equal(damaged.code, 1);
    assert.match(damaged.stderr, /does not match its SHA-256/);
    assert.ok(!(await Deno.stat(e.configPath).then(() => true, () => false)));
  } finally {
    await e.cleanup();
  }
});

Deno.test("recover.sh: says what is missing and exits 1 when restic cannot open the repository", async () => {
  const e = await makeEnv();
  try {
    const bundle = await makeBundle(e);
    const x = `${e.dir}/x`;
    await Deno.mkdir(x);
    await opensslOpen(bundle, x, e.bundlePasswordFile);
    const [root] = (await listTree(x)).filter((f) => /^stowage-recovery-[^/]+\/$/.test(f));
    await Deno.rename(e.repo, `${e.repo}.away`);
    const r = await sh("sh", [`${x}/${root}recover.sh`], {
      env: { ...e.env, STOWAGE: "stowage-not-installed-here" },
      check: false,
    });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /missing +stowage: install stowage/);
    assert.match(r.stderr, /restic could not open the repository/);
    assert.match(r.stdout, /Not ready yet/);
  } finally {
    await e.cleanup();
  }
});

Deno.test("recover.sh: hostile values in every field it embeds are text, never run (sh -n, shellcheck, a real run)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-hostile-" });
  try {
    const canary = `/tmp/pwned-${crypto.randomUUID()}`;
    // Each hostile value tries another way out of its quoting; each would create a canary file.
    const evil = (n: number) =>
      `$(touch ${canary}-${n}) \`touch ${canary}-${n}b\` ' " ; touch ${canary}-${n}c\n` +
      `touch ${canary}-${n}d # \\ $HOME`;
    const at = (n: number, name: string) => `${dir}/t/${n} ${evil(n)}/${name}`;
    const base = sampleInput();
    const input = sampleInput({
      host: evil(1),
      stowageVersion: evil(2),
      stowageCommand: `stowage --config ${evil(3)}`,
      config: { path: at(4, "config.yaml"), source: { file: "c" }, embeddedDefault: false },
      stateDir: at(5, "state"),
      repository: {
        ...base.repository,
        location: `sftp:${evil(6)}`,
        passwordFile: at(7, "pw"),
        resticBinary: `restic-${evil(8)}`,
        resticArgs: ["-o", `sftp.command=${evil(9)}`],
        env: {},
        envFile: at(10, "backend.env"),
        sshKey: at(11, "key"),
        knownHosts: at(12, "known_hosts"),
      },
      units: [{ name: evil(13), latest_time: "2025-01-31T02:00:00Z", snapshots: 1 }],
    });
    const contents: Record<string, string> = {
      c: "config\n",
      [at(7, "pw")]: "pw\n",
      [at(10, "backend.env")]: "A=1\n",
      [at(11, "key")]: "key\n",
      [at(12, "known_hosts")]: "kh\n",
    };
    const b = sampleBundle(input, contents);
    const here = `${dir}/bundle`;
    await Deno.mkdir(`${here}/files`, { recursive: true });
    for (const e of b.entries) {
      const text = "text" in e.source ? e.source.text : contents[e.source.file];
      await Deno.writeTextFile(`${here}/${e.name}`, text, { mode: e.mode });
    }
    const script = `${here}/recover.sh`;
    await sh("sh", ["-n", script]);
    await sh("bash", ["-n", script]);
    // shellcheck is a test dependency (scripts/install-deps.sh --tests): missing means failing.
    const sc = await sh("shellcheck", ["-s", "sh", "-S", "info", script], { check: false });
    assert.equal(sc.code, 0, `shellcheck: ${sc.stdout}${sc.stderr}`);
    for (const shell of ["sh", "bash"]) {
      const r = await sh(shell, [script], {
        env: { STOWAGE: "stowage-not-installed-here", PATH: "/usr/bin:/bin" },
        check: false,
      });
      assert.equal(r.code, 1, `${shell}: ${r.stdout}${r.stderr}`);
      assert.ok(
        r.stdout.includes(
          "stowage (see its README: the release binary, or a checkout run with `deno task stowage`)",
        ),
        `${shell}: the hint is printed as text: ${r.stdout}`,
      );
      assert.ok(r.stdout.includes(`(made on ${evil(1)})`), `${shell}: host printed verbatim`);
      for (const f of b.manifest.files.filter((f) => f.install_path)) {
        assert.equal(
          await Deno.readTextFile(f.install_path!),
          f.role === "config" ? "config\n" : contents[f.install_path!],
          `${shell}: ${f.name} installed at its literal path`,
        );
      }
    }
    const leaked = [];
    for await (const e of Deno.readDir("/tmp")) {
      if (e.name.startsWith(canary.slice(5))) leaked.push(e.name);
    }
    assert.deepEqual(leaked, [], "no embedded value was run");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("disaster-recovery open --install: does what recover.sh does, without openssl, twice safely", async () => {
  const e = await makeEnv();
  try {
    const bundle = await makeBundle(e);
    for (const p of [`${e.dir}/etc`, `${e.dir}/secrets`, e.stateDir]) {
      await Deno.remove(p, { recursive: true });
    }
    await Deno.writeTextFile(`${e.dir}/bundle2.pw`, BUNDLE_PASSWORD + "\n");
    const args = [
      "disaster-recovery",
      "open",
      bundle,
      "--install",
      "--password-file",
      `${e.dir}/bundle2.pw`,
    ];
    // No terminal to ask on and no --yes: nothing is installed.
    const before = await listTree(e.dir);
    const asked = await stowage(args, { env: e.env });
    assert.equal(asked.code, 18, asked.stderr);
    assert.match(
      asked.stderr,
      /without confirmation: stdin is not a terminal and --yes was not given\nhint: /,
    );
    assert.deepEqual(await listTree(e.dir), before, "nothing written without --yes");
    // With --yes, text output lists every target before installing.
    const listed = await stowage([...args, "--yes"], { env: e.env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /--install writes these files/);
    for (
      const p of [e.configPath, e.repoPasswordFile, `${e.dir}/secrets/backend.env`, e.knownHosts]
    ) {
      assert.ok(listed.stdout.includes(`  ${p}    `), `target ${p} listed: ${listed.stdout}`);
    }
    for (const p of [`${e.dir}/etc`, `${e.dir}/secrets`]) await Deno.remove(p, { recursive: true });
    args.push("--yes", "--json");
    const r = await stowage(args, { env: e.env });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(doc.repository_check, { ok: true, units: ["demo"] });
    assert.deepEqual(
      doc.installed.map((i: { path: string; action: string }) => [i.path, i.action]).sort(),
      [[e.configPath, "installed"], [`${e.dir}/secrets/backend.env`, "installed"], [
        e.repoPasswordFile,
        "installed",
      ], [e.knownHosts, "in place"]].sort(),
    );
    assert.equal(doc.extracted_to, undefined, "--install alone extracts nothing");
    assert.equal(await mode(e.configPath), 0o600);
    assert.equal(await mode(`${e.dir}/etc/stowage`), 0o700);
    assert.ok(doc.next_commands[0].endsWith("restore --unit demo --latest --start --yes"));
    const again = await stowage(args, { env: e.env });
    assert.equal(again.code, 0, again.stderr);
    assert.ok(
      JSON.parse(again.stdout).installed.every((i: { action: string }) => i.action === "in place"),
    );
    assert.ok(
      !(await listTree(e.dir)).some((f) =>
        f.includes("stowage-tmp") || f.includes("before-recovery")
      ),
    );
  } finally {
    await e.cleanup();
  }
});

/**
 * A bundle written with the project's own writer whose manifest (and files) were crafted: the
 * payload paths live under `dir`, `craft` may change file contents (hashes follow) and the
 * manifest after assembly (the manifest entry is re-measured).
 */
async function craftedBundle(
  dir: string,
  craft: {
    files?: (f: Record<string, string>, paths: Record<string, string>) => void;
    config?: Partial<ReturnType<typeof sampleInput>["config"]>;
    manifest?: (m: BundleManifest) => unknown;
  },
): Promise<string> {
  const paths = {
    config: `${dir}/etc/stowage/config.yaml`,
    password: `${dir}/etc/stowage/repo.pw`,
    env: `${dir}/etc/stowage/backend.env`,
    sshKey: `${dir}/root/.ssh/stowage`,
    knownHosts: `${dir}/root/.ssh/known_hosts`,
  };
  const files: Record<string, string> = {
    [paths.config]: `repository:\n  location: ${dir}/repo\n  password_file: ${paths.password}\n` +
      `  env_file: ${paths.env}\n  ssh_key: ${paths.sshKey}\n  known_hosts: ${paths.knownHosts}\n`,
    [paths.password]: "repo-password\n",
    [paths.env]: "TOKEN=x\n",
    [paths.sshKey]: "-----BEGIN OPENSSH PRIVATE KEY-----\nattacker\n",
    [paths.knownHosts]: "nas ssh-ed25519 AAAA\n",
  };
  craft.files?.(files, paths);
  const base = sampleInput();
  const input = sampleInput({
    stateDir: `${dir}/state`,
    config: { ...base.config, path: paths.config, source: { file: paths.config }, ...craft.config },
    repository: {
      ...base.repository,
      location: `${dir}/repo`,
      passwordFile: paths.password,
      envFile: paths.env,
      sshKey: paths.sshKey,
      knownHosts: paths.knownHosts,
      env: {},
    },
  });
  let b: AssembledBundle = sampleBundle(input, files);
  if (craft.manifest) {
    const text = JSON.stringify(craft.manifest(structuredClone(b.manifest)));
    b = {
      ...b,
      entries: [
        { ...b.entries[0], size: new TextEncoder().encode(text).length, source: { text } },
        ...b.entries.slice(1),
      ],
    };
  }
  const out = `${dir}/in`;
  const { path } = await writeBundleFile(archiveStream(b, openFrom(files), 0), {
    password: BUNDLE_PASSWORD,
    dir: out,
    fileName: bundleFileName(b.manifest.bundle_id),
  });
  return path;
}

Deno.test("open --install: crafted bundles are refused even with --yes, one line and a hint, nothing written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-crafted-" });
  try {
    await Deno.writeTextFile(`${dir}/pw`, BUNDLE_PASSWORD + "\n");
    const withFile = (m: BundleManifest, name: string, over: Record<string, unknown>) => ({
      ...m,
      files: m.files.map((f) => (f.name === name ? { ...f, ...over } : f)),
    });
    const cron = `${dir}/etc/cron.d/stowage-evil`;
    const authorized = `${dir}/root/.ssh/authorized_keys`;
    const cases: [string, Parameters<typeof craftedBundle>[1], RegExp][] = [
      [
        "the config's install path moved to cron.d",
        { manifest: (m) => withFile(m, "files/config.yaml", { install_path: cron }) },
        /'files\/config.yaml' \(stowage config\) would go to '.*cron.d\/stowage-evil', but the manifest's own setting/,
      ],
      [
        "a cron job posing as the config, every path consistent",
        {
          config: { path: `${cron}.yaml`, source: { file: `${cron}.yaml` } },
          files: (f) => {
            f[`${cron}.yaml`] = "* * * * * root touch /tmp/pwned\n";
          },
        },
        /its config is not a valid stowage config/,
      ],
      [
        "a valid config bound for a shell's start-up file",
        {
          config: {
            path: `${dir}/root/.bashrc`,
            source: { file: `${dir}/etc/stowage/config.yaml` },
          },
        },
        /would go to '.*\/root\/.bashrc', which is not a .yaml or .yml file/,
      ],
      [
        "the SSH key (and its manifest setting) moved to authorized_keys",
        {
          manifest: (m) => {
            const x = withFile(m, "files/ssh_key", { install_path: authorized });
            x.repository.ssh_key = authorized;
            return x;
          },
        },
        /'files\/ssh_key' \(SSH key \(repository.ssh_key\)\) would go to '.*authorized_keys', but the bundled config names/,
      ],
      [
        "README.txt with an install path",
        {
          manifest: (m) => withFile(m, "README.txt", { install_path: `${dir}/etc/profile.d/x.sh` }),
        },
        /'README.txt' \(readme\) names an install path/,
      ],
      [
        "a manifest without config",
        {
          manifest: (m) => {
            const { config: _, ...rest } = m;
            return rest;
          },
        },
        /manifest.json is malformed \(at 'config'/,
      ],
      [
        "an install path with '..'",
        {
          manifest: (m) =>
            withFile(m, "files/known_hosts", { install_path: `${dir}/root/../etc/cron.d/x` }),
        },
        /malformed \(at 'files.6.install_path'.*'\.\.'/,
      ],
      [
        "an unknown role",
        { manifest: (m) => withFile(m, "files/known_hosts", { role: "authorized-keys" }) },
        /malformed \(at 'files.6.role'/,
      ],
    ];
    for (const [what, craft, re] of cases) {
      const bundle = await craftedBundle(dir, craft);
      const before = await listTree(dir);
      const r = await stowage([
        "disaster-recovery",
        "open",
        bundle,
        "--install",
        "--yes",
        "--password-file",
        `${dir}/pw`,
      ], { env: { STOWAGE_STATE_DIR: `${dir}/state` } });
      assert.equal(r.code, 16, `${what}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 2, `${what}: one line and a hint: ${r.stderr}`);
      assert.match(lines[0], re, what);
      assert.match(lines[1], /^hint: /, what);
      assert.deepEqual(await listTree(dir), before, `${what}: nothing written`);
      await Deno.remove(bundle);
    }
    // The same writer with nothing crafted installs (so the refusals above are about the craft).
    const ok = await craftedBundle(dir, {});
    const r = await stowage(
      ["disaster-recovery", "open", ok, "--install", "--yes", "--password-file", `${dir}/pw`],
      { env: { STOWAGE_STATE_DIR: `${dir}/state` } },
    );
    assert.match(r.stdout, /Installed:/, r.stderr);
    assert.equal(
      await Deno.readTextFile(`${dir}/root/.ssh/stowage`),
      "-----BEGIN OPENSSH PRIVATE KEY-----\nattacker\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
