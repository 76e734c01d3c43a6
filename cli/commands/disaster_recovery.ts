/**
 * `disaster-recovery`: writes an encrypted bundle with what a new server needs to reach the
 * backups again; `open` and `verify` read one back. `refreshAutomaticBundle` is the same bundle
 * for `backup` runs with backup.update_recovery_bundle. docs/recovery.md is the user's side.
 */
import process from "node:process";
import { isAbsolute, resolve } from "node:path";
import { getLogger } from "@logtape/logtape";
import type { Program } from "../mod.ts";
import { globals, setExitCode, usageError } from "../mod.ts";
import type { LoadedConfig, Runtime } from "../runtime.ts";
import { formatBytes, printJson } from "../output.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { errorMessage, isStowageError, StowageError } from "../../core/errors.ts";
import { FORMAT_VERSION, VERSION } from "../../core/version.ts";
import { backupIdFor } from "../../core/tags.ts";
import {
  archiveStream,
  assembleBundle,
  bundleFileName,
  type BundleInput,
  type BundleManifest,
  bundlePasswordPlan,
  bundlesToRemove,
  GENERATED_PASSWORD_LENGTH,
  type InstallTarget,
  installTargets,
  type ManifestUnit,
  MIN_PASSWORD_LENGTH,
  nextBundleId,
  opensslDecryptCommand,
  passwordFromFileText,
  payloadFiles,
  PBKDF2_ITERATIONS,
  type ReadResult,
  shellQuoteIfNeeded,
  unitsFromSnapshots,
  WEAK_PASSWORD_LENGTH,
} from "../../core/recovery/mod.ts";
import {
  fileChunks,
  measurePayload,
  readBundleFile,
  writeBundleFile,
  writeBundleStream,
} from "../../adapters/recovery/bundle_io.ts";
import { ExtractSink, type InstallResult, InstallSink } from "../../adapters/recovery/install.ts";
import { ioError, randomPassword } from "../../adapters/files.ts";
import { modeWarning, parseEnvFile, repositorySettings } from "../../adapters/restic/open.ts";
import { redactLocation } from "../../adapters/restic/errors.ts";

const log = getLogger(["stowage", "recovery"]);

// ---------------------------------------------------------------------------------------------
// Building a bundle

export interface BuiltBundle {
  /** Undefined for --stream. */
  path?: string;
  bytes: number;
  manifest: BundleManifest;
  /** Everything odd while building: missing files, an unreadable repository. */
  warnings: string[];
}

/**
 * The password on the first line of `path`. For a new bundle (`forNewBundle`) it must have at
 * least MIN_PASSWORD_LENGTH characters; opening takes whatever an older bundle was made with.
 */
async function readPasswordFile(
  path: string,
  what: string,
  warnings: string[],
  forNewBundle = false,
): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new StowageError(
        "io",
        `Cannot read the ${what} '${path}': no such file`,
        "Write the bundle password on the first line of that file (chmod 600), or name another file.",
      );
    }
    throw ioError(`read the ${what} '${path}'`, e);
  }
  const password = passwordFromFileText(text, path);
  try {
    const w = modeWarning("Bundle password file", path, (await Deno.stat(path)).mode);
    if (w) warnings.push(w);
  } catch { /* read worked; the mode is advice only */ }
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
function stowageCommand(rt: Runtime, configPath: string): string {
  const parts: string[] = [];
  const stateFromEnv = rt.env("STOWAGE_STATE_DIR");
  if (stateFromEnv) parts.push(`STOWAGE_STATE_DIR=${shellQuoteIfNeeded(stateFromEnv)}`);
  parts.push("stowage");
  if (configPath !== rt.paths.configFile) parts.push(`--config ${shellQuoteIfNeeded(configPath)}`);
  return parts.join(" ");
}

async function listNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw ioError(`list '${dir}'`, e);
  }
  return names;
}

