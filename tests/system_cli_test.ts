/**
 * `admin system show-deps` / `install-deps` against this machine's real programs, and with a
 * PATH that hides some of them (a real "missing" case, nothing faked).
 */
import assert from "node:assert/strict";
import { type CliResult, stowage } from "./support/cli.ts";
import { EXIT_CODES } from "../cli/exit_codes.ts";

const out = (r: CliResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

interface Dep {
  id: string;
  state: string;
  version?: string;
  found?: string;
  required: boolean;
}

Deno.test("show-deps --json finds restic 0.14+, docker-compose 1.29+ and the Engine API 1.41+", async () => {
  const r = await stowage(["admin", "system", "show-deps", "--json"]);
  assert.equal(r.code, 0, out(r));
  const doc = JSON.parse(r.stdout);
  const by: Record<string, Dep> = Object.fromEntries(doc.dependencies.map((d: Dep) => [d.id, d]));
  assert.equal(by.restic.state, "ok");
  assert.match(by.restic.version!, /^0\.(1[4-9]|[2-9]\d)\./);
  assert.equal(by.compose.state, "ok");
  assert.ok(
    by.compose.found === "docker-compose" || by.compose.found === "docker compose",
    by.compose.found,
  );
  assert.equal(by["docker-engine"].state, "ok");
  assert.ok(Number(by["docker-engine"].version!.split(".")[1]) >= 41);
  for (const id of ["tar", "openssl"]) assert.equal(by[id].state, "ok", id);
  assert.equal(doc.ok, true);
  assert.deepEqual(doc.install.packages, []);
});

Deno.test("show-deps text lists every dependency as a table", async () => {
  const r = await stowage(["admin", "system", "show-deps"]);
  assert.equal(r.code, 0, out(r));
  for (const name of ["Docker Engine", "restic", "Compose", "tar", "OpenSSL", "OpenSSH client"]) {
    assert.match(r.stdout, new RegExp(`^${name}.* ok `, "m"), name);
  }
});

/** A PATH holding only some of the host's programs (symlinks), to make the rest missing. */
async function partialPath(programs: string[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "stowage-path-" });
  for (const p of programs) {
    const where = await new Deno.Command("sh", { args: ["-c", `command -v ${p}`] }).output();
    const target = new TextDecoder().decode(where.stdout).trim();
    if (target) await Deno.symlink(target, `${dir}/${p}`);
  }
  return dir;
}

Deno.test("show-deps and install-deps with restic and the compose tool hidden from PATH", async () => {
  const dir = await partialPath(["tar", "openssl", "ssh", "docker", "sh"]);
  try {
    const env = { PATH: dir };
    const r = await stowage(["admin", "system", "show-deps", "--json"], { env });
    assert.equal(r.code, EXIT_CODES["dependency.missing"], out(r));
    const doc = JSON.parse(r.stdout);
    const by: Record<string, Dep> = Object.fromEntries(doc.dependencies.map((d: Dep) => [d.id, d]));
    assert.equal(by.restic.state, "missing");
    assert.equal(by.compose.state, "missing");
    assert.equal(by.tar.state, "ok");
    assert.equal(doc.ok, false);

    // Debian: the plan is apt-get without recommends, and never docker.io (an engine runs).
    const dry = await stowage(["admin", "system", "install-deps", "--dry-run"], { env });
    assert.equal(dry.code, 0, out(dry));
    assert.match(dry.stdout, /apt-get install -y --no-install-recommends restic docker-compose/);
    assert.doesNotMatch(dry.stdout, /docker\.io/);

    // Without a terminal and without --yes it refuses instead of installing.
    const refused = await stowage(["admin", "system", "install-deps"], { env });
    assert.equal(refused.code, EXIT_CODES["not.terminal"], out(refused));
    assert.match(refused.stderr, /^hint: .*--yes/m);

    // setup needs restic and says how to get it.
    const setup = await stowage(["setup"], { env: { ...env, STOWAGE_CONFIG: `${dir}/c.yaml` } });
    assert.equal(setup.code, EXIT_CODES["dependency.missing"], out(setup));
    assert.match(setup.stderr, /restic is missing/);
    assert.match(setup.stderr, /install-deps/);
    await assert.rejects(Deno.stat(`${dir}/c.yaml`), Deno.errors.NotFound, "setup wrote a config");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("install-deps with nothing missing installs nothing", async () => {
  const r = await stowage(["admin", "system", "install-deps", "--yes"]);
  assert.equal(r.code, 0, out(r));
  assert.match(r.stdout, /Nothing to install/);
});
