/**
 * `admin config show|new|edit|reset|schema|validate`. Decisions (validation, masking, the new
 * document, locations) are pure in core/config/; these commands are file management, so they
 * call the config store adapter directly for the reads and atomic writes.
 */
import { resolve } from "node:path";
import {
  askForTailnet,
  chooseTailscalePeer,
  peerKnownHosts,
  setUpOnPeer,
} from "../tailscale_setup.ts";
import { stringify } from "yaml";
import type { AdminCommand } from "./admin.ts";
import type { LoadedConfig, Runtime } from "../runtime.ts";
import { globals, setExitCode } from "../mod.ts";
import { printJson } from "../output.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { StowageError } from "../../core/errors.ts";
import { type Scope, SCOPES } from "../../core/model.ts";
import type { StowagePaths } from "../../core/paths.ts";
import { checkConfigText, configError } from "../../core/config/validate.ts";
import { maskConfig } from "../../core/config/mask.ts";
import { redactLocation } from "../../core/secrets.ts";
import { type NewConfigChoices, newConfigDocument } from "../../core/config/new.ts";
import { configJsonSchema } from "../../core/config/docs.ts";
import { checkRepositoryLocation } from "../../core/config/location.ts";
import { editorCommand } from "../../core/config/edit.ts";
import {
  applyConfigPaths,
  backupConfig,
  configExists,
  type ConfigLocation,
  configToYaml,
  ensurePasswordFile,
  locateConfig,
  privateCopy,
  readConfigText,
  runEditor,
  writeConfig,
  writeConfigText,
} from "../../adapters/config_store.ts";

type CmdLike = { optsWithGlobals(): Record<string, unknown> };

function locate(rt: Runtime, cmd: CmdLike): ConfigLocation {
  return locateConfig(globals(cmd).config, rt.env, rt.paths);
}

/** A relative local path is made absolute: the daemon and timers run from another directory. */
export function absoluteLocation(location: string): string {
  const trimmed = location.trim();
  if (trimmed.startsWith("/") || /^[a-z0-9]+:/.test(trimmed)) return trimmed;
  return resolve(trimmed);
}

export function parseScope(value: string | undefined): Scope | undefined {
  if (value === undefined) return undefined;
  if (!(SCOPES as readonly string[]).includes(value)) {
    throw new StowageError(
      "usage",
      `Unknown scope '${value}'`,
      `Use one of: ${SCOPES.join(", ")} (see docs/config.md, backup.scope).`,
    );
  }
  return value as Scope;
}

export interface WrittenConfig {
  configPath: string;
  /** `location` as it may be printed: a URL location's password hidden (core/secrets.ts). */
  repository: { location: string; isDefault: boolean };
  passwordFile: { path: string; created: boolean; isDefault: boolean };
  scope: Scope;
}

/**
 * Writes a new config and its password file (created when absent, never printed). The
 * password file comes first so a config never names a file that does not exist. Shared by
 * `admin config new` and `setup`.
 */
export async function writeNewConfig(
  rt: Runtime,
  path: string,
  choices: NewConfigChoices,
): Promise<WrittenConfig> {
  const prepared = prepareNewConfig(rt, path, choices);
  const created = (await ensurePasswordFile(prepared.passwordFile)) === "created";
  await writeConfig(path, prepared.doc);
  return describeNewConfig(prepared, created);
}

/** A new config as it will be written, in memory (nothing touched), so setup can test it first. */
export interface PreparedConfig {
  path: string;
  choices: NewConfigChoices;
  doc: ReturnType<typeof newConfigDocument>;
  loaded: LoadedConfig;
  passwordFile: string;
}

export function prepareNewConfig(
  rt: Runtime,
  path: string,
  choices: NewConfigChoices,
): PreparedConfig {
  const doc = newConfigDocument(choices);
  const check = checkConfigText(configToYaml(doc));
  if (!check.ok) throw configError(check, path); // a bug in newConfigDocument, reported plainly
  const paths: StowagePaths = applyConfigPaths(rt.paths, check.config, rt.env, rt.uid);
  return {
    path,
    choices,
    doc,
    loaded: { config: check.config, path, paths },
    passwordFile: choices.passwordFile ?? paths.passwordFile,
  };
}

export function describeNewConfig(p: PreparedConfig, passwordCreated: boolean): WrittenConfig {
  return {
    configPath: p.path,
    repository: {
      location: redactLocation(p.choices.repository ?? p.loaded.paths.repository),
      isDefault: p.choices.repository === undefined,
    },
    passwordFile: {
      path: p.passwordFile,
      created: passwordCreated,
      isDefault: p.choices.passwordFile === undefined,
    },
    scope: p.loaded.config.backup.scope,
  };
}