async function repositoryUnits(
  rt: Runtime,
  loaded: LoadedConfig,
): Promise<{ units: ManifestUnit[]; error?: string }> {
  try {
    const repo = await rt.repository(loaded, { prepare: false });
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
  rt: Runtime,
  loaded: LoadedConfig,
  opts: {
    password: string;
    dir?: string;
    stream?: { write(p: Uint8Array): Promise<number> };
    warnings?: string[];
  },
): Promise<BuiltBundle> {
  const problems: string[] = [...(opts.warnings ?? [])];
  const s = repositorySettings(loaded, rt.env);
  const repo = loaded.config.repository;
  let env = s.env;
  if (s.envFile) {
    try {
      env = { ...parseEnvFile(await Deno.readTextFile(s.envFile), s.envFile), ...s.env };
    } catch (e) {
      if (isStowageError(e)) problems.push(e.message);
      // A missing or unreadable file is reported once, by measurePayload.
    }
  }
  const { units, error: unitsError } = await repositoryUnits(rt, loaded);
  if (unitsError) problems.push(`could not list the repository's units: ${unitsError}`);
  const now = rt.clock.now();
  const configPath = abs(loaded.path ?? rt.paths.configFile);
  const bundleId = opts.dir ? nextBundleId(now, await listNames(opts.dir)) : backupIdFor(now);
  const input: BundleInput = {
    bundleId,
    host: rt.hostname,
    created: now,
    stowageVersion: VERSION,
    repositoryFormat: FORMAT_VERSION,
    config: {
      path: configPath,
      source: loaded.path ? { file: loaded.path } : { text: renderDefaultConfig(rt, loaded) },
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
      sshKey: repo.ssh_key ? abs(expandHome(rt, repo.ssh_key)) : undefined,
      knownHosts: repo.known_hosts ? abs(expandHome(rt, repo.known_hosts)) : undefined,
    },
    stowageCommand: stowageCommand(rt, configPath),
    units,
    unitsError,
    problems,
  };
  const payload = payloadFiles(input, problems);
  const measured = await measurePayload(payload);
  problems.push(...measured.problems);
  const bundle = assembleBundle({ ...input, problems }, payload, measured.measured);
  const archive = archiveStream(bundle, fileChunks, Math.floor(now.getTime() / 1000));
  if (opts.stream) {
    const { bytes } = await writeBundleStream(archive, {
      password: opts.password,
      out: opts.stream,
      signal: rt.signal,
    });
    return { bytes, manifest: bundle.manifest, warnings: problems };
  }
  const { path, bytes } = await writeBundleFile(archive, {
    password: opts.password,
    dir: opts.dir!,
    fileName: bundleFileName(bundleId),
    signal: rt.signal,
  });
  return { path, bytes, manifest: bundle.manifest, warnings: problems };
}

function expandHome(rt: Runtime, p: string): string {
  return p === "~" || p.startsWith("~/") ? (rt.env("HOME") ?? "/root") + p.slice(1) : p;
}

/** With no config file, the bundle carries the embedded default, pinned to this state dir. */
function renderDefaultConfig(rt: Runtime, loaded: LoadedConfig): string {
  return `# stowage configuration: the embedded default of ${rt.hostname}, written by disaster-recovery.\n` +
    `# Keys and meanings: \`stowage admin config schema\`, docs/config.md.\n` +
    `state_dir: ${JSON.stringify(abs(loaded.paths.stateDir))}\n`;
}

/**
 * The automatic bundle of a backup run (backup.update_recovery_bundle): one bundle into
 * recovery_bundle_path with the password from recovery_bundle_password_file, then the
 * recovery_bundle_retention newest are kept. Never writes a bundle without that password file.
 */
export async function refreshAutomaticBundle(
  rt: Runtime,
  loaded: LoadedConfig,
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
    abs(cfg.recovery_bundle_password_file),
    "recovery_bundle_password_file",
    warnings,
    true,
  );
  const dir = abs(cfg.recovery_bundle_path ?? loaded.paths.recoveryDir);
  const built = await buildBundle(rt, loaded, { password, dir, warnings });
  const removed: string[] = [];
  for (const name of bundlesToRemove(await listNames(dir), cfg.recovery_bundle_retention)) {
    try {
      await Deno.remove(`${dir}/${name}`);
      removed.push(`${dir}/${name}`);
    } catch (e) {
      built.warnings.push(`could not remove the old bundle '${dir}/${name}': ${errorMessage(e)}`);
    }
  }
  for (const w of built.warnings) log.warning("Recovery bundle: {warning}", { warning: w });
  log.info("Wrote recovery bundle {path}", { path: built.path });
  return { path: built.path!, removed, warnings: built.warnings };
}

