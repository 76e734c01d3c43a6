import assert from "node:assert/strict";
import { installTargets } from "./install_plan.ts";
import type { BundleManifest } from "./manifest.ts";
import { parseManifest } from "./manifest.ts";
import { sampleBundle, sampleFiles } from "./testing.ts";

const good = () => structuredClone(sampleBundle().manifest);
const config = sampleFiles["/etc/stowage/config.yaml"] +
  "  password_file: /etc/stowage/repo pass'word\n  env_file: /etc/stowage/backend.env\n" +
  "  ssh_key: ~/.ssh/stowage\n  known_hosts: /root/.ssh/known_hosts\n";

function withFile(m: BundleManifest, name: string, over: Record<string, unknown>): BundleManifest {
  return { ...m, files: m.files.map((f) => (f.name === name ? { ...f, ...over } : f)) };
}

Deno.test("install targets: each known role at the path its role implies", () => {
  const t = installTargets(good(), "b", config);
  assert.deepEqual(t.map((x) => [x.file.role, x.path]), [
    ["config", "/etc/stowage/config.yaml"],
    ["repository-password", "/etc/stowage/repo pass'word"],
    ["env-file", "/etc/stowage/backend.env"],
    ["ssh-key", "/root/.ssh/stowage"],
    ["known-hosts", "/root/.ssh/known_hosts"],
  ]);
});

Deno.test("install targets: crafted manifests are refused with one line naming the file", () => {
  const cases: [string, BundleManifest, RegExp][] = [
    [
      "config moved to /etc/cron.d",
      withFile(good(), "files/config.yaml", { install_path: "/etc/cron.d/stowage" }),
      /'files\/config.yaml' \(stowage config\) would go to '\/etc\/cron.d\/stowage', but the manifest's own setting for it is '\/etc\/stowage\/config.yaml'/,
    ],
    [
      "ssh key and its setting both moved to authorized_keys, but the config names another",
      (() => {
        const m = withFile(good(), "files/ssh_key", {
          install_path: "/root/.ssh/authorized_keys",
        });
        m.repository.ssh_key = "/root/.ssh/authorized_keys";
        return m;
      })(),
      /config names '~\/.ssh\/stowage'/,
    ],
    [
      "the script asks to be installed",
      withFile(good(), "recover.sh", { install_path: "/etc/profile.d/x.sh" }),
      /'recover.sh' \(script\) names an install path/,
    ],
    [
      "no config at all",
      { ...good(), files: good().files.filter((f) => f.role !== "config") },
      /holds no config to install/,
    ],
  ];
  for (const [what, m, re] of cases) {
    assert.throws(
      () => installTargets(m, "b", config),
      (e: Error & { code?: string; hint?: string }) => {
        assert.equal(e.code, "bundle.invalid", what);
        assert.match(e.message, re, what);
        assert.ok(!e.message.includes("\n"), what);
        assert.match(e.hint ?? "", /without --install/);
        return true;
      },
    );
  }
});

Deno.test("install targets: the bundled config must be a stowage config that names each path", () => {
  const cases: [string, string | undefined, RegExp][] = [
    ["a cron line as config", "* * * * * root sh -c 'id > /tmp/x'\n", /not a valid stowage config/],
    ["a cron line without aliases", "0 3 * * * root id\n", /not a valid stowage config/],
    ["an authorized_keys line", "ssh-ed25519 AAAAC3Nza attacker\n", /not a valid stowage config/],
    [
      "shell lines as YAML keys",
      "touch /tmp/pwned; x: 1\nrepository:\n  location: /r\n",
      /not a valid stowage config/,
    ],
    ["repository is a list", "repository: [1, 2]\n", /not a valid stowage config/],
    [
      "no env_file named",
      "repository:\n  location: /r\n",
      /'files\/repository.password'.*does not name it/,
    ],
    ["config unreadable", undefined, /could not be read/],
  ];
  for (const [what, text, re] of cases) {
    assert.throws(() => installTargets(good(), "b", text), re, what);
  }
  // Even a valid config may not land where a shell or cron would read it.
  const bashrc = good();
  bashrc.config.path = "/root/.bashrc";
  bashrc.files = bashrc.files.map((f) =>
    f.role === "config" ? { ...f, install_path: "/root/.bashrc" } : f
  );
  assert.throws(
    () => installTargets(bashrc, "b", config),
    /'\/root\/.bashrc', which is not a .yaml or .yml file/,
  );
  // The default password file needs no key: <state_dir>/repository.password.
  const m = good();
  m.files = m.files.filter((f) => f.role === "config" || f.role === "repository-password");
  m.files = m.files.map((f) =>
    f.role === "repository-password"
      ? { ...f, install_path: "/var/lib/stowage/repository.password" }
      : f
  );
  m.repository.password_file = "/var/lib/stowage/repository.password";
  assert.equal(installTargets(m, "b", "state_dir: /var/lib/stowage\n").length, 2);
});

Deno.test("manifest: every field a reader uses is checked, paths absolute and normalised", () => {
  const m = good();
  const bad: [string, unknown, RegExp][] = [
    ["no config", { ...m, config: undefined }, /at 'config'/],
    ["relative config path", { ...m, config: { ...m.config, path: "etc/x" } }, /not absolute/],
    ["dotdot", { ...m, config: { ...m.config, path: "/etc/stowage/../cron.d/x" } }, /'\.\.'/],
    ["double slash", { ...m, state_dir: "/var//lib" }, /'\/\/'/],
    ["newline", { ...m, repository: { ...m.repository, password_file: "/a\nb" } }, /control/],
    ["unknown role", withFile(m, "README.txt", { role: "cron" }), /files.0.role/],
    ["install path dotdot", withFile(m, "files/ssh_key", { install_path: "/root/../x" }), /'\.\.'/],
    ["escape in host", { ...m, host: "h\u001b[2J" }, /at 'host'/],
  ];
  for (const [what, doc, re] of bad) {
    assert.throws(() => parseManifest(JSON.stringify(doc), "b"), re, what);
  }
});