/** Asks for what the flags did not give. Only ever called when stdin is a terminal. */
export async function configWizard(
  rt: Runtime,
  given: NewConfigChoices,
): Promise<NewConfigChoices> {
  const { input, select } = await import("@inquirer/prompts");
  const repository = given.repository ?? absoluteLocation(
    await input({
      message:
        "Repository location (restic syntax: /path, sftp:user@host:/path, rest:https://..., s3:...)",
      default: rt.paths.repository,
      // The answer stays on the terminal after the prompt: not with its password.
      transformer: (v, { isFinal }) => (isFinal ? redactLocation(v) : v),
      validate: (v) => {
        try {
          checkRepositoryLocation(absoluteLocation(v));
          return true;
        } catch (e) {
          return e instanceof Error ? e.message : String(e);
        }
      },
    }),
  );
  const sshKey = given.sshKey ?? (/^(sftp|tailscale):/.test(repository)
    ? (await input({
      message: "SSH private key for the repository's server (empty: ssh's own keys)",
      default: "",
    })).trim() || undefined
    : undefined);
  const passwordFile = given.passwordFile ?? resolve(
    await input({
      message: "Password file (created with a random password if it does not exist)",
      default: rt.paths.passwordFile,
    }),
  );
  const scope = given.scope ?? await select<Scope>({
    message: "Backup scope",
    default: "standard",
    choices: [
      { value: "minimal", name: "minimal: volumes only" },
      { value: "standard", name: "standard: volumes, bind mounts, compose files, networks" },
      { value: "full", name: "full: standard plus the Docker daemon's configuration" },
    ],
  });
  return {
    repository: repository === rt.paths.repository ? undefined : repository,
    passwordFile: passwordFile === rt.paths.passwordFile ? undefined : passwordFile,
    scope,
    sshKey: sshKey === undefined ? undefined : resolve(sshKey),
    knownHosts: given.knownHosts,
  };
}

export function describeWritten(w: WrittenConfig): string {
  const lines = [`Wrote ${w.configPath} (mode 0600).`];
  lines.push(
    `Repository:    ${w.repository.location}${
      w.repository.isDefault
        ? " (the embedded default; pass --repository LOCATION to choose another)"
        : ""
    }`,
  );
  lines.push(
    `Password file: ${w.passwordFile.path} (${
      w.passwordFile.created ? "created: 48 random characters, mode 0600" : "exists, kept as it is"
    })`,
  );
  lines.push(`Scope:         ${w.scope}`);
  if (w.passwordFile.created) {
    lines.push(
      "Keep a copy of the password file off this host: without it the backups cannot be read.",
    );
  }
  return lines.join("\n") + "\n";
}

async function confirmOnTerminal(rt: Runtime, message: string, def: boolean): Promise<boolean> {
  if (!rt.stdinIsTerminal) return false;
  const { confirm } = await import("@inquirer/prompts");
  return await confirm({ message, default: def });
}

