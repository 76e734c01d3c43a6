import assert from "node:assert/strict";
import {
  atLeast,
  compareVersions,
  type DependencyStatus,
  distroFamily,
  inspectDependencies,
  installPlan,
  parseOsRelease,
  parseVersion,
} from "./deps.ts";
import type { ProcessRunner, RunResult } from "./ports.ts";
import { StowageError } from "./errors.ts";

Deno.test("parseVersion finds the first dotted number in real tool output", () => {
  assert.equal(parseVersion("restic 0.14.0 compiled with go1.19.8 on linux/amd64"), "0.14.0");
  assert.equal(parseVersion("1.29.2\n"), "1.29.2");
  assert.equal(parseVersion("v2.24.5"), "2.24.5");
  assert.equal(parseVersion("tar (GNU tar) 1.34\nCopyright"), "1.34");
  assert.equal(parseVersion("OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19)"), "3.0.19");
  assert.equal(parseVersion("no digits here"), undefined);
});

Deno.test("compareVersions compares numerically, missing parts count as zero", () => {
  assert.equal(compareVersions("0.14.0", "0.14"), 0);
  assert.equal(compareVersions("0.9.6", "0.14.0"), -1);
  assert.equal(compareVersions("1.41", "1.40"), 1);
  assert.equal(compareVersions("1.29.2", "1.29.0"), 1);
  assert.ok(atLeast("0.17.3", "0.14.0"));
  assert.ok(!atLeast("0.13.1", "0.14.0"));
  assert.ok(atLeast("1.41", "1.41"));
});

Deno.test("parseOsRelease and distroFamily: Debian, Ubuntu, Fedora, Alpine, unknown", () => {
  const debian = parseOsRelease(
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nID=debian\n',
  );
  assert.equal(debian.prettyName, "Debian GNU/Linux 12 (bookworm)");
  assert.equal(distroFamily(debian), "debian");
  assert.equal(distroFamily(parseOsRelease("ID=ubuntu\nID_LIKE=debian\n")), "debian");
  assert.equal(distroFamily(parseOsRelease("ID=linuxmint\nID_LIKE='ubuntu debian'\n")), "debian");
  assert.equal(
    distroFamily(parseOsRelease('ID="rocky"\nID_LIKE="rhel centos fedora"\n')),
    "fedora",
  );
  assert.equal(distroFamily(parseOsRelease("ID=alpine\n")), "alpine");
  assert.equal(distroFamily(parseOsRelease('ID=opensuse-leap\nID_LIKE="suse opensuse"\n')), "suse");
  assert.equal(distroFamily(parseOsRelease("ID=nixos\n")), "unknown");
  assert.equal(distroFamily(undefined), "unknown");
});

/** A scripted ProcessRunner: answers per program, throws dependency.missing for absent ones. */
function scriptedRunner(answers: Record<string, Partial<RunResult> | "absent">): ProcessRunner {
  return {
    run(program, args) {
      const key = [program, ...args].join(" ");
      const a = answers[key] ?? answers[program] ?? "absent";
      if (a === "absent") {
        return Promise.reject(
          new StowageError(
            "dependency.missing",
            `Cannot run '${program}': it is not installed or not on PATH`,
          ),
        );
      }
      return Promise.resolve({ code: 0, stdout: "", stderr: "", ...a });
    },
  };
}

const engineOk = () => Promise.resolve({ Version: "20.10.24", ApiVersion: "1.41" });

Deno.test("inspectDependencies: all present on a Debian 12 host with docker-compose 1.29", async () => {
  const statuses = await inspectDependencies({
    runner: scriptedRunner({
      "restic": { stdout: "restic 0.14.0 compiled with go1.19.8 on linux/amd64\n" },
      "docker compose version --short": {
        code: 1,
        stderr: "docker: 'compose' is not a docker command.\n",
      },
      "docker-compose": { stdout: "1.29.2\n" },
      "tar": { stdout: "tar (GNU tar) 1.34\n" },
      "openssl": { stdout: "OpenSSL 3.0.19 27 Jan 2026\n" },
      "ssh": { stderr: "OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.19\n" },
    }),
    engineVersion: engineOk,
    family: "debian",
  });
  const by = Object.fromEntries(statuses.map((s) => [s.id, s]));
  assert.deepEqual(statuses.map((s) => s.state), statuses.map(() => "ok"));
  assert.equal(by.restic.version, "0.14.0");
  assert.equal(by.compose.found, "docker-compose");
  assert.equal(by.compose.version, "1.29.2");
  assert.equal(by["docker-engine"].version, "1.41");
  assert.equal(by.ssh.version, "9.2");
  assert.equal(by.ssh.required, false, "ssh is optional for a local repository");
  assert.equal(by.restic.package, "restic");
});