// ---------------------------------------------------------------------------------------------
// Opening a bundle

async function askPassword(rt: Runtime, bundle: string): Promise<string> {
  if (!rt.stdinIsTerminal) {
    throw new StowageError(
      "not.terminal",
      `Cannot ask for the password of '${bundle}': stdin is not a terminal`,
      "Pass --password-file FILE (the password on its first line).",
    );
  }
  const { password } = await import("@inquirer/prompts");
  return await password({ message: "Bundle password:", mask: "*" }, { output: process.stderr });
}

interface OpenOptions {
  passwordFile?: string;
  install?: boolean;
  output?: string;
  json?: boolean;
  yes?: boolean;
}

const MAX_CONFIG = 1024 * 1024;

/** Pass one: checks the whole bundle and keeps the bundled config's text (for installTargets). */
async function checkBundle(rt: Runtime, bundle: string, password: string) {
  let configText: string | undefined;
  const checked = await readBundleFile(bundle, password, {
    signal: rt.signal,
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
 * Lists every file --install would write and where, then asks on a terminal; without one,
 * --yes is the only way on. Nothing has been written when this is called.
 */
async function confirmInstall(
  rt: Runtime,
  bundle: string,
  targets: InstallTarget[],
  opts: OpenOptions,
  bundleId: string,
) {
  const lines = [
    `--install writes these files (0600; a different file already there is kept as PATH.before-recovery-${bundleId}):`,
    ...targets.map((t) => `  ${t.path}    ${t.what}`),
  ];
  if (opts.yes) {
    if (!opts.json) rt.write(lines.join("\n") + "\n");
    return;
  }
  if (!rt.stdinIsTerminal || opts.json) {
    throw new StowageError(
      "not.terminal",
      `Cannot install recovery bundle '${bundle}' without confirmation: ${
        opts.json ? "--json asks no questions" : "stdin is not a terminal"
      } and --yes was not given`,
      "Check the targets with `disaster-recovery open BUNDLE` (extract only, then read README.txt), then run again with --yes.",
    );
  }
  rt.writeErr(lines.join("\n") + "\n");
  const { confirm } = await import("@inquirer/prompts");
  const ok = await confirm({ message: "Install them?", default: false }, {
    output: process.stderr,
  });
  if (!ok) {
    throw new StowageError(
      "usage",
      `Did not install recovery bundle '${bundle}': not confirmed`,
      "Nothing was written. Run it again and answer yes, or extract it without --install.",
    );
  }
}

interface RepositoryCheck {
  ok: boolean;
  units?: string[];
  error?: { code: string; message: string; hint?: string };
}

async function checkInstalled(
  rt: Runtime,
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
    loaded = await rt.loadConfig({ config: manifest.config.path });
  } catch (e) {
    return { repository: fail(e), docker: { ok: false } };
  }
  let repository: RepositoryCheck;
  try {
    const repo = await rt.repository(loaded, { prepare: false });
    repository = {
      ok: true,
      units: unitsFromSnapshots(await repo.snapshots({ tags: ["stowage"] })).map((u) => u.name),
    };
  } catch (e) {
    repository = fail(e);
  }
  let docker: RepositoryCheck;
  try {
    await rt.engine(loaded).version();
    docker = { ok: true };
  } catch (e) {
    docker = fail(e);
  }
  return { repository, docker };
}

function summary(bundle: string, r: ReadResult) {
  const m = r.manifest;
  return {
    bundle,
    bundle_id: m.bundle_id,
    format: m.format,
    stowage_version: m.stowage_version,
    host: m.host,
    created: m.created,
    repository: redactLocation(m.repository?.location ?? "?"),
    files: m.files.map((f) => ({
      name: f.name,
      role: f.role,
      size: f.size,
      sha256: f.sha256,
      install_path: f.install_path,
    })),
    units: m.units ?? [],
    problems: m.problems ?? [],
  };
}

async function openBundle(rt: Runtime, bundle: string, opts: OpenOptions, verifyOnly: boolean) {
  const warnings: string[] = [];
  const password = opts.passwordFile
    ? await readPasswordFile(opts.passwordFile, "bundle password file", [])
    : await askPassword(rt, bundle);
  // Pass one only checks: nothing is written until the whole bundle is known to be good.
  const { checked, configText } = await checkBundle(rt, bundle, password);
  const out: Record<string, unknown> = { ok: true, verified: true, ...summary(bundle, checked) };
  const text: string[] = [];
  const m = checked.manifest;
  text.push(
    `Bundle OK: ${checked.root}, made by stowage ${m.stowage_version} on ${m.host} at ${m.created}`,
  );
  text.push(`  ${checked.files.length} files, every size and SHA-256 matches the manifest`);
  text.push(`  repository: ${redactLocation(m.repository?.location ?? "?")}`);
  if (m.units?.length) {
    text.push(
      `  units: ${m.units.map((u) => `${u.name} (${u.latest_backup_id ?? "?"})`).join(", ")}`,
    );
  }
  for (const p of m.problems ?? []) warnings.push(`when this bundle was made: ${p}`);

  let repoFailure: RepositoryCheck | undefined;
  if (!verifyOnly) {
    const targets = opts.install ? installTargets(m, bundle, configText) : [];
    if (opts.install) await confirmInstall(rt, bundle, targets, opts, m.bundle_id);
    const extract = !opts.install || opts.output !== undefined
      ? new ExtractSink(abs(opts.output ?? "."))
      : undefined;
    const install = opts.install ? new InstallSink(targets) : undefined;
    let installed: InstallResult[] = [];
    try {
      await readBundleFile(bundle, password, {
        signal: rt.signal,
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
        for (const t of targets) {
          await install.file(t.file, fileChunks(`${stagedDir(extract)}/${t.file.name}`));
        }
      }
      if (install) installed = await install.commit();
      if (extract) out.extracted_to = await extract.commit();
    } catch (e) {
      await install?.abort();
      await extract?.abort();
      throw e;
    }
    if (out.extracted_to) {
      text.push(
        `Extracted to ${out.extracted_to}/ (0700). Read README.txt there, or run: sh ${out.extracted_to}/recover.sh`,
      );
    }
    if (install) {
      out.installed = installed.map((i) => ({
        path: i.path,
        name: i.name,
        action: i.action,
        kept: i.kept,
      }));
      text.push("Installed:");
      for (const i of installed) {
        for (const d of i.createdDirs) text.push(`  created    ${d}/ (0700)`);
        text.push(
          `  ${i.action.padEnd(10)} ${i.path}${
            i.action === "replaced" ? ` (the old file is now ${i.kept})` : ""
          }`,
        );
      }
      const check = await checkInstalled(rt, m);
      out.repository_check = check.repository;
      out.docker_check = check.docker;
      if (!check.docker.ok) {
        warnings.push(
          `Docker Engine is not reachable: ${
            check.docker.error?.message ?? "unknown"
          } (restore needs it)`,
        );
      }
      if (check.repository.ok) {
        const units = check.repository.units ?? [];
        text.push(
          units.length
            ? `Repository opens; units with backups: ${units.join(", ")}`
            : "Repository opens, but holds no stowage backups yet",
        );
        out.next_commands = (units.length ? units : ["NAME"]).map((u) =>
          `${m.stowage_command ?? "stowage"} restore --unit ${u} --latest --start --yes`
        );
        text.push("Next, restore each unit:");
        for (const c of out.next_commands as string[]) text.push(`  ${c}`);
      } else {
        repoFailure = check.repository;
        out.ok = false;
      }
    }
  }
  out.warnings = warnings;
  if (opts.json) printJson(rt, out);
  else rt.write(text.join("\n") + "\n");
  for (const w of warnings) rt.writeErr(`warning: ${w}\n`);
  if (repoFailure?.error) {
    rt.writeErr(
      `stowage: the files are installed, but the repository does not open: ${repoFailure.error.message}\n`,
    );
    if (repoFailure.error.hint) rt.writeErr(`hint: ${repoFailure.error.hint}\n`);
    const code = repoFailure.error.code as keyof typeof EXIT_CODES;
    setExitCode(EXIT_CODES[code] ?? EXIT_CODES.bug);
  }
}

function stagedDir(extract: ExtractSink): string {
  return extract.stagedPath!;
}

// ---------------------------------------------------------------------------------------------
// The command

interface CreateOptions {
  output?: string;
  stream?: boolean;
  passwordFile?: string;
  json?: boolean;
}

async function createCommand(rt: Runtime, opts: CreateOptions, g: { config?: string }) {
  if (opts.stream && opts.output) {
    throw usageError(
      "Cannot use --stream with --output",
      "--stream writes the bundle to stdout; drop one of them.",
    );
  }
  if (opts.stream && opts.json) {
    throw usageError(
      "Cannot use --stream with --json: both write to stdout",
      "Drop --json; messages go to stderr with --stream.",
    );
  }
  if (opts.stream && rt.stdoutIsTerminal) {
    throw usageError(
      "Cannot --stream a recovery bundle to a terminal",
      "Pipe or redirect it: stowage disaster-recovery --stream | ssh HOST 'cat > bundle.tar.gz.enc'",
    );
  }
  const loaded = await rt.loadConfig(g);
  const plan = bundlePasswordPlan({
    passwordFile: opts.passwordFile,
    stderrIsTerminal: rt.stderrIsTerminal,
    json: !!opts.json,
  });
  const warnings: string[] = [];
  const password = plan.kind === "file"
    ? await readPasswordFile(abs(plan.path), "bundle password file", warnings, true)
    : randomPassword(GENERATED_PASSWORD_LENGTH);
  const dir = opts.stream
    ? undefined
    : abs(opts.output ?? loaded.config.recovery_bundle_path ?? loaded.paths.recoveryDir);
  const built = await buildBundle(rt, loaded, {
    password,
    dir,
    stream: opts.stream ? Deno.stdout : undefined,
    warnings,
  });
  const m = built.manifest;
  const fileName = built.path
    ? built.path.substring(built.path.lastIndexOf("/") + 1)
    : bundleFileName(m.bundle_id);
  const say = opts.stream ? (s: string) => rt.writeErr(s) : (s: string) => rt.write(s);
  if (opts.json) {
    printJson(rt, {
      ok: true,
      path: built.path ?? null,
      stream: !!opts.stream,
      bytes: built.bytes,
      bundle_id: m.bundle_id,
      host: m.host,
      created: m.created,
      format: m.format,
      cipher: `aes-256-cbc, PBKDF2-HMAC-SHA256, ${PBKDF2_ITERATIONS} iterations`,
      password: plan.kind === "file"
        ? "from --password-file"
        : "generated, shown once on the terminal",
      repository: redactLocation(m.repository.location),
      files: m.files.map((f) => ({
        name: f.name,
        role: f.role,
        size: f.size,
        install_path: f.install_path,
      })),
      units: m.units,
      units_error: m.units_error ?? null,
      warnings: built.warnings,
      open_command: opensslDecryptCommand(fileName),
    });
  } else {
    say(`Wrote recovery bundle ${built.path ?? "to stdout"} (${formatBytes(built.bytes)})\n`);
    const held = m.files.filter((f) => f.install_path).map((f) => f.name.replace(/^files\//, ""));
    say(`  holds: ${held.join(", ")}, recover.sh, README.txt, manifest.json\n`);
    say(
      `  units: ${
        m.units.length
          ? m.units.map((u) => `${u.name} (${u.latest_backup_id ?? "?"})`).join(", ")
          : "none listed"
      }\n`,
    );
    say(`To open it on a new server (openssl asks for the password):\n`);
    say(
      `  ${opensslDecryptCommand(fileName)}\n  sh ${
        fileName.replace(/\.tar\.gz\.enc$/, "")
      }/recover.sh\n`,
    );
    if (!opts.stream) say(`Copy it off this host: a bundle that lives only here dies with it.\n`);
  }
  for (const w of built.warnings) rt.writeErr(`warning: ${w}\n`);
  if (plan.kind === "generate") {
    rt.writeErr(
      `\nBundle password (shown once: keep it in a password manager, never next to the bundle):\n\n    ${password}\n\n`,
    );
  }
}

/**
 * The parent command shares --password-file, --output and --json with its subcommands, and
 * commander lets the parent claim them wherever they appear: read them merged.
 */
function subcommandOptions(cmd: { optsWithGlobals(): Record<string, unknown> }): OpenOptions {
  const o = cmd.optsWithGlobals() as OpenOptions & { stream?: boolean };
  if (o.stream) {
    throw usageError(
      "Cannot use --stream with open or verify",
      "--stream belongs to making a bundle: stowage disaster-recovery --stream",
    );
  }
  return {
    passwordFile: o.passwordFile,
    install: o.install,
    output: o.output,
    json: o.json,
    yes: o.yes,
  };
}

export function registerDisasterRecovery(program: Program, rt: Runtime) {
  const dr = program
    .command("disaster-recovery")
    .description(
      "Write an encrypted bundle with what a new server needs to reach the backups again: config, repository location and password, backend credentials, SSH files, recover.sh.",
    )
    .option(
      "-o, --output <dir>",
      "directory for the bundle (default: recovery_bundle_path, else <state_dir>/recovery)",
    )
    .option(
      "--stream",
      "write the encrypted bundle to stdout instead, e.g. | ssh HOST 'cat > bundle.tar.gz.enc'",
    )
    .option(
      "--password-file <file>",
      "use the first line of FILE as the bundle password instead of generating one",
    )
    .option("--json", "print a JSON document (never the password)")
    .addHelpText(
      "after",
      `
The bundle is stowage-recovery-<UTC time>.tar.gz.enc (mode 0600): a tar.gz encrypted like
'openssl enc -aes-256-cbc -pbkdf2 -iter ${PBKDF2_ITERATIONS} -md sha256', so any openssl 1.1.1+ opens it:
  ${opensslDecryptCommand("stowage-recovery-....tar.gz.enc")}

Without --password-file a random ${GENERATED_PASSWORD_LENGTH}-character password is generated and shown once on
the terminal (stderr); without a terminal the command refuses rather than print it anywhere else.

Examples:
  stowage disaster-recovery
  stowage disaster-recovery --password-file /root/bundle.pw --output /mnt/usb
  stowage disaster-recovery --password-file /root/bundle.pw --stream | ssh backup@other 'cat > dr.tar.gz.enc'
  stowage disaster-recovery verify /mnt/usb/stowage-recovery-2025-01-31T23-59-59Z.tar.gz.enc
  stowage disaster-recovery open BUNDLE --install`,
    )
    .action(async (opts, cmd) => {
      await createCommand(rt, opts, globals(cmd));
    });

  dr.command("open")
    .description(
      "Decrypt a bundle, check every file against its manifest, and extract it (or --install it).",
    )
    .argument("<bundle>", "the .tar.gz.enc file")
    .option(
      "--password-file <file>",
      "read the password from the first line of FILE (otherwise asked on the terminal)",
    )
    .option(
      "--install",
      "install config, password, credentials and keys where they were on the old host, like recover.sh",
    )
    .option(
      "-o, --output <dir>",
      "extract into DIR/stowage-recovery-<id>/ (default: the current directory; with --install only when given)",
    )
    .option("-y, --yes", "install without asking (needed without a terminal)")
    .option("--json", "print a JSON document")
    .addHelpText(
      "after",
      `
Nothing is written until the whole bundle decrypted and matched its manifest. --install writes
only the config, the repository password, backend credentials and SSH files, each at the path
its role has in the manifest and the bundled config; it lists them and asks first (--yes without
a terminal). It leaves files that are already in place alone and keeps a different file as
PATH.before-recovery-<id>; then it opens the repository and prints the restore commands.`,
    )
    .action(async (bundle, _opts, cmd) => {
      await openBundle(rt, bundle, subcommandOptions(cmd), false);
    });

  dr.command("verify")
    .description("Decrypt a bundle and check every file against its manifest; writes nothing.")
    .argument("<bundle>", "the .tar.gz.enc file")
    .option(
      "--password-file <file>",
      "read the password from the first line of FILE (otherwise asked on the terminal)",
    )
    .option("--json", "print a JSON document")
    .action(async (bundle, _opts, cmd) => {
      await openBundle(rt, bundle, subcommandOptions(cmd), true);
    });
}