export function registerAdminConfig(admin: AdminCommand, rt: Runtime) {
  const config = admin
    .command("config")
    .description("Show, create, edit, reset and validate the config file; print its JSON Schema.");

  config
    .command("show")
    .description(
      "Print the effective config (defaults filled in, secrets masked as **REDACTED**) and the file it came from.",
    )
    .option("--json", "print a JSON document")
    .action(async (opts, cmd) => {
      const loc = locate(rt, cmd);
      const loaded = await rt.loadConfig(globals(cmd));
      const c = loaded.config;
      const doc = {
        source: {
          path: loc.path,
          exists: loaded.path !== undefined,
          embeddedDefault: loaded.path === undefined,
        },
        repository: {
          location: redactLocation(c.repository.location ?? loaded.paths.repository),
          isDefault: c.repository.location === undefined,
        },
        passwordFile: c.repository.password_file ?? loaded.paths.passwordFile,
        stateDir: loaded.paths.stateDir,
        config: maskConfig(c),
      };
      if (opts.json) return printJson(rt, doc);
      rt.write(
        loaded.path
          ? `# Config file: ${loaded.path}\n`
          : `# No config file at ${loc.path}: the embedded default is in use.\n`,
      );
      rt.write(
        `# Repository: ${doc.repository.location}${doc.repository.isDefault ? " (default)" : ""}\n`,
      );
      rt.write(`# Password file: ${doc.passwordFile}\n# State directory: ${doc.stateDir}\n`);
      rt.write(stringify(doc.config, { lineWidth: 0 }));
    });

  config
    .command("new")
    .description(
      "Write a new config file (0600). Asks for what is missing only when stdin is a terminal; " +
        "otherwise missing --repository means the embedded-default local repository.",
    )
    .option(
      "--repository <location>",
      "restic repository location, e.g. /srv/restic or sftp:user@host:/srv/restic",
    )
    .option(
      "--password-file <path>",
      "repository password file; created with 48 random characters (0600) when absent",
    )
    .option("--scope <scope>", "backup scope: minimal, standard or full")
    .option(
      "--tailscale-peer <name>",
      "put the repository on this peer of your Tailscale network: sets up the SSH key and host key and initialises the repository, as `setup` does",
    )
    .option("--tailscale-path <path>", "the repository's folder on the Tailscale peer")
    .option("--ssh-user <user>", "SSH user on the Tailscale peer (default: root)")
    .option("--ssh-port <port>", "SSH port on the Tailscale peer (default: 22)")
    .option("--force", "replace an existing config file")
    .option("--json", "print a JSON document")
    .addHelpText(
      "after",
      "\nThe file goes to --config / STOWAGE_CONFIG, or the default path " +
        "(/etc/stowage/config.yaml as root). The password is never printed.",
    )
    .action(async (opts, cmd) => {
      const loc = locate(rt, cmd);
      const scope = parseScope(opts.scope);
      const repository = opts.repository === undefined
        ? undefined
        : absoluteLocation(opts.repository);
      if (repository !== undefined) checkRepositoryLocation(repository);
      const passwordFile = opts.passwordFile === undefined ? undefined : resolve(opts.passwordFile);
      if (await configExists(loc.path) && !opts.force) {
        const replace = !opts.json &&
          await confirmOnTerminal(rt, `${loc.path} exists. Replace it?`, false);
        if (!replace) {
          throw new StowageError(
            "usage",
            `Cannot write config '${loc.path}': it already exists`,
            "Add --force to replace it, or change it with `stowage admin config edit`.",
          );
        }
      }
      let choices: NewConfigChoices = { repository, passwordFile, scope };
      const interactive = rt.stdinIsTerminal && !opts.json && repository === undefined;
      if (opts.tailscalePeer !== undefined && repository !== undefined) {
        throw new StowageError(
          "usage",
          "Cannot use --tailscale-peer together with --repository",
          "The Tailscale peer decides the repository location; pass one of them.",
        );
      }
      const status = interactive && opts.tailscalePeer === undefined
        ? await askForTailnet(rt)
        : undefined;
      if (opts.tailscalePeer !== undefined || status !== undefined) {
        const say = (t: string) => {
          if (!opts.json) rt.write(t);
        };
        const peer = await chooseTailscalePeer(rt, {
          peer: opts.tailscalePeer,
          path: opts.tailscalePath,
          user: opts.sshUser,
          port: opts.sshPort,
        }, { interactive, configPath: loc.path, status, say });
        choices = {
          ...choices,
          repository: peer.location,
          sshKey: peer.key.path,
          knownHosts: peerKnownHosts(loc.path),
        };
        if (interactive) choices = await configWizard(rt, choices);
        const written = await setUpOnPeer(rt, peer, prepareNewConfig(rt, loc.path, choices), {
          interactive,
          say,
        });
        if (opts.json) return printJson(rt, { ok: true, ...written });
        rt.write(describeWritten(written));
        rt.write(`The repository on ${peer.name} is initialised: \`stowage backup\` can run.\n`);
        return;
      }
      if (interactive) choices = await configWizard(rt, choices);
      const written = await writeNewConfig(rt, loc.path, choices);
      if (opts.json) return printJson(rt, { ok: true, ...written });
      rt.write(describeWritten(written));
      rt.write("Next: `stowage setup` (or `stowage admin repo init`) creates the repository.\n");
    });

  config
    .command("edit")
    .description(
      "Open $VISUAL/$EDITOR (default vi) on a private copy; save it atomically only when it is valid.",
    )
    .addHelpText(
      "after",
      "\nThe editor value is run through `sh -c` like git does, so it may carry arguments " +
        '(EDITOR="nano -w"); the file path is appended. An invalid result leaves the config ' +
        "file as it was and lists every problem; on a terminal you can edit again.",
    )
    .action(async (_opts, cmd) => {
      const loc = locate(rt, cmd);
      const current = await readConfigText(loc);
      const start = current ?? configToYaml(newConfigDocument());
      if (current === undefined) {
        rt.writeErr(`No config file at ${loc.path} yet: starting from the defaults.\n`);
      }
      await using copy = await privateCopy(start);
      while (true) {
        const { editor, program, args } = editorCommand(rt.env, copy.path);
        const code = await runEditor(program, args);
        if (code !== 0) {
          throw new StowageError(
            "io",
            `Cannot edit config '${loc.path}': the editor '${editor}' exited with code ${code}; the file was left as it was`,
            "Check $VISUAL/$EDITOR, or edit the file directly and run `stowage admin config validate`.",
          );
        }
        const edited = await copy.read();
        if (edited === current || (current === undefined && edited === start)) {
          rt.write(`No changes: ${loc.path} was left as it was.\n`);
          return;
        }
        const check = checkConfigText(edited);
        if (check.ok) {
          await writeConfigText(loc.path, edited);
          rt.write(`Saved ${loc.path} (valid, mode 0600).\n`);
          return;
        }
        const n = check.problems.length;
        const err = new StowageError(
          check.code,
          `Not saved: the edited config has ${n} problem${
            n === 1 ? "" : "s"
          }, ${loc.path} was left as it was: ${check.problems[0]}`,
          configError(check, loc.path).hint,
          { details: check.problems.slice(1) },
        );
        if (!rt.stdinIsTerminal) throw err;
        rt.writeErr(`${err.message}\n${err.details.map((d) => `  ${d}\n`).join("")}`);
        if (!await confirmOnTerminal(rt, "Edit again?", true)) throw err;
      }
    });

  config
    .command("reset")
    .description(
      "Replace the config file with the defaults (the old one is kept as <file>.bak). The password file is not touched.",
    )
    .option("--yes", "do not ask; required when stdin is not a terminal")
    .option("--json", "print a JSON document")
    .action(async (opts, cmd) => {
      const loc = locate(rt, cmd);
      if (!opts.yes) {
        if (!rt.stdinIsTerminal) {
          throw new StowageError(
            "not.terminal",
            `Cannot reset config '${loc.path}' without confirmation: stdin is not a terminal`,
            "Add --yes to replace it with the defaults.",
          );
        }
        if (!await confirmOnTerminal(rt, `Replace ${loc.path} with the defaults?`, false)) {
          rt.write("Nothing changed.\n");
          return;
        }
      }
      const bak = await backupConfig(loc.path);
      await writeConfig(loc.path, newConfigDocument());
      if (opts.json) return printJson(rt, { ok: true, configPath: loc.path, backup: bak ?? null });
      rt.write(`Replaced ${loc.path} with the defaults (mode 0600).\n`);
      if (bak) rt.write(`The previous file is ${bak} (mode 0600).\n`);
      rt.write("The repository and its password file were not touched.\n");
    });

  config
    .command("schema")
    .description("Print the JSON Schema of the config file, for editors and validators.")
    .action(() => {
      printJson(rt, configJsonSchema());
    });

  config
    .command("validate")
    .description(
      "Check a config file and list every problem with its path (exit code 3 when invalid).",
    )
    .argument("[file]", "the file to check (default: --config, STOWAGE_CONFIG or the default path)")
    .option("--json", "print a JSON document")
    .action(async (file, opts, cmd) => {
      const loc: ConfigLocation = file ? { path: file, explicit: true } : locate(rt, cmd);
      const text = await readConfigText(loc);
      if (text === undefined) {
        const doc = {
          ok: true,
          path: loc.path,
          exists: false,
          embeddedDefault: true,
          problems: [],
        };
        if (opts.json) return printJson(rt, doc);
        rt.write(`No config file at ${loc.path}: the embedded default is in use (valid).\n`);
        return;
      }
      const check = checkConfigText(text);
      if (check.ok) {
        if (opts.json) {
          return printJson(rt, { ok: true, path: loc.path, exists: true, problems: [] });
        }
        rt.write(`${loc.path} is valid.\n`);
        return;
      }
      const err = configError(check, loc.path);
      if (!opts.json) throw err;
      printJson(rt, {
        ok: false,
        path: loc.path,
        exists: true,
        code: check.code,
        problems: check.problems,
        hint: err.hint,
      });
      rt.writeErr(`stowage: ${err.message}\n`);
      setExitCode(EXIT_CODES[check.code]);
    });
}
