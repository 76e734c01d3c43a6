/**
 * Disaster-recovery bundles end to end: made through the CLI against a real restic repository,
 * opened with stock openssl + GNU tar and with `disaster-recovery open`, bad bundles refused,
 * passwords, streaming and SIGINT. recover.sh and `open --install` are in
 * recovery_install_test.ts, automatic bundles in recovery_auto_test.ts.
 */
import assert from "node:assert/strict";
import { spawnStowage, stowage } from "./support/cli.ts";
import { sh } from "./support/docker.ts";

import { bundleFileName, PBKDF2_ITERATIONS } from "../core/recovery/mod.ts";
import { openFrom, sampleBundle, sampleFiles } from "../core/recovery/testing.ts";

import { archiveStream } from "../core/recovery/write.ts";
import { fileChunks, writeBundleFile } from "../adapters/recovery/bundle_io.ts";
import { createDecryptor, createEncryptor } from "../adapters/recovery/openssl.ts";

import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { randomBytes } from "node:crypto";
import {
  BACKEND_SECRET,
  BUNDLE_PASSWORD,
  listTree,
  makeBundle,
  makeEnv,
  mode,
  opensslOpen,
  REPO_PASSWORD,
  ROOT,
} from "./support/recovery.ts";

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
