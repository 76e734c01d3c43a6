import assert from "node:assert/strict";
import { checkConfigText } from "./validate.ts";
import { MASK, maskConfig } from "./mask.ts";

const problems = (text: string) => {
  const r = checkConfigText(text);
  assert.equal(r.ok, false, "expected the config to be rejected");
  return r.ok ? [] : r.problems;
};

Deno.test("copies: a copy takes a name, a repository with every backend option, and retention", () => {
  const r = checkConfigText(`
copies:
  - name: offsite
    repository:
      location: "sftp:backup@nas:/srv/restic"
      password_file: /etc/stowage/offsite.pw
      env: { AWS_ACCESS_KEY_ID: x }
      ssh_key: /etc/stowage/id
      append_only: true
    retention: { latest: 3, daily: 14 }
`);
  assert.ok(r.ok, r.ok ? "" : r.problems.join("\n"));
  const c = r.config.copies[0];
  assert.equal(c.name, "offsite");
  assert.equal(c.repository.location, "sftp:backup@nas:/srv/restic");
  assert.equal(c.repository.restic_binary, "restic");
  assert.equal(c.repository.append_only, true);
  assert.deepEqual(c.retention, { latest: 3, daily: 14 });
  const empty = checkConfigText("");
  assert.deepEqual(empty.ok ? empty.config.copies : undefined, []);
});

Deno.test("copies: a missing location or password file, a bad name, a relative path: one line each", () => {
  assert.deepEqual(
    problems("copies:\n  - name: Off Site\n    repository: { password_file: pw }\n"),
    [
      `At 'copies.0.name': expected a copy name (lower-case letters, digits, '-', '_'; at most 63), got "Off Site"`,
      "At 'copies.0.repository.location': expected a restic repository location (text), got nothing",
      `At 'copies.0.repository.password_file': expected an absolute path (a password file path; ~/ works too), got "pw": a relative path would depend on the working directory`,
    ],
  );
  assert.ok(
    problems("copies:\n  - name: a\n").some((p) => p.startsWith("At 'copies.0.repository'")),
  );
  assert.deepEqual(
    problems("copies:\n  - name: a\n    repository: { locaton: /r, password_file: /p }\n"),
    [
      "At 'copies.0.repository.location': expected a restic repository location (text), got nothing",
      "At 'copies.0.repository.locaton': unknown key (did you mean 'location'?)",
    ],
  );
});

Deno.test("copies: names are unique and a copy cannot be the primary repository", () => {
  const p = problems(`
repository: { location: /srv/primary }
copies:
  - { name: a, repository: { location: /srv/copy, password_file: /p } }
  - { name: a, repository: { location: /srv/primary, password_file: /p } }
`);
  assert.deepEqual(p, [
    `At 'copies.1.name': copy name "a" is used twice: give each copy its own name`,
    `At 'copies.1.repository.location': copy "a" is the primary repository itself: point it at another repository`,
  ]);
});

Deno.test("copies: each copy's backend env is masked by config show", () => {
  const r = checkConfigText(
    "copies:\n  - name: s3\n    repository: { location: 's3:host/b', password_file: /p, env: { AWS_SECRET_ACCESS_KEY: topsecret } }\n",
  );
  assert.ok(r.ok);
  const masked = maskConfig(r.config);
  assert.equal(masked.copies[0].repository.env.AWS_SECRET_ACCESS_KEY, MASK);
  assert.equal(masked.copies[0].repository.password_file, "/p");
  assert.ok(!JSON.stringify(masked).includes("topsecret"));
});