Deno.test("inspectDependencies: missing, too old, compose v2 preferred, ssh required for sftp", async () => {
  const statuses = await inspectDependencies(
    {
      runner: scriptedRunner({
        "restic": { stdout: "restic 0.12.1 compiled with go1.15\n" },
        "docker compose version --short": { stdout: "v2.24.5\n" },
        "tar": { stdout: "tar (GNU tar) 1.34\n" },
      }),
      engineVersion: () => Promise.reject(new StowageError("engine.unavailable", "no socket")),
      onPath: () => Promise.resolve(false),
      family: "debian",
    },
    { repositoryLocation: "sftp:backup@nas:/srv/restic" },
  );
  const by = Object.fromEntries(statuses.map((s) => [s.id, s]));
  assert.equal(by.restic.state, "too-old");
  assert.match(by.restic.detail!, /0\.12\.1 is older than 0\.14\.0/);
  assert.equal(by.compose.state, "ok");
  assert.equal(by.compose.found, "docker compose");
  assert.equal(by.openssl.state, "missing");
  assert.equal(by.ssh.state, "missing");
  assert.equal(by.ssh.required, true);
  assert.equal(by["docker-engine"].state, "missing");
});

Deno.test("inspectDependencies: an installed engine that does not answer is not-running, never missing", async () => {
  const runner = scriptedRunner({});
  const down = await inspectDependencies({
    runner,
    engineVersion: () =>
      Promise.reject(new StowageError("engine.unavailable", "connection refused")),
    onPath: (p) => Promise.resolve(p === "dockerd"),
  });
  assert.equal(down.find((s) => s.id === "docker-engine")!.state, "not-running");
  const denied = await inspectDependencies({
    runner,
    engineVersion: () => Promise.reject(new StowageError("engine.permission", "permission denied")),
    onPath: () => Promise.resolve(false),
  });
  assert.equal(denied.find((s) => s.id === "docker-engine")!.state, "not-running");
  const old = await inspectDependencies({
    runner,
    engineVersion: () => Promise.resolve({ Version: "19.03", ApiVersion: "1.40" }),
  });
  assert.equal(old.find((s) => s.id === "docker-engine")!.state, "too-old");
});

Deno.test("inspectDependencies: a configured compose_command is the only one tried", async () => {
  const statuses = await inspectDependencies(
    {
      runner: scriptedRunner({
        "docker compose version --short": { stdout: "2.24.5\n" },
        "docker-compose": { stdout: "1.29.2\n" },
      }),
    },
    { composeCommand: "docker-compose" },
  );
  assert.equal(statuses.find((s) => s.id === "compose")!.found, "docker-compose");
});

const status = (id: DependencyStatus["id"], state: DependencyStatus["state"], required = true) =>
  ({ id, name: id, purpose: "", required, needs: "any", state }) as DependencyStatus;

Deno.test("installPlan: apt-get without recommends for what is missing or too old", () => {
  const plan = installPlan([
    status("docker-engine", "ok"),
    status("restic", "too-old"),
    status("compose", "missing"),
    status("tar", "ok"),
    status("openssl", "ok"),
    status("ssh", "missing", false),
  ], "debian");
  assert.deepEqual(plan.packages, ["restic", "docker-compose"]);
  assert.deepEqual(plan.command, [
    "apt-get",
    "install",
    "-y",
    "--no-install-recommends",
    "restic",
    "docker-compose",
  ]);
  assert.equal(plan.notes.length, 1, "the optional ssh client is mentioned, not installed");
});

Deno.test("installPlan: never replaces an installed Docker Engine, installs docker.io only when none exists", () => {
  for (const state of ["not-running", "too-old"] as const) {
    const plan = installPlan([status("docker-engine", state)], "debian");
    assert.deepEqual(plan.packages, [], `engine ${state}`);
    assert.equal(plan.command, undefined);
    assert.equal(plan.notes.length, 1);
  }
  assert.deepEqual(installPlan([status("docker-engine", "missing")], "debian").packages, [
    "docker.io",
  ]);
});

Deno.test("installPlan: other families get their package names and command, unknown gets none", () => {
  const missing = [status("restic", "missing"), status("ssh", "missing", true)];
  assert.deepEqual(installPlan(missing, "fedora").command, [
    "dnf",
    "install",
    "-y",
    "restic",
    "openssh-clients",
  ]);
  assert.deepEqual(installPlan(missing, "alpine").command, [
    "apk",
    "add",
    "restic",
    "openssh-client",
  ]);
  const unknown = installPlan(missing, "unknown");
  assert.equal(unknown.command, undefined);
  assert.deepEqual(unknown.packages, []);
  assert.equal(unknown.notes.length, 2);
});
