/**
 * `disaster-recovery`: writes an encrypted bundle with what a new server needs to reach the
 * backups again; `open` and `verify` read one back. The use cases are app/recovery_bundle.ts
 * (also a backup run's automatic bundle); this file parses, asks for the password and the
 * --install confirmation, and renders. docs/recovery.md is the user's side.
 */
import { promptContext } from "../prompt_output.ts";
import { isAbsolute, resolve } from "node:path";
import type { Program } from "../mod.ts";
import { globals, setExitCode, usageError } from "../mod.ts";
import type { Runtime } from "../runtime.ts";
import { formatBytes, printJson } from "../output.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { StowageError } from "../../core/errors.ts";
import {
  bundleFileName,
  bundlePasswordPlan,
  GENERATED_PASSWORD_LENGTH,
  type InstallTarget,
  installTargets,
  opensslDecryptCommand,
  PBKDF2_ITERATIONS,
  type ReadResult,
} from "../../core/recovery/mod.ts";
import {
  buildBundle,
  checkBundle,
  checkInstalled,
  readPasswordFile,
  type RepositoryCheck,
  unpackBundle,
} from "../../app/recovery_bundle.ts";
import { redactLocation } from "../../core/secrets.ts";

const abs = (p: string) => (isAbsolute(p) ? p : resolve(p));

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
  return await password({ message: "Bundle password:", mask: "*" }, promptContext(rt));
}

interface OpenOptions {
  passwordFile?: string;
  install?: boolean;
  output?: string;
  json?: boolean;
  yes?: boolean;
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
  const ok = await confirm({ message: "Install them?", default: false }, promptContext(rt));
  if (!ok) {
    throw new StowageError(
      "usage",
      `Did not install recovery bundle '${bundle}': not confirmed`,
      "Nothing was written. Run it again and answer yes, or extract it without --install.",
    );
  }
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
    ? await readPasswordFile(rt.app, opts.passwordFile, "bundle password file", [])
    : await askPassword(rt, bundle);
  // Pass one only checks: nothing is written until the whole bundle is known to be good.
  const { checked, configText } = await checkBundle(rt.app, bundle, password, rt.signal);
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
    const unpacked = await unpackBundle(rt.app, bundle, password, {
      install: !!opts.install,
      targets,
      output: opts.output,
      signal: rt.signal,
    });
    if (unpacked.extractedTo) out.extracted_to = unpacked.extractedTo;
    const installed = unpacked.installed ?? [];
    if (out.extracted_to) {
      text.push(
        `Extracted to ${out.extracted_to}/ (0700). Read README.txt there, or run: sh ${out.extracted_to}/recover.sh`,
      );
    }
    if (opts.install) {
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
      const check = await checkInstalled(rt.app, m);
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
    ? await readPasswordFile(rt.app, abs(plan.path), "bundle password file", warnings, true)
    : rt.app.randomPassword(GENERATED_PASSWORD_LENGTH);
  const dir = opts.stream
    ? undefined
    : abs(opts.output ?? loaded.config.recovery_bundle_path ?? loaded.paths.recoveryDir);
  const built = await buildBundle(rt.app, loaded, {
    password,
    dir,
    stream: opts.stream ? Deno.stdout : undefined,
    warnings,
    signal: rt.signal,
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
  const dr = program.command("disaster-recovery");
  dr
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
the terminal (stderr); without a terminal the command refuses rather than print it anywhere else.`,
    )
    .action(async (opts, cmd) => {
      await createCommand(rt, opts, globals(cmd));
    });
  registerBundleOpen(dr, rt);
  registerBundleVerify(dr, rt);
}

type BundleCommand = ReturnType<Program["command"]>;

function registerBundleOpen(dr: BundleCommand, rt: Runtime) {
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
}

function registerBundleVerify(dr: BundleCommand, rt: Runtime) {
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
