/**
 * Which bundle files `disaster-recovery open --install` may write, and where. A bundle is
 * untrusted input (whoever can hand one over can craft its manifest), so only the roles a new
 * server needs are installed, each at the path its role implies: the config at the manifest's
 * config path, the repository password at the repository's password file, and so on, and those
 * paths must agree with what the bundled config itself names. Pure: the caller reads the files.
 */
import { checkConfigText } from "../config/validate.ts";
import { StowageError } from "../errors.ts";
import type { BundleManifest, FileRole, ManifestFile } from "./manifest.ts";
import { badBundlePath, copyFileOf } from "./manifest.ts";
import type { Config } from "../config/schema.ts";

export interface InstallTarget {
  file: ManifestFile;
  path: string;
  /** What the file is, for the confirmation list. */
  what: string;
}

/** Installable roles, the manifest field that names each one's path, and the config key. */
const INSTALLABLE: Partial<
  Record<FileRole, { what: string; path: (m: BundleManifest) => string | undefined; key?: string }>
> = {
  config: { what: "stowage config", path: (m) => m.config.path },
  "repository-password": {
    what: "repository password",
    path: (m) => m.repository.password_file,
    key: "password_file",
  },
  "env-file": {
    what: "backend credentials (repository.env_file)",
    path: (m) => m.repository.env_file,
    key: "env_file",
  },
  "ssh-key": {
    what: "SSH key (repository.ssh_key)",
    path: (m) => m.repository.ssh_key,
    key: "ssh_key",
  },
  "known-hosts": {
    what: "SSH known_hosts (repository.known_hosts)",
    path: (m) => m.repository.known_hosts,
    key: "known_hosts",
  },
};

const HINT =
  "Do not install this bundle: it was not written by stowage as it is. Extract it without --install and read its README.txt and manifest.json, or make a new bundle on the old host.";

function refuse(bundle: string, why: string): StowageError {
  return new StowageError(
    "bundle.invalid",
    `Cannot install recovery bundle '${bundle}': ${why}`,
    HINT,
  );
}

/**
 * The bundled config's `repository` settings, once the text passed stowage's own config check
 * (strict keys): a cron line, an authorized_keys line or a shell script is no stowage config.
 */
function bundledConfig(bundle: string, text: string | undefined): Config {
  if (text === undefined) throw refuse(bundle, "its config could not be read");
  const check = checkConfigText(text);
  if (!check.ok) {
    throw refuse(bundle, `its config is not a valid stowage config (${check.problems[0]})`);
  }
  return check.config;
}

/**
 * A copy's file (`files/copy-NAME.KEY`) goes where the manifest's copy NAME says for KEY, and
 * the bundled config's `copies` entry NAME names that very path (absolute; ~/ by file name).
 */
function copyTarget(
  f: ManifestFile & { install_path: string },
  manifest: BundleManifest,
  config: Config,
  bundle: string,
): InstallTarget {
  const of = copyFileOf(f.name);
  if (!of) throw refuse(bundle, `'${f.name}' is not a copy's file name (files/copy-NAME.KEY)`);
  const inManifest = manifest.copies?.find((c) => c.name === of.copy)?.[of.key];
  const what = `copy ${of.copy}: ${of.key.replace("_", " ")}`;
  if (f.install_path !== inManifest) {
    throw refuse(
      bundle,
      `'${f.name}' (${what}) would go to '${f.install_path}', but the manifest's own setting for it is ${
        inManifest ? `'${inManifest}'` : "unset"
      }`,
    );
  }
  const configured = config.copies.find((c) => c.name === of.copy)?.repository[of.key];
  const named = typeof configured === "string" &&
    (configured.startsWith("/")
      ? configured === f.install_path
      : baseName(configured) === baseName(f.install_path));
  if (!named) {
    throw refuse(
      bundle,
      `'${f.name}' (${what}) would go to '${f.install_path}', but the bundled config's copy '${of.copy}' does not name it`,
    );
  }
  return { file: f, path: f.install_path, what };
}

const baseName = (p: string) => p.slice(p.lastIndexOf("/") + 1);

/**
 * Whether the bundled config's `repository.KEY` names `target`: equal when absolute; `~/...` and
 * relative values were resolved on the old host (HOME, working directory), so their file name
 * must match. Unset: only the repository password has a default (`<state_dir>/repository.password`).
 */
function namedByConfig(
  repo: Record<string, unknown>,
  key: string,
  target: string,
  m: BundleManifest,
): string | undefined {
  const v = repo[key];
  if (v === undefined || v === null) {
    if (key === "password_file" && target === `${m.state_dir}/repository.password`) return;
    return "the bundled config does not name it";
  }
  if (typeof v !== "string") return `the bundled config's repository.${key} is not a path`;
  if (v.startsWith("/") ? v === target : baseName(v) === baseName(target)) return;
  return `the bundled config names '${v}'`;
}

/**
 * Every file to install and its target, or a `bundle.invalid` error naming the first file that
 * has no business being installed where it says. `configText` is the bundled config (files/config.yaml).
 */
export function installTargets(
  manifest: BundleManifest,
  bundle: string,
  configText?: string,
): InstallTarget[] {
  if (!manifest.files.some((f) => f.role === "config" && f.install_path)) {
    throw refuse(bundle, "it holds no config to install");
  }
  const config = bundledConfig(bundle, configText);
  const repo = config.repository as Record<string, unknown>;
  const targets: InstallTarget[] = [];
  const roles = new Set<FileRole>();
  const paths = new Set<string>();
  for (const f of manifest.files) {
    const rule = INSTALLABLE[f.role];
    if (!f.install_path) continue;
    if (f.role === "copy-file") {
      const why = badBundlePath(f.install_path);
      if (why) throw refuse(bundle, `'${f.name}' would go to '${f.install_path}', which ${why}`);
      const target = copyTarget({ ...f, install_path: f.install_path }, manifest, config, bundle);
      if (paths.has(target.path)) {
        throw refuse(bundle, `two of its files would go to '${target.path}'`);
      }
      paths.add(target.path);
      targets.push({ ...target, file: f });
      continue;
    }
    if (!rule) {
      throw refuse(
        bundle,
        `'${f.name}' (${f.role}) names an install path, which its role never has`,
      );
    }
    const why = badBundlePath(f.install_path);
    if (why) throw refuse(bundle, `'${f.name}' would go to '${f.install_path}', which ${why}`);
    const expected = rule.path(manifest);
    if (f.install_path !== expected) {
      throw refuse(
        bundle,
        `'${f.name}' (${rule.what}) would go to '${f.install_path}', but the manifest's own setting for it is ${
          expected ? `'${expected}'` : "unset"
        }`,
      );
    }
    // Shells and cron read files by place, not content: a config may only land in a .yaml/.yml.
    if (f.role === "config" && !/\.ya?ml$/.test(f.install_path)) {
      throw refuse(
        bundle,
        `'${f.name}' (stowage config) would go to '${f.install_path}', which is not a .yaml or .yml file`,
      );
    }
    const why2 = rule.key ? namedByConfig(repo, rule.key, f.install_path, manifest) : undefined;
    if (why2) {
      throw refuse(
        bundle,
        `'${f.name}' (${rule.what}) would go to '${f.install_path}', but ${why2}`,
      );
    }
    if (roles.has(f.role)) throw refuse(bundle, `it holds two files with role ${f.role}`);
    if (paths.has(f.install_path)) {
      throw refuse(bundle, `two of its files would go to '${f.install_path}'`);
    }
    roles.add(f.role);
    paths.add(f.install_path);
    targets.push({ file: f, path: f.install_path, what: rule.what });
  }
  return targets;
}
