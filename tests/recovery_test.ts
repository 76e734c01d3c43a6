/**
 * Disaster-recovery bundles end to end: made through the CLI against a real restic repository,
 * opened with stock openssl + GNU tar and with `disaster-recovery open`, recover.sh run in a
 * wiped environment, bad bundles refused, rotation, and the full
 * drill (backup -> bundle -> wipe -> recover.sh -> restore) once backup and restore exist.
 */
import assert from "node:assert/strict";
import { isolatedEnv, spawnStowage, stowage } from "./support/cli.ts";
import { cleanupDocker, docker, sh } from "./support/docker.ts";
import { createFixtureStack } from "./support/fixture.ts";
import { bundleFileName, PBKDF2_ITERATIONS } from "../core/recovery/mod.ts";
import { openFrom, sampleBundle, sampleFiles, sampleInput } from "../core/recovery/testing.ts";
import type { AssembledBundle, BundleManifest } from "../core/recovery/mod.ts";
import { archiveStream } from "../core/recovery/write.ts";
import { fileChunks, writeBundleFile } from "../adapters/recovery/bundle_io.ts";
import { createDecryptor, createEncryptor } from "../adapters/recovery/openssl.ts";
import { refreshAutomaticBundle } from "../app/recovery_bundle.ts";
import { realRuntime } from "../main.ts";
import { ManualClock } from "../adapters/clock.ts";
import { applyConfigPaths, readConfig } from "../adapters/config_store.ts";
import type { LoadedConfig } from "../cli/runtime.ts";
import type { Services } from "../app/services.ts";
import { resolvePaths } from "../core/paths.ts";
import { isStowageError } from "../core/errors.ts";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { randomBytes } from "node:crypto";

const ROOT = new URL("../", import.meta.url).pathname;
const BUNDLE_PASSWORD = "correct horse battery staple 42";
const REPO_PASSWORD = "repo-pw-" + crypto.randomUUID();
const BACKEND_SECRET = "backend-secret-" + crypto.randomUUID();

interface Env {
  dir: string;
  env: Record<string, string>;
  configPath: string;
  stateDir: string;
  repo: string;
  repoPasswordFile: string;
  bundlePasswordFile: string;
  knownHosts: string;
  out: string;
  cleanup(): Promise<void>;
}

const restic = (e: Env, ...args: string[]) =>
  sh("restic", ["-r", e.repo, "--password-file", e.repoPasswordFile, "-q", ...args]);

/**
 * A stowage host in a temp dir: config under a nested etc/, the repository outside the state
 * dir (so wiping state keeps it, as a remote repository would be kept), one tagged snapshot.
 */
