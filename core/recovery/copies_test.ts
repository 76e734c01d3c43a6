import assert from "node:assert/strict";
import { installTargets } from "./install_plan.ts";
import { type BundleManifest, parseManifest } from "./manifest.ts";
import { sampleBundle, sampleFiles, sampleInput } from "./testing.ts";

const copies = [
  {
    name: "offsite",
    displayLocation: "rest:https://u:***@nas/offsite/",
    passwordFile: "/etc/stowage/offsite.pw",
    envFile: "/etc/stowage/offsite.env",
  },
  // shares the primary's ssh key: carried once
  {
    name: "cellar",
    displayLocation: "sftp:b@cellar:/r",
    passwordFile: "/etc/stowage/cellar.pw",
    sshKey: "/root/.ssh/stowage",
  },
];
const files = {
  ...sampleFiles,
  "/etc/stowage/offsite.pw": "offsite\n",
  "/etc/stowage/offsite.env": "AWS_SECRET_ACCESS_KEY=x\n",
  "/etc/stowage/cellar.pw": "cellar\n",
};
const config = sampleFiles["/etc/stowage/config.yaml"] +
  "  password_file: /etc/stowage/repo pass'word\n  env_file: /etc/stowage/backend.env\n" +
  "  ssh_key: ~/.ssh/stowage\n  known_hosts: /root/.ssh/known_hosts\n" +
  "copies:\n" +
  "  - name: offsite\n    repository: { location: 'rest:https://u:p@nas/offsite/', password_file: /etc/stowage/offsite.pw, env_file: /etc/stowage/offsite.env }\n" +
  "  - name: cellar\n    repository: { location: 'sftp:b@cellar:/r', password_file: /etc/stowage/cellar.pw, ssh_key: ~/.ssh/stowage }\n";

const bundle = () => sampleBundle(sampleInput({ copies }), files);

Deno.test("bundle: every copy's password and credentials files ride along, each once", () => {
  const m = bundle().manifest;
  const copyFiles = m.files.filter((f) => f.role === "copy-file").map((f) => [
    f.name,
    f.install_path,
  ]);
  assert.deepEqual(copyFiles, [
    ["files/copy-offsite.password_file", "/etc/stowage/offsite.pw"],
    ["files/copy-offsite.env_file", "/etc/stowage/offsite.env"],
    ["files/copy-cellar.password_file", "/etc/stowage/cellar.pw"],
  ]);
  assert.deepEqual(m.copies?.map((c) => [c.name, c.location]), [
    ["offsite", "rest:https://u:***@nas/offsite/"],
    ["cellar", "sftp:b@cellar:/r"],
  ]);
  assert.deepEqual(parseManifest(JSON.stringify(m), "b").copies, m.copies);
  const readme = bundle().entries.find((e) => e.name.endsWith("README.txt"))!.source;
  assert.ok("text" in readme);
  assert.match(readme.text, /--from COPY/);
  assert.match(readme.text, /offsite: rest:https:\/\/u:\*\*\*@nas\/offsite\//);
});

Deno.test("install: a copy's files go where the bundled config's copy names them, nowhere else", () => {
  const t = installTargets(bundle().manifest, "b", config);
  assert.deepEqual(t.filter((x) => x.file.role === "copy-file").map((x) => [x.what, x.path]), [
    ["copy offsite: password file", "/etc/stowage/offsite.pw"],
    ["copy offsite: env file", "/etc/stowage/offsite.env"],
    ["copy cellar: password file", "/etc/stowage/cellar.pw"],
  ]);
  const moved = (m: BundleManifest) => {
    const f = m.files.find((x) => x.name === "files/copy-offsite.password_file")!;
    f.install_path = "/etc/cron.d/evil";
    return m;
  };
  assert.throws(
    () => installTargets(moved(structuredClone(bundle().manifest)), "b", config),
    /'files\/copy-offsite.password_file' \(copy offsite: password file\) would go to '\/etc\/cron.d\/evil', but the manifest's own setting for it is '\/etc\/stowage\/offsite.pw'/,
  );
  const both = structuredClone(bundle().manifest);
  moved(both).copies![0].password_file = "/etc/cron.d/evil";
  assert.throws(
    () => installTargets(both, "b", config),
    /the bundled config's copy 'offsite' does not name it/,
  );
  const renamed = structuredClone(bundle().manifest);
  renamed.files.find((x) => x.name === "files/copy-cellar.password_file")!.name =
    "files/copy-cellar.bashrc";
  assert.throws(() => installTargets(renamed, "b", config), /not a copy's file name/);
});
