import assert from "node:assert/strict";
import { nextCommands, payloadFiles, resticEnvText, sha256Hex } from "./plan.ts";
import { sampleBundle, sampleFiles, sampleInput } from "./testing.ts";
import { PBKDF2_ITERATIONS } from "./format.ts";

Deno.test("plan: config, password, credentials and SSH files, each with the path it had on the old host", () => {
  const problems: string[] = [];
  const files = payloadFiles(sampleInput(), problems);
  assert.deepEqual(
    files.map((f) => [f.name, f.installPath ?? null, f.mode]),
    [
      ["files/config.yaml", "/etc/stowage/config.yaml", 0o600],
      ["files/repository.password", "/etc/stowage/repo pass'word", 0o600],
      ["files/backend.env", "/etc/stowage/backend.env", 0o600],
      ["files/restic.env", null, 0o600],
      ["files/ssh_key", "/root/.ssh/stowage", 0o600],
      ["files/known_hosts", "/root/.ssh/known_hosts", 0o600],
    ],
  );
  assert.deepEqual(problems, []);
});

Deno.test("plan: only what is configured; the embedded default config travels as text", () => {
  const input = sampleInput({
    config: {
      path: "/etc/stowage/config.yaml",
      source: { text: "state_dir: /var/lib/stowage\n" },
      embeddedDefault: true,
    },
  });
  input.repository = {
    ...input.repository,
    env: {},
    envFile: undefined,
    sshKey: undefined,
    knownHosts: undefined,
  };
  const files = payloadFiles(input, []);
  assert.deepEqual(files.map((f) => f.name), ["files/config.yaml", "files/repository.password"]);
  assert.deepEqual(files[0].source, { text: "state_dir: /var/lib/stowage\n" });
});

Deno.test("plan: two files bound for one path keep the first and say so", () => {
  const input = sampleInput();
  input.repository = { ...input.repository, knownHosts: "/root/.ssh/stowage" };
  const problems: string[] = [];
  const files = payloadFiles(input, problems);
  assert.ok(!files.some((f) => f.name === "files/known_hosts"));
  assert.match(problems[0], /known_hosts would be installed at '\/root\/.ssh\/stowage'/);
});

Deno.test("plan: restic.env holds KEY=VALUE lines; names and values sh cannot carry are left out with a problem", () => {
  const problems: string[] = [];
  const text = resticEnvText(
    { B: "two words", A: "x=y", "BAD-NAME": "1", MULTI: "a\nb" },
    problems,
  );
  assert.equal(text, "A=x=y\nB=two words\n");
  assert.equal(problems.length, 2);
  assert.ok(problems.every((p) => !p.includes("two words")), "values never appear in problems");
  assert.equal(resticEnvText({}, []), undefined);
});

Deno.test("plan: the manifest lists every file but itself with its SHA-256, and the entries match it", () => {
  const b = sampleBundle();
  assert.equal(b.root, "stowage-recovery-2025-01-31T23-59-59Z");
  assert.equal(b.entries[0].name, "manifest.json");
  const listed = new Map(b.manifest.files.map((f) => [f.name, f]));
  for (const e of b.entries.slice(1)) {
    assert.equal(listed.get(e.name)?.sha256, e.sha256, e.name);
    if ("text" in e.source) assert.equal(sha256Hex(e.source.text), e.sha256, e.name);
  }
  assert.equal(b.manifest.files.length, b.entries.length - 1);
  assert.equal(b.manifest.host, "old-host");
  assert.deepEqual(b.manifest.repository.env_names, ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
  assert.deepEqual(b.manifest.next_commands, [
    "stowage restore --unit wordpress --latest --start --yes",
  ]);
  assert.ok(
    !JSON.stringify(b.manifest).includes("s3cr3t value"),
    "env values stay out of the manifest",
  );
});

Deno.test("plan: files that could not be read are left out of the manifest and recorded as problems", () => {
  const input = sampleInput({
    problems: ["repository.ssh_key '/root/.ssh/stowage' does not exist; left out of the bundle"],
  });
  const files = { ...sampleFiles };
  delete files["/root/.ssh/stowage"];
  const b = sampleBundle(input, files);
  assert.ok(!b.manifest.files.some((f) => f.name === "files/ssh_key"));
  assert.match(b.manifest.problems[0], /ssh_key/);
});

Deno.test("plan: next commands name each unit, or a NAME placeholder when none is known", () => {
  assert.deepEqual(nextCommands("stowage --config /x.yaml", []), [
    "stowage --config /x.yaml restore --unit NAME --latest --start --yes",
  ]);
});

Deno.test("templates: README gives the exact openssl command with -iter, and the install paths", () => {
  const b = sampleBundle();
  const readme = b.entries.find((e) => e.name === "README.txt")!.source as { text: string };
  assert.ok(
    readme.text.includes(
      `openssl enc -d -aes-256-cbc -pbkdf2 -iter ${PBKDF2_ITERATIONS} -md sha256 -in stowage-recovery-2025-01-31T23-59-59Z.tar.gz.enc | tar xz`,
    ),
  );
  assert.match(readme.text, /files\/ssh_key\s+-> \/root\/.ssh\/stowage/);
  assert.match(readme.text, /stowage restore --unit wordpress --latest --start --yes/);
});

Deno.test("templates: recover.sh quotes every path and value it embeds and carries the payload's hashes", () => {
  const b = sampleBundle();
  const script = (b.entries.find((e) => e.name === "recover.sh")!.source as { text: string }).text;
  assert.ok(script.startsWith("#!/bin/sh\n"));
  assert.ok(
    script.includes(
      `install_file 'files/repository.password' '/etc/stowage/repo pass'\\''word' || problems=1`,
    ),
  );
  assert.ok(
    script.includes(
      `'-o' 'sftp.command=ssh -i /root/.ssh/stowage -o IdentitiesOnly=yes nas -s sftp'`,
    ),
  );
  for (const f of b.manifest.files.filter((f) => f.name.startsWith("files/"))) {
    assert.ok(script.includes(`${f.sha256}  ${f.name}`), f.name);
  }
  assert.ok(!script.includes("s3cr3t value"), "secrets stay in files/, not in the script");
  assert.ok(
    !script.includes("install_file 'files/restic.env'"),
    "restic.env is for the script only",
  );
  assert.ok(!/"\$RESTIC" -r/.test(script), "the location reaches restic by environment, not argv");
  assert.ok(script.includes("RESTIC_REPOSITORY=$LOCATION"));
});
