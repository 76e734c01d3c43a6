/**
 * Disaster-recovery bundles as use cases: `buildBundle` writes one (into a directory or a
 * stream), `refreshAutomaticBundle` is a backup run's automatic bundle with rotation,
 * `checkBundle` is pass one of open/verify (decrypt, check every file against the manifest,
 * write nothing), `unpackBundle` pass two (extract, install), `checkInstalled` opens the
 * repository with what was installed. The bytes are core/recovery/ and adapters/recovery/.
 */
import { isAbsolute, resolve } from "node:path";
import { getLogger } from "@logtape/logtape";
import type { LoadedConfig } from "../core/config/loaded.ts";
import { errorMessage, isStowageError, StowageError } from "../core/errors.ts";
import { FORMAT_VERSION, VERSION } from "../core/version.ts";
import { backupIdFor } from "../core/tags.ts";
import { redactLocation } from "../core/secrets.ts";
import {
  archiveStream,
  assembleBundle,
  bundleFileName,
  type BundleInput,
  type BundleManifest,
  bundlesToRemove,
  type InstallTarget,
  type ManifestUnit,
  MIN_PASSWORD_LENGTH,
  nextBundleId,
  passwordFromFileText,
  payloadFiles,
  shellQuoteIfNeeded,
  unitsFromSnapshots,
  WEAK_PASSWORD_LENGTH,
} from "../core/recovery/mod.ts";
import type { InstallResult, Services } from "./services.ts";

const log = getLogger(["stowage", "recovery"]);

export type RecoveryServices = Pick<
  Services,
  | "clock"
  | "hostname"
  | "env"
  | "defaultConfigFile"
  | "loadConfig"
  | "engine"
  | "repository"
  | "repositoryConfig"
  | "bundles"
  | "bundleNames"
  | "secretFile"
  | "readTextFile"
  | "removeFile"
>;

/**
 * The password on the first line of `path`. For a new bundle (`forNewBundle`) it must have at
 * least MIN_PASSWORD_LENGTH characters; opening takes whatever an older bundle was made with.
 */
export interface BuiltBundle {
  /** Undefined for --stream. */
  path?: string;
  bytes: number;
  manifest: BundleManifest;
  /** Everything odd while building: missing files, an unreadable repository. */
  warnings: string[];
}

export async function readPasswordFile(
  svc: Pick<RecoveryServices, "secretFile" | "repositoryConfig">,
  path: string,
  what: string,
  warnings: string[],
  forNewBundle = false,
): Promise<string> {
  const file = await svc.secretFile(path, what);
  const password = passwordFromFileText(file.text, path);
  const w = svc.repositoryConfig.modeWarning("Bundle password file", path, await file.mode());
  if (w) warnings.push(w);
  const length = [...password].length;
  if (forNewBundle && length < MIN_PASSWORD_LENGTH) {
    throw new StowageError(
      "usage",
      `Cannot make a recovery bundle with the password in '${path}': it has ${length} characters, fewer than ${MIN_PASSWORD_LENGTH}`,
      "Write a longer password (a passphrase of several words) on its first line, or leave out --password-file on a terminal to have a strong one generated.",
    );
  }
  if (forNewBundle && password.length < WEAK_PASSWORD_LENGTH) {
    warnings.push(
      `the bundle password in '${path}' is shorter than ${WEAK_PASSWORD_LENGTH} characters: easy to guess for whoever gets the bundle`,
    );
  }
  return password;
}

const abs = (p: string) => (isAbsolute(p) ? p : resolve(p));

/** How a person calls stowage on the new server so it finds the same config and state. */
function stowageCommand(svc: RecoveryServices, configPath: string): string {
  const parts: string[] = [];
  const stateFromEnv = svc.env("STOWAGE_STATE_DIR");
  if (stateFromEnv) parts.push(`STOWAGE_STATE_DIR=${shellQuoteIfNeeded(stateFromEnv)}`);
  parts.push("stowage");
  if (configPath !== svc.defaultConfigFile) {
    parts.push(`--config ${shellQuoteIfNeeded(configPath)}`);
  }
  return parts.join(" ");
}

async function repositoryUnits(
  svc: RecoveryServices,
  loaded: LoadedConfig,
): Promise<{ units: ManifestUnit[]; error?: string }> {
  try {
    const repo = await svc.repository(loaded, { prepare: false });
    return { units: unitsFromSnapshots(await repo.snapshots({ tags: ["stowage"] })) };
  } catch (e) {
    if (isStowageError(e, "interrupted")) throw e;
    return { units: [], error: errorMessage(e) };
  }
}

/**
 * Writes one bundle into `dir` (or to `stream`). The repository is only read to list units; when
 * it cannot be read the bundle is still written (it is most needed when things are broken) and
 * the problem is recorded in its manifest and returned as a warning.
 */