async function makeEnv(
  opts: { knownHostsBytes?: number; extraConfig?: string } = {},
): Promise<Env> {
  const base = await isolatedEnv();
  const dir = base.dir;
  const configPath = `${dir}/etc/stowage/config.yaml`;
  const repo = `${dir}/repo`;
  const repoPasswordFile = `${dir}/secrets/repo.pw`;
  const bundlePasswordFile = `${dir}/bundle.pw`;
  const knownHosts = `${dir}/ssh/known_hosts`;
  const out = `${dir}/out`;
  for (const d of ["etc/stowage", "secrets", "ssh", "out", "data"]) {
    await Deno.mkdir(`${dir}/${d}`, { recursive: true, mode: 0o700 });
  }
  await Deno.writeTextFile(repoPasswordFile, REPO_PASSWORD + "\n", { mode: 0o600 });
  await Deno.writeTextFile(bundlePasswordFile, BUNDLE_PASSWORD + "\n", { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/secrets/backend.env`, `EXTRA_TOKEN="${BACKEND_SECRET}"\n`, {
    mode: 0o600,
  });
  if (opts.knownHostsBytes) {
    await sh("sh", ["-c", `head -c ${opts.knownHostsBytes} /dev/urandom > '${knownHosts}'`]);
  } else {
    await Deno.writeTextFile(knownHosts, "nas ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB\n", {
      mode: 0o600,
    });
  }
  const config = `repository:
  location: ${repo}
  password_file: ${repoPasswordFile}
  env_file: ${dir}/secrets/backend.env
  env:
    RESTIC_COMPRESSION: auto
  known_hosts: ${knownHosts}
${opts.extraConfig ?? ""}`;
  await Deno.writeTextFile(configPath, config, { mode: 0o600 });
  const e: Env = {
    dir,
    env: { STOWAGE_STATE_DIR: base.stateDir, STOWAGE_CONFIG: configPath },
    configPath,
    stateDir: base.stateDir,
    repo,
    repoPasswordFile,
    bundlePasswordFile,
    knownHosts,
    out,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
  await restic(e, "init");
  await Deno.writeTextFile(`${dir}/data/file`, "volume data\n");
  await restic(
    e,
    "backup",
    "--tag",
    "stowage,format=1,unit=demo,type=volume,volume=demo_data,backup_id=2025-01-31T02-00-00Z",
    `${dir}/data`,
  );
  return e;
}

async function makeBundle(e: Env, extra: string[] = []): Promise<string> {
  const r = await stowage([
    "disaster-recovery",
    "--password-file",
    e.bundlePasswordFile,
    "--output",
    e.out,
    "--json",
    ...extra,
  ], { env: e.env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).path;
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for await (const x of Deno.readDir(d)) {
      out.push(rel + x.name + (x.isDirectory ? "/" : ""));
      if (x.isDirectory) await walk(`${d}/${x.name}`, `${rel}${x.name}/`);
    }
  };
  await walk(dir, "");
  return out.sort();
}

const mode = async (p: string) => ((await Deno.stat(p)).mode ?? 0) & 0o777;

/** openssl + GNU tar, exactly as README.txt says (the password from a file instead of the tty). */
async function opensslOpen(bundle: string, into: string, passwordFile: string) {
  await sh("sh", [
    "-c",
    `openssl enc -d -aes-256-cbc -pbkdf2 -iter ${PBKDF2_ITERATIONS} -md sha256 -pass file:"$1" -in "$2" | tar xz -C "$3"`,
    "sh",
    passwordFile,
    bundle,
    into,
  ]);
}

Deno.test("disaster-recovery: writes a 0600 bundle that stock openssl + tar open, with every file and its hash", async () => {
  const e = await makeEnv();
  try {
    const r = await stowage([
      "disaster-recovery",
      "--password-file",
      e.bundlePasswordFile,
      "--output",
      e.out,
      "--json",
    ], { env: e.env });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.match(doc.path, /\/stowage-recovery-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.tar\.gz\.enc$/);
    assert.equal(await mode(doc.path), 0o600);
    assert.deepEqual(doc.units.map((u: { name: string }) => u.name), ["demo"]);
    assert.equal(doc.units[0].latest_backup_id, "2025-01-31T02-00-00Z");
    for (const secret of [BUNDLE_PASSWORD, REPO_PASSWORD, BACKEND_SECRET]) {
      assert.ok(
        !r.stdout.includes(secret) && !r.stderr.includes(secret),
        "no secret in the command's output",
      );
    }
    assert.deepEqual(
      await listTree(e.out),
      [doc.path.slice(e.out.length + 1)],
      "only the bundle: no temp file left",
    );

    const x = `${e.dir}/x`;
    await Deno.mkdir(x);
    await opensslOpen(doc.path, x, e.bundlePasswordFile);
    const root = `${x}/stowage-recovery-${doc.bundle_id}`;
    assert.deepEqual(await listTree(x), [
      `stowage-recovery-${doc.bundle_id}/`,
      `stowage-recovery-${doc.bundle_id}/README.txt`,
      `stowage-recovery-${doc.bundle_id}/files/`,
      `stowage-recovery-${doc.bundle_id}/files/backend.env`,
      `stowage-recovery-${doc.bundle_id}/files/config.yaml`,
      `stowage-recovery-${doc.bundle_id}/files/known_hosts`,
      `stowage-recovery-${doc.bundle_id}/files/repository.password`,
      `stowage-recovery-${doc.bundle_id}/files/restic.env`,
      `stowage-recovery-${doc.bundle_id}/manifest.json`,
      `stowage-recovery-${doc.bundle_id}/recover.sh`,
    ]);
    assert.equal(
      await Deno.readTextFile(`${root}/files/config.yaml`),
      await Deno.readTextFile(e.configPath),
    );
    assert.equal(
      await Deno.readTextFile(`${root}/files/repository.password`),
      REPO_PASSWORD + "\n",
    );
    assert.equal(
      await Deno.readTextFile(`${root}/files/known_hosts`),
      await Deno.readTextFile(e.knownHosts),
    );
    assert.equal(
      await Deno.readTextFile(`${root}/files/restic.env`),
      `EXTRA_TOKEN=${BACKEND_SECRET}\nRESTIC_COMPRESSION=auto\n`,
    );
    const manifest = JSON.parse(await Deno.readTextFile(`${root}/manifest.json`));
    assert.equal(manifest.format, 1);
    assert.equal(manifest.host, Deno.hostname());
    assert.equal(manifest.repository.location, e.repo);
    assert.deepEqual(manifest.units.map((u: { name: string }) => u.name), ["demo"]);
    // sha256sum agrees with every hash in the manifest.
    const sums = manifest.files.map((f: { sha256: string; name: string }) =>
      `${f.sha256}  ${f.name}`
    ).join("\n") + "\n";
    await sh("sha256sum", ["-c", "-"], { cwd: root, stdin: sums });
    const readme = await Deno.readTextFile(`${root}/README.txt`);
    assert.ok(
      readme.includes(
        `openssl enc -d -aes-256-cbc -pbkdf2 -iter ${PBKDF2_ITERATIONS} -md sha256 -in ${
          bundleFileName(doc.bundle_id)
        } | tar xz`,
      ),
    );
    assert.equal(
      doc.open_command,
      `openssl enc -d -aes-256-cbc -pbkdf2 -iter ${PBKDF2_ITERATIONS} -md sha256 -in ${
        bundleFileName(doc.bundle_id)
      } | tar xz`,
    );
    // recover.sh is valid POSIX sh for dash and busybox ash.
    await sh("sh", ["-n", `${root}/recover.sh`]);
    await sh("busybox", ["sh", "-n", `${root}/recover.sh`]);
  } finally {
    await e.cleanup();
  }
});

Deno.test("disaster-recovery open / verify: check every file; open extracts exactly what openssl gives", async () => {
  const e = await makeEnv();
  try {
    const bundle = await makeBundle(e);
    const v = await stowage([
      "disaster-recovery",
      "verify",
      bundle,
      "--password-file",
      e.bundlePasswordFile,
      "--json",
    ], { env: e.env });
    assert.equal(v.code, 0, v.stderr);
    const doc = JSON.parse(v.stdout);
    assert.equal(doc.ok, true);
    assert.equal(doc.files.length, 7);
    assert.ok(!v.stdout.includes(REPO_PASSWORD));

    const viaOpenssl = `${e.dir}/a`;
    const viaStowage = `${e.dir}/b`;
    await Deno.mkdir(viaOpenssl);
    await Deno.mkdir(viaStowage);
    await opensslOpen(bundle, viaOpenssl, e.bundlePasswordFile);
    const o = await stowage([
      "disaster-recovery",
      "open",
      bundle,
      "--password-file",
      e.bundlePasswordFile,
      "--output",
      viaStowage,
    ], { env: e.env });
    assert.equal(o.code, 0, o.stderr);
    assert.match(o.stdout, /Bundle OK/);
    assert.deepEqual(await listTree(viaStowage), await listTree(viaOpenssl));
    for (const f of (await listTree(viaOpenssl)).filter((f) => !f.endsWith("/"))) {
      assert.deepEqual(
        await Deno.readFile(`${viaStowage}/${f}`),
        await Deno.readFile(`${viaOpenssl}/${f}`),
        f,
      );
      assert.equal(await mode(`${viaStowage}/${f}`), f.endsWith("recover.sh") ? 0o700 : 0o600, f);
    }
    // Opening into the same place twice refuses rather than mixing two extractions.
    const again = await stowage([
      "disaster-recovery",
      "open",
      bundle,
      "--password-file",
      e.bundlePasswordFile,
      "--output",
      viaStowage,
    ], { env: e.env });
    assert.equal(again.code, 20, again.stderr);
    assert.match(again.stderr, /already exists/);
  } finally {
    await e.cleanup();
  }
});

Deno.test("openssl compatibility: the stream cipher reads what stock openssl writes, and the other way round", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-ossl-" });
  try {
    const data = new Uint8Array(randomBytes(300_001));
    await Deno.writeFile(`${dir}/plain`, data);
    await Deno.writeTextFile(`${dir}/pw`, "pässwörd with spaces\n");
    // openssl -> us
    await sh("openssl", [
      "enc",
      "-aes-256-cbc",
      "-pbkdf2",
      "-iter",
      "1234",
      "-md",
      "sha256",
      "-pass",
      `file:${dir}/pw`,
      "-in",
      `${dir}/plain`,
      "-out",
      `${dir}/by-openssl`,
    ]);
    const dec = createDecryptor("pässwörd with spaces", 1234);
    const parts: Uint8Array<ArrayBuffer>[] = [];
    await pipeline(
      Readable.from(fileChunks(`${dir}/by-openssl`)),
      dec.stream,
      async (src: AsyncIterable<Uint8Array>) => {
        for await (const c of src) parts.push(new Uint8Array(c));
      },
    );
    assert.deepEqual(new Uint8Array(await new Blob(parts).arrayBuffer()), data);
    // us -> openssl
    const f = await Deno.open(`${dir}/by-us`, { write: true, create: true });
    await pipeline(
      Readable.from(fileChunks(`${dir}/plain`)),
      await createEncryptor("pässwörd with spaces", 1234),
      async (src: AsyncIterable<Uint8Array>) => {
        for await (const c of src) await f.write(c);
      },
    );
    f.close();
    await sh("openssl", [
      "enc",
      "-d",
      "-aes-256-cbc",
      "-pbkdf2",
      "-iter",
      "1234",
      "-md",
      "sha256",
      "-pass",
      `file:${dir}/pw`,
      "-in",
      `${dir}/by-us`,
      "-out",
      `${dir}/back`,
    ]);
    assert.deepEqual(await Deno.readFile(`${dir}/back`), data);
    assert.equal(
      new TextDecoder().decode((await Deno.readFile(`${dir}/by-us`)).subarray(0, 8)),
      "Salted__",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad bundles: wrong password, truncation, flipped bytes, not a bundle: one line each, nothing installed", async () => {
  const e = await makeEnv();
  try {
    const bundle = await makeBundle(e);
    const bytes = await Deno.readFile(bundle);
    await Deno.writeTextFile(`${e.dir}/wrong.pw`, "not the password\n");
    // [what, bytes, password file, exit code, message, also try --install]
    const variants: [string, Uint8Array, string, number, RegExp, boolean][] = [
      ["wrong password", bytes, `${e.dir}/wrong.pw`, 17, /wrong password/, true],
      [
        "truncated at a block boundary",
        bytes.subarray(0, bytes.length - 16),
        e.bundlePasswordFile,
        16,
        /truncated or damaged/,
        true,
      ],
      [
        "truncated mid-block",
        bytes.subarray(0, bytes.length - 7),
        e.bundlePasswordFile,
        16,
        /truncated or damaged/,
        false,
      ],
      [
        "truncated to half",
        bytes.subarray(0, bytes.length >> 1),
        e.bundlePasswordFile,
        16,
        /truncated or damaged/,
        false,
      ],
      [
        "cut inside the header",
        bytes.subarray(0, 12),
        e.bundlePasswordFile,
        16,
        /not an encrypted stowage bundle|truncated/,
        false,
      ],
      [
        "not a bundle",
        new TextEncoder().encode("just some text, long enough to be more than a block\n"),
        e.bundlePasswordFile,
        16,
        /not an encrypted stowage bundle/,
        false,
      ],
    ];
    for (const at of [40, bytes.length >> 1, bytes.length - 20, bytes.length - 1]) {
      const flipped = bytes.slice();
      flipped[at] ^= 0x04;
      variants.push([
        `flipped byte at ${at}`,
        flipped,
        e.bundlePasswordFile,
        16,
        /damaged|does not match its manifest/,
        at === bytes.length >> 1,
      ]);
    }
    const bad = `${e.dir}/bad.tar.gz.enc`;
    for (const [what, content, pw, code, re, install] of variants) {
      await Deno.writeFile(bad, content);
      for (
        const sub of install ? [["verify"], ["open", "--install", "--output", e.out]] : [["verify"]]
      ) {
        // The config the bundle would install is gone, so anything installed would show.
        await Deno.remove(e.configPath).catch(() => {});
        const r = await stowage(["disaster-recovery", ...sub, bad, "--password-file", pw], {
          env: e.env,
        });
        assert.equal(r.code, code, `${what} (${sub[0]}): ${r.stderr}`);
        const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("Warning"));
        assert.equal(lines.length, 2, `${what}: one error line plus a hint: ${r.stderr}`);
        assert.match(lines[0], re, what);
        assert.match(lines[1], /^hint: /);
        assert.ok(!r.stderr.includes("    at "), "no stack trace");
        assert.ok(
          !(await Deno.stat(e.configPath).then(() => true, () => false)),
          `${what}: nothing installed`,
        );
        assert.deepEqual(
          await listTree(e.out),
          [bundle.slice(e.out.length + 1)],
          `${what}: nothing extracted, no temp files`,
        );
      }
    }
    const missing = await stowage([
      "disaster-recovery",
      "verify",
      `${e.dir}/nope.enc`,
      "--password-file",
      e.bundlePasswordFile,
    ], { env: e.env });
    assert.equal(missing.code, 20);
    assert.match(missing.stderr, /no such file/);
    // Without a terminal and without --password-file there is nobody to ask.
    const noTty = await stowage(["disaster-recovery", "verify", bundle], { env: e.env });
    assert.equal(noTty.code, 18, noTty.stderr);
    assert.match(noTty.stderr, /--password-file/);
  } finally {
    await e.cleanup();
  }
});

Deno.test("key derivation: new bundles use 600000 PBKDF2 rounds that stock openssl opens; 200000-round bundles still open", async () => {
  assert.ok(PBKDF2_ITERATIONS >= 600_000, "OWASP 2023: at least 600000 rounds");
  const dir = await Deno.makeTempDir({ prefix: "stowage-iter-" });
  try {
    await Deno.writeTextFile(`${dir}/pw`, BUNDLE_PASSWORD + "\n");
    await Deno.writeTextFile(`${dir}/wrong.pw`, "not the bundle password\n");
    const b = sampleBundle();
    for (const iterations of [PBKDF2_ITERATIONS, 200_000]) {
      const out = `${dir}/${iterations}`;
      const { path } = await writeBundleFile(archiveStream(b, openFrom(sampleFiles), 0), {
        password: BUNDLE_PASSWORD,
        dir: out,
        fileName: bundleFileName(b.manifest.bundle_id),
        iterations,
      });
      // Stock openssl needs the right count: the other one fails.
      await Deno.mkdir(`${out}/x`);
      await opensslOpen(path, `${out}/x`, `${dir}/pw`).then(
        () =>
          assert.equal(
            iterations,
            PBKDF2_ITERATIONS,
            "openssl -iter 600000 opened a 200000 bundle",
          ),
        (e) => assert.notEqual(iterations, PBKDF2_ITERATIONS, `openssl: ${e}`),
      );
      const r = await stowage([
        "disaster-recovery",
        "verify",
        path,
        "--password-file",
        `${dir}/pw`,
      ]);
      assert.equal(r.code, 0, `${iterations}: ${r.stderr}`);
      assert.match(r.stdout, /Bundle OK/);
      const wrong = await stowage([
        "disaster-recovery",
        "verify",
        path,
        "--password-file",
        `${dir}/wrong.pw`,
      ]);
      assert.equal(wrong.code, 17, `${iterations}: ${wrong.stderr}`);
      assert.match(wrong.stderr, /wrong password/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a chosen bundle password shorter than 12 characters is refused, nothing written", async () => {
  const e = await makeEnv();
  try {
    await Deno.writeTextFile(`${e.dir}/short.pw`, "elevenchars\n", { mode: 0o600 });
    const r = await stowage([
      "disaster-recovery",
      "--password-file",
      `${e.dir}/short.pw`,
      "--output",
      e.out,
    ], { env: e.env });
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0], /it has 11 characters, fewer than 12/);
    assert.ok(!r.stderr.includes("elevenchars"), "the password is not echoed");
    assert.match(lines[1], /^hint: .*generated/);
    assert.deepEqual(await listTree(e.out), []);
    await Deno.writeTextFile(`${e.dir}/ok.pw`, "twelve chars\n", { mode: 0o600 });
    const ok = await stowage(
      ["disaster-recovery", "--password-file", `${e.dir}/ok.pw`, "--output", e.out],
      { env: e.env },
    );
    assert.equal(ok.code, 0, ok.stderr);
  } finally {
    await e.cleanup();
  }
});

Deno.test("bad bundles: one made by a newer stowage is refused with the version it needs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stowage-newer-" });
  try {
    const b = sampleBundle();
    const text = JSON.stringify({ ...b.manifest, format: 2, stowage_version: "9.9.9" });
    const newer = {
      ...b,
      entries: [
        { ...b.entries[0], size: new TextEncoder().encode(text).length, source: { text } },
        ...b.entries.slice(1),
      ],
    };
    const files: Record<string, string> = sampleFiles;
    const { path } = await writeBundleFile(
      archiveStream(newer, async function* (p) {
        yield new TextEncoder().encode(files[p]);
      }, 0),
      { password: BUNDLE_PASSWORD, dir, fileName: bundleFileName(b.manifest.bundle_id) },
    );
    await Deno.writeTextFile(`${dir}/pw`, BUNDLE_PASSWORD);
    const r = await stowage([
      "disaster-recovery",
      "open",
      path,
      "--install",
      "--password-file",
      `${dir}/pw`,
    ]);
    assert.equal(r.code, 16, r.stderr);
    assert.match(
      r.stderr,
      /made by a newer stowage \(9\.9\.9\) \(bundle format 2; this stowage reads up to 1\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

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

Deno.test("disaster-recovery --stream: only the encrypted bundle on stdout, and it opens", async () => {
  const e = await makeEnv();
  try {
    const child = spawnStowage([
      "disaster-recovery",
      "--stream",
      "--password-file",
      e.bundlePasswordFile,
    ], { env: e.env });
    const out = await child.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout.subarray(0, 8)), "Salted__");
    assert.match(new TextDecoder().decode(out.stderr), /Wrote recovery bundle to stdout/);
    await Deno.writeFile(`${e.dir}/streamed.enc`, out.stdout);
    const x = `${e.dir}/x`;
    await Deno.mkdir(x);
    await opensslOpen(`${e.dir}/streamed.enc`, x, e.bundlePasswordFile);
    assert.equal((await listTree(x)).filter((f) => f.endsWith("manifest.json")).length, 1);
    assert.deepEqual(await listTree(e.out), [], "--stream writes no file");
    const both = await stowage([
      "disaster-recovery",
      "--stream",
      "--json",
      "--password-file",
      e.bundlePasswordFile,
    ], { env: e.env });
    assert.equal(both.code, 2);
  } finally {
    await e.cleanup();
  }
});

Deno.test("generated password: shown once on the terminal, never on stdout/--json; refused without a terminal", async () => {
  const e = await makeEnv();
  try {
    const noTty = await stowage(["disaster-recovery", "--output", e.out, "--json"], { env: e.env });
    assert.equal(noTty.code, 18, noTty.stderr);
    assert.match(noTty.stderr, /no terminal to show it on/);
    assert.deepEqual(await listTree(e.out), []);

    // `script` gives the command a pseudo-terminal for stderr; stdout goes to a file.
    const envs = Object.entries({ ...e.env, NO_COLOR: "1" }).map(([k, v]) => `${k}='${v}'`).join(
      " ",
    );
    const cmd =
      `env ${envs} '${Deno.execPath()}' run -P=stowage --no-prompt --quiet --config '${ROOT}deno.json' '${ROOT}main.ts' disaster-recovery --output '${e.out}' --json > '${e.dir}/stdout.json'`;
    const tty = await sh("script", ["-qec", cmd, "/dev/null"], { cwd: ROOT });
    const m = tty.stdout.match(/shown once[^\n]*\n\s*\n\s*([A-Za-z0-9]{48})\s/);
    assert.ok(m, `password shown on the terminal: ${tty.stdout}`);
    const password = m[1];
    const json = await Deno.readTextFile(`${e.dir}/stdout.json`);
    assert.ok(!json.includes(password), "not in --json output");
    const doc = JSON.parse(json);
    assert.equal(doc.password, "generated, shown once on the terminal");
    await Deno.writeTextFile(`${e.dir}/generated.pw`, password + "\n");
    const x = `${e.dir}/x`;
    await Deno.mkdir(x);
    await opensslOpen(doc.path, x, `${e.dir}/generated.pw`);
    for (const f of (await listTree(x)).filter((f) => !f.endsWith("/"))) {
      assert.ok(
        !(await Deno.readTextFile(`${x}/${f}`)).includes(password),
        `password not stored in ${f}`,
      );
    }
    assert.deepEqual(
      await listTree(e.out),
      [doc.path.slice(e.out.length + 1)],
      "not stored next to the bundle",
    );
  } finally {
    await e.cleanup();
  }
});

Deno.test("open/verify ask for the password on a terminal", async () => {
  const e = await makeEnv();
  try {
    const bundle = await makeBundle(e);
    const envs = Object.entries({ ...e.env, NO_COLOR: "1" }).map(([k, v]) => `${k}='${v}'`).join(
      " ",
    );
    const cmd =
      `env ${envs} '${Deno.execPath()}' run -P=stowage --no-prompt --quiet --config '${ROOT}deno.json' '${ROOT}main.ts' disaster-recovery verify '${bundle}'`;
    // `script` runs the command on a pseudo-terminal and types our stdin into it (typed ahead of
    // the prompt, so the terminal itself echoes it: masking is not checked here).
    const ok = await sh("script", ["-qec", cmd, "/dev/null"], {
      stdin: `${BUNDLE_PASSWORD}\r`,
      check: false,
    });
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /Bundle password:/);
    assert.match(ok.stdout, /Bundle OK/);
    const wrong = await sh("script", ["-qec", cmd, "/dev/null"], { stdin: "nope\r", check: false });
    assert.equal(wrong.code, 17, wrong.stdout);
    assert.match(wrong.stdout, /wrong password/);
  } finally {
    await e.cleanup();
  }
});

// "memory stays flat" lives in recovery_memory_test.ts, which runs serially (scripts/test.sh).

Deno.test("SIGINT while a bundle is written: exit 130, the temp file is gone, no bundle", async () => {
  const e = await makeEnv({ knownHostsBytes: 64 * 1024 * 1024 });
  try {
    const child = spawnStowage([
      "disaster-recovery",
      "--password-file",
      e.bundlePasswordFile,
      "--output",
      e.out,
    ], { env: e.env });
    // Wait (by polling, no timing assumption) until the encrypted temp file exists, then interrupt.
    let exited = false;
    child.status.then(() => (exited = true));
    let seen: string[] = [];
    while (!exited && !seen.some((f) => f.includes(".tmp-"))) {
      await new Promise((r) => setTimeout(r, 20));
      seen = await listTree(e.out).catch(() => []);
    }
    assert.ok(seen.some((f) => f.includes(".tmp-")), `the bundle was still being written: ${seen}`);
    child.kill("SIGINT");
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 130, stderr);
    assert.match(stderr, /Interrupted while writing the recovery bundle/);
    assert.deepEqual(await listTree(e.out), []);
  } finally {
    await e.cleanup();
  }
});

/** Services like main.ts's, with a manual clock, for calling refreshAutomaticBundle in-process. */
function testServices(clock: ManualClock, env: Record<string, string>): Services {
  const base = realRuntime().app;
  const getEnv = (n: string) => env[n] ?? Deno.env.get(n);
  return {
    ...base,
    env: getEnv,
    clock,
    defaultConfigFile: resolvePaths({ uid: Deno.uid(), env: getEnv }).configFile,
  };
}

const noSignal = new AbortController().signal;

async function loadFor(e: Env): Promise<LoadedConfig> {
  const { config, path } = await readConfig({ path: e.configPath, explicit: true });
  const getEnv = (n: string) => e.env[n] ?? Deno.env.get(n);
  return {
    config,
    path,
    paths: applyConfigPaths(
      resolvePaths({ uid: Deno.uid(), env: getEnv }),
      config,
      getEnv,
      Deno.uid(),
    ),
  };
}

Deno.test("automatic bundles: each refresh writes one bundle and rotation keeps exactly recovery_bundle_retention", async () => {
  const e = await makeEnv();
  try {
    await Deno.writeTextFile(
      e.configPath,
      (await Deno.readTextFile(e.configPath)) +
        `backup:\n  update_recovery_bundle: true\nrecovery_bundle_path: ${e.out}\nrecovery_bundle_retention: 3\nrecovery_bundle_password_file: ${e.bundlePasswordFile}\n`,
    );
    await Deno.writeTextFile(`${e.out}/notes.txt`, "not a bundle\n");
    const clock = new ManualClock("2025-01-01T02:00:00Z");
    const svc = testServices(clock, e.env);
    const loaded = await loadFor(e);
    const paths: string[] = [];
    const removed: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await refreshAutomaticBundle(svc, loaded, noSignal);
      paths.push(r.path);
      removed.push(...r.removed);
      clock.advance(24 * 3600 * 1000);
    }
    assert.deepEqual(removed, paths.slice(0, 2));
    assert.deepEqual(
      await listTree(e.out),
      [...paths.slice(2).map((p) => p.slice(e.out.length + 1)), "notes.txt"].sort(),
    );
    assert.equal(paths[4], `${e.out}/stowage-recovery-2025-01-05T02-00-00Z.tar.gz.enc`);
    const v = await stowage([
      "disaster-recovery",
      "verify",
      paths[4],
      "--password-file",
      e.bundlePasswordFile,
    ], { env: e.env });
    assert.equal(v.code, 0, v.stderr);

    // No password file configured, or a missing one: a clear error and no plaintext anywhere.
    const before = await listTree(e.out);
    const noKey = {
      ...loaded,
      config: { ...loaded.config, recovery_bundle_password_file: undefined },
    };
    await assert.rejects(
      () => refreshAutomaticBundle(svc, noKey, noSignal),
      (err) =>
        isStowageError(err, "config.invalid") &&
        /recovery_bundle_password_file is not set/.test(err.message),
    );
    const gone = {
      ...loaded,
      config: { ...loaded.config, recovery_bundle_password_file: `${e.dir}/nope.pw` },
    };
    await assert.rejects(
      () => refreshAutomaticBundle(svc, gone, noSignal),
      (err) => isStowageError(err, "io") && /nope.pw': no such file/.test(err.message),
    );
    assert.deepEqual(await listTree(e.out), before);
  } finally {
    await e.cleanup();
  }
});

Deno.test("a bundle is still written when the repository cannot be read, with the problem recorded", async () => {
  const e = await makeEnv();
  try {
    await Deno.writeTextFile(e.repoPasswordFile, "the wrong password\n");
    const r = await stowage([
      "disaster-recovery",
      "--password-file",
      e.bundlePasswordFile,
      "--output",
      e.out,
      "--json",
    ], { env: e.env });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(doc.units, []);
    assert.match(doc.units_error, /password/i);
    assert.match(r.stderr, /warning: could not list the repository's units/);
    const v = await stowage([
      "disaster-recovery",
      "verify",
      doc.path,
      "--password-file",
      e.bundlePasswordFile,
      "--json",
    ], { env: e.env });
    assert.equal(v.code, 0, v.stderr);
    assert.match(JSON.parse(v.stdout).problems[0], /could not list the repository's units/);
  } finally {
    await e.cleanup();
  }
});

const hostConfigExists = await Deno.stat("/etc/stowage/config.yaml").then(() => true, () => false);

Deno.test({
  name:
    "without a config file the bundle carries the embedded default; a missing password file is recorded, not fatal",
  ignore: hostConfigExists || Deno.uid() !== 0,
  async fn() {
    const base = await isolatedEnv();
    try {
      await Deno.writeTextFile(`${base.dir}/bundle.pw`, BUNDLE_PASSWORD + "\n", { mode: 0o600 });
      const env = { STOWAGE_STATE_DIR: base.stateDir };
      const r = await stowage([
        "disaster-recovery",
        "--password-file",
        `${base.dir}/bundle.pw`,
        "--json",
      ], { env });
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      assert.ok(
        doc.path.startsWith(`${base.stateDir}/recovery/`),
        "default place: <state_dir>/recovery",
      );
      assert.ok(doc.units_error, "the default repository was never initialised");
      assert.ok(
        doc.warnings.some((w: string) => /repository password file .* does not exist/.test(w)),
        doc.warnings,
      );
      assert.ok(
        !(await Deno.stat(`${base.stateDir}/repository.password`).then(() => true, () => false)),
        "no password file was generated",
      );
      const x = `${base.dir}/x`;
      await Deno.mkdir(x);
      await opensslOpen(doc.path, x, `${base.dir}/bundle.pw`);
      const root = `${x}/stowage-recovery-${doc.bundle_id}`;
      const manifest = JSON.parse(await Deno.readTextFile(`${root}/manifest.json`));
      assert.deepEqual(manifest.config, {
        path: "/etc/stowage/config.yaml",
        embedded_default: true,
      });
      assert.match(
        await Deno.readTextFile(`${root}/files/config.yaml`),
        new RegExp(`^state_dir: "${base.stateDir}"$`, "m"),
      );
      assert.ok(
        !manifest.files.some((f: { name: string }) => f.name === "files/repository.password"),
      );
      assert.match(
        manifest.next_commands[0],
        /^STOWAGE_STATE_DIR=\S+ stowage restore --unit NAME --latest --start --yes$/,
      );
    } finally {
      await Deno.remove(base.dir, { recursive: true });
    }
  },
});

// ---------------------------------------------------------------------------------------------
// The full drill, as the issue describes it. It needs `backup` and `restore`; when either fails,
// the drill fails with it (never skipped).

Deno.test({
  name:
    "drill: backup -> bundle -> wipe the host -> openssl + recover.sh -> restore brings the stack back",
  async fn() {
    const stack = await createFixtureStack({ name: "drdrill" });
    const base = await isolatedEnv();
    const dir = base.dir;
    try {
      await stack.up();
      const marker = `drill-${crypto.randomUUID()}`;
      await docker(
        "exec",
        stack.container("db"),
        "sh",
        "-c",
        `echo ${marker} > /data/marker && mkdir -p /data/sub && echo deep > /data/sub/f`,
      );
      await docker(
        "exec",
        stack.container("app"),
        "sh",
        "-c",
        `echo app-${marker} > /data/app-marker`,
      );
      const configPath = `${dir}/etc/stowage/config.yaml`;
      await Deno.mkdir(`${dir}/etc/stowage`, { recursive: true, mode: 0o700 });
      await Deno.mkdir(`${dir}/secrets`, { mode: 0o700 });
      await Deno.writeTextFile(`${dir}/secrets/repo.pw`, REPO_PASSWORD + "\n", { mode: 0o600 });
      await Deno.writeTextFile(`${dir}/bundle.pw`, BUNDLE_PASSWORD + "\n", { mode: 0o600 });
      await Deno.writeTextFile(
        configPath,
        `repository:\n  location: ${dir}/repo\n  password_file: ${dir}/secrets/repo.pw\n`,
        { mode: 0o600 },
      );
      const env = { STOWAGE_STATE_DIR: base.stateDir, STOWAGE_CONFIG: configPath };
      await sh("restic", [
        "init",
        "-r",
        `${dir}/repo`,
        "--password-file",
        `${dir}/secrets/repo.pw`,
      ]);

      const b = await stowage(["backup", "--unit", stack.project, "--json"], { env });
      assert.equal(b.code, 0, b.stdout + b.stderr);
      const d = await stowage([
        "disaster-recovery",
        "--password-file",
        `${dir}/bundle.pw`,
        "--output",
        `${dir}/offsite`,
        "--json",
      ], { env });
      assert.equal(d.code, 0, d.stderr);
      const bundle = JSON.parse(d.stdout);
      assert.deepEqual(bundle.units.map((u: { name: string }) => u.name), [stack.project]);

      // The old server is gone: stack, volumes, networks, compose dir, stowage config, password, state.
      await stack.down();
      await Deno.remove(stack.dir, { recursive: true });
      for (const p of [`${dir}/etc`, `${dir}/secrets`, base.stateDir]) {
        await Deno.remove(p, { recursive: true }).catch(() => {});
      }

      // The five steps on a new server.
      const x = `${dir}/new-server`;
      await Deno.mkdir(x);
      await opensslOpen(bundle.path, x, `${dir}/bundle.pw`);
      const bin = `${dir}/bin`;
      await Deno.mkdir(bin);
      await Deno.writeTextFile(
        `${bin}/stowage`,
        `#!/bin/sh\nexec deno run -P=stowage --no-prompt --quiet --config '${ROOT}deno.json' '${ROOT}main.ts' "$@"\n`,
        { mode: 0o755 },
      );
      const rec = await sh("sh", [`${x}/stowage-recovery-${bundle.bundle_id}/recover.sh`], {
        env: { ...env, PATH: `${bin}:${Deno.env.get("PATH")}` },
        check: false,
      });
      assert.equal(rec.code, 0, rec.stdout + rec.stderr);
      assert.ok(
        rec.stdout.includes(`restore --unit ${stack.project} --latest --start --yes`),
        rec.stdout,
      );

      const r = await stowage(
        ["restore", "--unit", stack.project, "--latest", "--start", "--yes"],
        { env },
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      for (const svc of ["db", "app", "web"]) {
        const state = (await docker("inspect", "-f", "{{.State.Running}}", stack.container(svc)))
          .stdout.trim();
        assert.equal(state, "true", svc);
      }
      assert.equal(
        (await docker("exec", stack.container("db"), "cat", "/data/marker")).stdout.trim(),
        marker,
      );
      assert.equal(
        (await docker("exec", stack.container("db"), "cat", "/data/sub/f")).stdout.trim(),
        "deep",
      );
      assert.equal(
        (await docker("exec", stack.container("app"), "cat", "/data/app-marker")).stdout.trim(),
        `app-${marker}`,
      );
    } finally {
      await stack.down();
      await cleanupDocker();
      await Deno.remove(stack.dir, { recursive: true }).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
