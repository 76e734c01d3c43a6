/**
 * `admin config show|new|edit|reset|schema|validate`. Decisions (validation, masking, the new
 * document, locations) are pure in core/config/; these commands are file management, so they
 * call the config store adapter directly for the reads and atomic writes.
 */
import { promptContext } from "../prompt_output.ts";
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

import { checkConfigText, configError } from "../../core/config/validate.ts";
import { maskConfig } from "../../core/config/mask.ts";
import { redactLocation } from "../../core/secrets.ts";
import { type NewConfigChoices, newConfigDocument } from "../../core/config/new.ts";
import { configJsonSchema } from "../../core/config/docs.ts";
import { checkRepositoryLocation } from "../../core/config/location.ts";
import { editorCommand } from "../../core/config/edit.ts";

import {
  absoluteLocation,
  configWizard,
  describeWritten,
  parseScope,
  prepareNewConfig,
  writeNewConfig,
} from "../config_wizard.ts";
import { type ConfigLocation, configToYaml } from "../../core/config/files.ts";

type CmdLike = { optsWithGlobals(): Record<string, unknown> };

function locate(rt: Runtime, cmd: CmdLike): ConfigLocation {
  return rt.app.configStore.locate(globals(cmd).config);
}

async function confirmOnTerminal(rt: Runtime, message: string, def: boolean): Promise<boolean> {
  if (!rt.stdinIsTerminal) return false;
  const { confirm } = await import("@inquirer/prompts");
  return await confirm({ message, default: def }, promptContext(rt));
}

type ConfigCommand = ReturnType<AdminCommand["command"]>;

export function registerAdminConfig(admin: AdminCommand, rt: Runtime) {
  const config = admin
    .command("config")
    .description("Show, create, edit, reset and validate the config file; print its JSON Schema.");
  registerConfigShow(config, rt);
  registerConfigNew(config, rt);
  registerConfigEdit(config, rt);
  registerConfigReset(config, rt);
  registerConfigSchema(config, rt);
  registerConfigValidate(config, rt);
}

function registerConfigShow(config: ConfigCommand, rt: Runtime) {
  config
    .command("show")
    .description(
      "Print the effective config (defaults filled in, secrets masked as **REDACTED**) and the file it came from.",
    )
    .option("--json", "print a JSON document")
    .action(async (opts, cmd) => {
      const loc = locate(rt, cmd);
      const loaded = await rt.loadConfig(globals(cmd));
      const doc = configShowDocument(loc, loaded);
      if (opts.json) return printJson(rt, doc);
      renderConfigShow(rt, loc, loaded, doc);
    });
}

type ConfigShowDocument = ReturnType<typeof configShowDocument>;

function configShowDocument(loc: ConfigLocation, loaded: LoadedConfig) {
  const c = loaded.config;
  return {
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
}

function renderConfigShow(
  rt: Runtime,
  loc: ConfigLocation,
  loaded: LoadedConfig,
  doc: ConfigShowDocument,
) {
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
}

interface ConfigNewOptions {
  repository?: string;
  passwordFile?: string;
  scope?: string;
  tailscalePeer?: string;
  tailscalePath?: string;
  sshUser?: string;
  sshPort?: string;
  force?: true;
  json?: true;
}

function registerConfigNew(config: ConfigCommand, rt: Runtime) {
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
    .option("--scope <scope>", "backup scope: minimal, standard or full (default: standard)")
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
    .action(async (opts, cmd) => await configNew(rt, opts, locate(rt, cmd)));
}

async function configNew(rt: Runtime, opts: ConfigNewOptions, loc: ConfigLocation) {
  const scope = parseScope(opts.scope);
  const repository = opts.repository === undefined ? undefined : absoluteLocation(opts.repository);
  if (repository !== undefined) checkRepositoryLocation(repository);
  const passwordFile = opts.passwordFile === undefined ? undefined : resolve(opts.passwordFile);
  await refuseExistingConfig(rt, opts, loc);
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
    return await configNewOnPeer(rt, opts, loc, choices, { interactive, status });
  }
  if (interactive) choices = await configWizard(rt, choices, loc.path);
  const written = await writeNewConfig(rt, loc.path, choices);
  if (opts.json) return printJson(rt, { ok: true, ...written });
  rt.write(describeWritten(written));
  rt.write("Next: `stowage setup` (or `stowage admin repo init`) creates the repository.\n");
}

