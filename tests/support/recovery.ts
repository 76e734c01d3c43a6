/**
 * A stowage host in a temp dir for the disaster-recovery tests (tests/recovery*_test.ts): config,
 * a real restic repository with one tagged snapshot, secrets, and helpers to make and open bundles.
 */
import assert from "node:assert/strict";
import { isolatedEnv, stowage } from "./cli.ts";
import { sh } from "./docker.ts";
import { createTestRepository } from "./restic_repo.ts";
import { PBKDF2_ITERATIONS } from "../../core/recovery/mod.ts";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const BUNDLE_PASSWORD = "correct horse battery staple 42";
export const REPO_PASSWORD = "repo-pw-" + crypto.randomUUID();
export const BACKEND_SECRET = "backend-secret-" + crypto.randomUUID();

export interface Env {
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

export const restic = (e: Env, ...args: string[]) =>
  sh("restic", ["-r", e.repo, "--password-file", e.repoPasswordFile, "-q", ...args]);

/**
 * A stowage host in a temp dir: config under a nested etc/, the repository outside the state
 * dir (so wiping state keeps it, as a remote repository would be kept), one tagged snapshot.
 */
export async function makeEnv(
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
  await createTestRepository(repo, REPO_PASSWORD);
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

export async function makeBundle(e: Env, extra: string[] = []): Promise<string> {
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

export async function listTree(dir: string): Promise<string[]> {
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

export const mode = async (p: string) => ((await Deno.stat(p)).mode ?? 0) & 0o777;

/** openssl + GNU tar, exactly as README.txt says (the password from a file instead of the tty). */
export async function opensslOpen(bundle: string, into: string, passwordFile: string) {
  await sh("sh", [
    "-c",
    `openssl enc -d -aes-256-cbc -pbkdf2 -iter ${PBKDF2_ITERATIONS} -md sha256 -pass file:"$1" -in "$2" | tar xz -C "$3"`,
    "sh",
    passwordFile,
    bundle,
    into,
  ]);
}