export async function buildBundle(
  svc: RecoveryServices,
  loaded: LoadedConfig,
  opts: {
    password: string;
    dir?: string;
    stream?: { write(p: Uint8Array): Promise<number> };
    warnings?: string[];
    signal: AbortSignal;
  },
): Promise<BuiltBundle> {
  const problems: string[] = [...(opts.warnings ?? [])];
  const s = svc.repositoryConfig.settings(loaded, svc.env);
  const repo = loaded.config.repository;
  let env = s.env;
  if (s.envFile) {
    try {
      env = {
        ...svc.repositoryConfig.parseEnvFile(await svc.readTextFile(s.envFile), s.envFile),
        ...s.env,
      };
    } catch (e) {
      if (isStowageError(e)) problems.push(e.message);
      // A missing or unreadable file is reported once, by measurePayload.
    }
  }
  const { units, error: unitsError } = await repositoryUnits(svc, loaded);
  if (unitsError) problems.push(`could not list the repository's units: ${unitsError}`);
  const now = svc.clock.now();
  const configPath = abs(loaded.path ?? svc.defaultConfigFile);
  const bundleId = opts.dir ? nextBundleId(now, await svc.bundleNames(opts.dir)) : backupIdFor(now);
  const input: BundleInput = {
    bundleId,
    host: svc.hostname,
    created: now,
    stowageVersion: VERSION,
    repositoryFormat: FORMAT_VERSION,
    config: {
      path: configPath,
      source: loaded.path ? { file: loaded.path } : { text: renderDefaultConfig(svc, loaded) },
      embeddedDefault: !loaded.path,
    },
    stateDir: abs(loaded.paths.stateDir),
    repository: {
      location: s.location,
      displayLocation: redactLocation(s.location),
      passwordFile: abs(s.passwordFile),
      resticBinary: s.binary,
      resticArgs: s.extraArgs,
      env,
      envFile: s.envFile ? abs(s.envFile) : undefined,
      sshKey: repo.ssh_key ? abs(expandHome(svc, repo.ssh_key)) : undefined,
      knownHosts: repo.known_hosts ? abs(expandHome(svc, repo.known_hosts)) : undefined,
    },
    // Every copy's connection data: its location is in the bundled config, its files here.
    copies: loaded.config.copies.map((c) => {
      const path = (p: string | undefined) => (p ? abs(expandHome(svc, p)) : undefined);
      return {
        name: c.name,
        displayLocation: redactLocation(c.repository.location),
        passwordFile: path(c.repository.password_file)!,
        envFile: path(c.repository.env_file),
        sshKey: path(c.repository.ssh_key),
        knownHosts: path(c.repository.known_hosts),
      };
    }),
    stowageCommand: stowageCommand(svc, configPath),
    units,
    unitsError,
    problems,
  };
  const payload = payloadFiles(input, problems);
  const measured = await svc.bundles.measurePayload(payload);
  problems.push(...measured.problems);
  const bundle = assembleBundle({ ...input, problems }, payload, measured.measured);
  const archive = archiveStream(
    bundle,
    (p) => svc.bundles.fileChunks(p),
    Math.floor(now.getTime() / 1000),
  );
  if (opts.stream) {
    const { bytes } = await svc.bundles.writeStream(archive, {
      password: opts.password,
      out: opts.stream,
      signal: opts.signal,
    });
    return { bytes, manifest: bundle.manifest, warnings: problems };
  }
  const { path, bytes } = await svc.bundles.writeFile(archive, {
    password: opts.password,
    dir: opts.dir!,
    fileName: bundleFileName(bundleId),
    signal: opts.signal,
  });
  return { path, bytes, manifest: bundle.manifest, warnings: problems };
}

function expandHome(svc: RecoveryServices, p: string): string {
  return p === "~" || p.startsWith("~/") ? (svc.env("HOME") ?? "/root") + p.slice(1) : p;
}

/** With no config file, the bundle carries the embedded default, pinned to this state dir. */
function renderDefaultConfig(svc: RecoveryServices, loaded: LoadedConfig): string {
  return `# stowage configuration: the embedded default of ${svc.hostname}, written by disaster-recovery.\n` +
    `# Keys and meanings: \`stowage admin config schema\`, docs/config.md.\n` +
    `state_dir: ${JSON.stringify(abs(loaded.paths.stateDir))}\n`;
}

/**
 * The automatic bundle of a backup run (backup.update_recovery_bundle): one bundle into
 * recovery_bundle_path with the password from recovery_bundle_password_file, then the
 * recovery_bundle_retention newest are kept. Never writes a bundle without that password file.
 */