/** An existing config file is replaced only with --force or a yes on the terminal. */
async function refuseExistingConfig(rt: Runtime, opts: ConfigNewOptions, loc: ConfigLocation) {
  if (await rt.app.configStore.exists(loc.path) && !opts.force) {
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
}

/** The repository goes on a Tailscale peer: key, host key, config and `restic init` there. */
async function configNewOnPeer(
  rt: Runtime,
  opts: ConfigNewOptions,
  loc: ConfigLocation,
  choices: NewConfigChoices,
  ask: { interactive: boolean; status: Awaited<ReturnType<typeof askForTailnet>> },
) {
  const { interactive, status } = ask;
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
  if (interactive) choices = await configWizard(rt, choices, loc.path);
  const written = await setUpOnPeer(rt, peer, prepareNewConfig(rt, loc.path, choices), {
    interactive,
    say,
  });
  if (opts.json) return printJson(rt, { ok: true, ...written });
  rt.write(describeWritten(written));
  rt.write(`The repository on ${peer.name} is initialised: \`stowage backup\` can run.\n`);
}

function registerConfigEdit(config: ConfigCommand, rt: Runtime) {
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
    .action(async (_opts, cmd) => await configEdit(rt, locate(rt, cmd)));
}

async function configEdit(rt: Runtime, loc: ConfigLocation) {
  const current = await rt.app.configStore.readText(loc);
  const start = current ?? configToYaml(newConfigDocument());
  if (current === undefined) {
    rt.writeErr(`No config file at ${loc.path} yet: starting from the defaults.\n`);
  }
  await using copy = await rt.app.configStore.privateCopy(start);
  while (true) {
    const { editor, program, args } = editorCommand(rt.env, copy.path);
    const code = await rt.app.configStore.runEditor(program, args);
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
      await rt.app.configStore.writeText(loc.path, edited);
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
}

function registerConfigReset(config: ConfigCommand, rt: Runtime) {
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
      const bak = await rt.app.configStore.backup(loc.path);
      await rt.app.configStore.write(loc.path, newConfigDocument());
      if (opts.json) return printJson(rt, { ok: true, configPath: loc.path, backup: bak ?? null });
      rt.write(`Replaced ${loc.path} with the defaults (mode 0600).\n`);
      if (bak) rt.write(`The previous file is ${bak} (mode 0600).\n`);
      rt.write("The repository and its password file were not touched.\n");
    });
}

function registerConfigSchema(config: ConfigCommand, rt: Runtime) {
  config
    .command("schema")
    .description("Print the JSON Schema of the config file, for editors and validators.")
    .action(() => {
      printJson(rt, configJsonSchema());
    });
}

function registerConfigValidate(config: ConfigCommand, rt: Runtime) {
  config
    .command("validate")
    .description(
      "Check a config file and list every problem with its path (exit code 3 when invalid).",
    )
    .argument("[file]", "the file to check (default: --config, STOWAGE_CONFIG or the default path)")
    .option("--json", "print a JSON document")
    .action(async (file, opts, cmd) => {
      const loc: ConfigLocation = file ? { path: file, explicit: true } : locate(rt, cmd);
      await configValidate(rt, loc, opts.json === true);
    });
}

async function configValidate(rt: Runtime, loc: ConfigLocation, json: boolean) {
  const text = await rt.app.configStore.readText(loc);
  if (text === undefined) {
    const doc = {
      ok: true,
      path: loc.path,
      exists: false,
      embeddedDefault: true,
      problems: [],
    };
    if (json) return printJson(rt, doc);
    rt.write(`No config file at ${loc.path}: the embedded default is in use (valid).\n`);
    return;
  }
  const check = checkConfigText(text);
  if (check.ok) {
    if (json) {
      return printJson(rt, { ok: true, path: loc.path, exists: true, problems: [] });
    }
    rt.write(`${loc.path} is valid.\n`);
    return;
  }
  const err = configError(check, loc.path);
  if (!json) throw err;
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
}