export async function refreshAutomaticBundle(
  svc: RecoveryServices,
  loaded: LoadedConfig,
  signal: AbortSignal,
): Promise<{ path: string; removed: string[]; warnings: string[] }> {
  const cfg = loaded.config;
  if (!cfg.recovery_bundle_password_file) {
    throw new StowageError(
      "config.invalid",
      "Cannot refresh the recovery bundle: backup.update_recovery_bundle is on but recovery_bundle_password_file is not set",
      "Write a bundle password into a file (chmod 600) and name it in recovery_bundle_password_file, or set backup.update_recovery_bundle: false.",
    );
  }
  const warnings: string[] = [];
  const password = await readPasswordFile(
    svc,
    abs(cfg.recovery_bundle_password_file),
    "recovery_bundle_password_file",
    warnings,
    true,
  );
  const dir = abs(cfg.recovery_bundle_path ?? loaded.paths.recoveryDir);
  const built = await buildBundle(svc, loaded, { password, dir, warnings, signal });
  const removed: string[] = [];
  for (const name of bundlesToRemove(await svc.bundleNames(dir), cfg.recovery_bundle_retention)) {
    try {
      await svc.removeFile(`${dir}/${name}`);
      removed.push(`${dir}/${name}`);
    } catch (e) {
      built.warnings.push(`could not remove the old bundle '${dir}/${name}': ${errorMessage(e)}`);
    }
  }
  for (const w of built.warnings) log.warning("Recovery bundle: {warning}", { warning: w });
  log.info("Wrote recovery bundle {path}", { path: built.path });
  return { path: built.path!, removed, warnings: built.warnings };
}

const MAX_CONFIG = 1024 * 1024;

/** Pass one: checks the whole bundle and keeps the bundled config's text (for installTargets). */
export async function checkBundle(
  svc: Pick<RecoveryServices, "bundles">,
  bundle: string,
  password: string,
  signal: AbortSignal,
) {
  let configText: string | undefined;
  const checked = await svc.bundles.read(bundle, password, {
    signal,
    sink: {
      async file(file, body) {
        if (file.role !== "config" || file.size > MAX_CONFIG) return;
        const dec = new TextDecoder();
        let text = "";
        for await (const c of body) text += dec.decode(c, { stream: true });
        configText = text + dec.decode();
      },
    },
  });
  return { checked, configText };
}

/**
 * Pass two, after pass one checked the whole bundle (and --install was confirmed): extract it into
 * `output` and/or install the approved `targets`. Everything written is undone on a failure.
 */
export async function unpackBundle(
  svc: Pick<RecoveryServices, "bundles">,
  bundle: string,
  password: string,
  opts: { install: boolean; targets: InstallTarget[]; output?: string; signal: AbortSignal },
): Promise<{ extractedTo?: string; installed?: InstallResult[] }> {
  const extract = !opts.install || opts.output !== undefined
    ? svc.bundles.extractSink(abs(opts.output ?? "."))
    : undefined;
  const install = opts.install ? svc.bundles.installSink(opts.targets) : undefined;
  let installed: InstallResult[] | undefined;
  let extractedTo: string | undefined;
  try {
    await svc.bundles.read(bundle, password, {
      signal: opts.signal,
      sink: {
        async begin(manifest, raw) {
          await extract?.begin(manifest, raw);
          install?.begin(manifest);
        },
        async file(file, body) {
          if (extract && install) {
            // Both want the bytes: extract first, then install from the extracted copy.
            await extract.file(file, body);
            return;
          }
          if (extract) await extract.file(file, body);
          else await install!.file(file, body);
        },
      },
    });
    if (extract && install) {
      // Installing from the staged extraction keeps one pass and one verdict.
      for (const t of opts.targets) {
        await install.file(t.file, svc.bundles.fileChunks(`${extract.stagedPath!}/${t.file.name}`));
      }
    }
    if (install) installed = await install.commit();
    if (extract) extractedTo = await extract.commit();
  } catch (e) {
    await install?.abort();
    await extract?.abort();
    throw e;
  }
  return { extractedTo, installed };
}

export interface RepositoryCheck {
  ok: boolean;
  units?: string[];
  error?: { code: string; message: string; hint?: string };
}

/** After --install: does the installed config open the repository, and is Docker there? */
export async function checkInstalled(
  svc: RecoveryServices,
  manifest: BundleManifest,
): Promise<{ repository: RepositoryCheck; docker: RepositoryCheck }> {
  let loaded: LoadedConfig;
  const fail = (e: unknown): RepositoryCheck => ({
    ok: false,
    error: {
      code: isStowageError(e) ? e.code : "bug",
      message: errorMessage(e),
      hint: isStowageError(e) ? e.hint : undefined,
    },
  });
  try {
    loaded = await svc.loadConfig(manifest.config.path);
  } catch (e) {
    return { repository: fail(e), docker: { ok: false } };
  }
  let repository: RepositoryCheck;
  try {
    const repo = await svc.repository(loaded, { prepare: false });
    repository = {
      ok: true,
      units: unitsFromSnapshots(await repo.snapshots({ tags: ["stowage"] })).map((u) => u.name),
    };
  } catch (e) {
    repository = fail(e);
  }
  let docker: RepositoryCheck;
  try {
    await svc.engine(loaded).version();
    docker = { ok: true };
  } catch (e) {
    docker = fail(e);
  }
  return { repository, docker };
}
