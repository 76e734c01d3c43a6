/**
 * `setup`: the first-run helper. Checks dependencies, writes a config when there is none (from
 * flags, a wizard on a terminal, or the embedded default), creates the repository, and says
 * where everything is and what to run next. Safe to run again: it keeps what exists.
 */
import type { Program } from "../mod.ts";
import type { Runtime } from "../runtime.ts";
import { globals } from "../mod.ts";
import { printJson, tableWidth } from "../output.ts";
import { StowageError } from "../../core/errors.ts";
import { checkRepositoryLocation } from "../../core/config/location.ts";
import { redactLocation } from "../../core/secrets.ts";
import { setUpRepository } from "../../app/setup.ts";
import { type HostTrust, trustRepositoryHost } from "../host_key.ts";
import type { LoadedConfig } from "../runtime.ts";
import type { ConfigLocation } from "../../core/config/files.ts";
import type { DepsReport } from "../../app/deps.ts";
import { gatherDeps } from "../../app/deps.ts";
import { renderDeps } from "../deps_view.ts";
import { startSpinner } from "../spinner.ts";
import {
  absoluteLocation,
  configWizard,
  describeNewConfig,
  describeRetention,
  parseScope,
  type PreparedConfig,
  prepareNewConfig,
  type WizardChoices,
  type WrittenConfig,
} from "../config_wizard.ts";
import { resolve } from "node:path";
import {
  askForTailnet,
  chooseTailscalePeer,
  confirmPeerLogin,
  peerKnownHosts,
  type TailscaleChoice,
} from "../tailscale_setup.ts";

const NEXT = [
  { command: "stowage dry-run", why: "see what a backup would stop and save" },
  { command: "stowage backup", why: "back up every stack and standalone container" },
  { command: "stowage admin snapshot list", why: "list what the repository holds" },
  { command: "stowage disaster-recovery", why: "keep the repository keys safe off this host" },
  { command: "stowage admin service write-units", why: "nightly backups under systemd" },
];

export function registerSetup(program: Program, rt: Runtime) {
  program
    .command("setup")
    .description(
      "First run: check dependencies, write a config if there is none, create the repository, and show what to run next.",
    )
    .option(
      "--repository <location>",
      "restic repository location for a new config (default: a local repository under the state directory)",
    )
    .option(
      "--password-file <path>",
      "password file for a new config; created with 48 random characters (0600) when absent",
    )
    .option(
      "--scope <scope>",
      "backup scope for a new config: minimal, standard or full (default: standard)",
    )
    .option(
      "--yes",
      "ask nothing: use the flags and defaults (implied when stdin is not a terminal)",
    )
    .option(
      "--ssh-key <path>",
      "SSH private key for an sftp/tailscale repository in a new config (default: ssh's own)",
    )
    .option(
      "--accept-host-key <fingerprint>",
      "trust the SSH server's host key with this fingerprint (SHA256:..., as `ssh-keygen -lf` prints it) without asking",
    )
    .option(
      "--tailscale-peer <name>",
      "put the repository on this peer of your Tailscale network (SFTP on its Tailscale address)",
    )
    .option("--tailscale-path <path>", "the repository's folder on the Tailscale peer")
    .option("--ssh-user <user>", "SSH user on the Tailscale peer (default: root)")
    .option("--ssh-port <port>", "SSH port on the Tailscale peer (default: 22)")
    .option("--json", "print a JSON document")
    .addHelpText(
      "after",
      "\nAn existing config is kept as it is (change it with `stowage admin config edit`). " +
        "Running setup again changes nothing that already exists.",
    )
    .action(async (opts, cmd) => await runSetup(rt, opts, globals(cmd).config));
}

interface SetupOptions {
  repository?: string;
  passwordFile?: string;
  scope?: string;
  yes?: true;
  sshKey?: string;
  acceptHostKey?: string;
  tailscalePeer?: string;
  tailscalePath?: string;
  sshUser?: string;
  sshPort?: string;
  json?: true;
}

/** What every step of setup shares: the flags and how it talks to the operator. */
interface SetupSession {
  opts: SetupOptions;
  configFlag: string | undefined;
  interactive: boolean;
  say: (s: string) => void;
  busy: <T>(what: string, fn: () => Promise<T>) => Promise<T>;
}

/** The config setup goes on with: an existing one, or one prepared (written later). */
interface SetupConfig {
  loaded: LoadedConfig;
  prepared?: PreparedConfig;
  tailscale?: TailscaleChoice;
}

interface SetupRepository {
  trust: HostTrust;
  peerFreeKiB?: number;
  written?: WrittenConfig;
  passwordCreated: boolean;
  existed: boolean;
}

async function runSetup(rt: Runtime, opts: SetupOptions, configFlag: string | undefined) {
  const say = (s: string) => {
    if (!opts.json) rt.write(s);
  };
  const interactive = rt.stdinIsTerminal && !opts.yes && !opts.json;

  // A sign of life on a terminal while programs are probed and the repository answers.
  const busy = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    if (opts.json) return await fn();
    const spinner = startSpinner(rt);
    spinner.set(what);
    try {
      return await fn();
    } finally {
      spinner.stop();
    }
  };
  const session: SetupSession = { opts, configFlag, interactive, say, busy };

  const deps = await checkSetupDeps(rt, session);
  const loc = rt.app.configStore.locate(configFlag);
  const config = await setupConfig(rt, session, loc);
  const { loaded, tailscale } = config;
  // Printed and in --json: a URL location's password hidden.
  const location = redactLocation(loaded.config.repository.location ?? loaded.paths.repository);
  const passwordFile = rt.app.repositoryConfig.settings(loaded, rt.env).passwordFile;
  const repo = await setupRepository(rt, session, config, { location, passwordFile });
  const { trust, peerFreeKiB, written, passwordCreated, existed } = repo;

  const doc = {
    ok: true,
    dependencies: deps,
    config: { path: loc.path, created: written !== undefined },
    repository: {
      location,
      created: !existed,
      ...(trust.host ? { sshHost: { host: trust.host, hostKey: trust.state } } : {}),
    },
    ...(tailscale
      ? {
        tailscale: {
          peer: tailscale.name,
          address: tailscale.peer.ips[0],
          latencyMs: tailscale.latencyMs ?? null,
          freeKiB: peerFreeKiB ?? null,
          sshKey: { path: tailscale.key.path, created: tailscale.key.created },
        },
      }
      : {}),
    passwordFile: { path: passwordFile, created: passwordCreated },
    next: NEXT,
  };
  if (opts.json) return printJson(rt, doc);
  renderSetup(rt, loc, { location, passwordFile }, repo);
}

/** 1. Dependencies: only restic is needed to finish setup; the rest is reported. */
async function checkSetupDeps(rt: Runtime, s: SetupSession): Promise<DepsReport> {
  const deps = await s.busy(
    "checking dependencies (Docker, restic, compose, tar, openssl, ssh)...",
    () => gatherDeps(rt.app, s.configFlag),
  );
  s.say(renderDeps(deps, tableWidth(rt)));
  const restic = deps.dependencies.find((d) => d.id === "restic");
  if (restic?.state !== "ok") {
    throw new StowageError(
      "dependency.missing",
      `Cannot set up the repository: restic is ${restic?.state ?? "missing"}${
        restic?.detail ? ` (${restic.detail})` : ""
      }`,
      "Run `stowage admin system install-deps` (Debian/Ubuntu), then `stowage setup` again.",
    );
  }
  if (!deps.ok) {
    s.say("Some dependencies are not ready (above); setup goes on, backups need them.\n");
  }
  return deps;
}

/**
 * 2. Config: keep an existing one, otherwise prepare one (written only once the repository
 * answered, so a failed setup leaves no config behind).
 */
async function setupConfig(
  rt: Runtime,
  s: SetupSession,
  loc: ConfigLocation,
): Promise<SetupConfig> {
  const { opts } = s;
  const scope = parseScope(opts.scope);
  const repositoryFlag = opts.repository === undefined
    ? undefined
    : absoluteLocation(opts.repository);
  if (repositoryFlag !== undefined) checkRepositoryLocation(repositoryFlag);
  if (await rt.app.configStore.exists(loc.path)) {
    if (
      opts.repository || opts.passwordFile || opts.scope || opts.sshKey || opts.tailscalePeer
    ) {
      s.say(
        `note: ${loc.path} exists and is kept; --repository/--password-file/--scope/--ssh-key/--tailscale-peer apply only to a new config (use \`stowage admin config new --force\`).\n`,
      );
    }
    return { loaded: await rt.loadConfig({ config: s.configFlag }) };
  }
  let tailscale: TailscaleChoice | undefined;
  let choices: WizardChoices = {
    repository: repositoryFlag,
    passwordFile: opts.passwordFile === undefined ? undefined : resolve(opts.passwordFile),
    scope,
    sshKey: opts.sshKey === undefined ? undefined : resolve(opts.sshKey),
  };
  if (opts.tailscalePeer !== undefined && repositoryFlag !== undefined) {
    throw new StowageError(
      "usage",
      "Cannot use --tailscale-peer together with --repository",
      "The Tailscale peer decides the repository location; pass one of them.",
    );
  }
  // On a terminal, with a tailnet in reach, the first question is where backups go.
  const status = s.interactive && repositoryFlag === undefined &&
      opts.tailscalePeer === undefined
    ? await askForTailnet(rt)
    : undefined;
  const onTailnet = opts.tailscalePeer !== undefined || status !== undefined;
  if (onTailnet) {
    tailscale = await chooseTailscalePeer(rt, {
      peer: opts.tailscalePeer,
      path: opts.tailscalePath,
      user: opts.sshUser,
      port: opts.sshPort,
      sshKey: choices.sshKey,
    }, { interactive: s.interactive, configPath: loc.path, status, say: s.say });
    // The host key goes next to the key, both named in the config, so the
    // disaster-recovery bundle carries them.
    choices = {
      ...choices,
      repository: tailscale.location,
      sshKey: tailscale.key.path,
      knownHosts: peerKnownHosts(loc.path),
    };
  }
  // The wizard asks what is still open (a Tailscale peer settled the location and key).
  if (s.interactive && (choices.repository === undefined || tailscale)) {
    choices = await configWizard(rt, choices, loc.path);
  }
  const prepared = prepareNewConfig(rt, loc.path, choices);
  return { loaded: prepared.loaded, prepared, tailscale };
}

/**
 * 3. SSH host key (sftp, tailscale): known, or shown and trusted by the operator; then the
 * repository, and only once it answered the prepared config is written.
 */
async function setupRepository(
  rt: Runtime,
  s: SetupSession,
  { loaded, prepared, tailscale }: SetupConfig,
  { location, passwordFile }: { location: string; passwordFile: string },
): Promise<SetupRepository> {
  const { interactive, say } = s;
  const trust = await trustRepositoryHost(rt, loaded, {
    interactive,
    accept: s.opts.acceptHostKey,
    trustOnFirstUse: tailscale !== undefined,
    say,
  });
  let peerFreeKiB: number | undefined;
  let written: WrittenConfig | undefined;
  let passwordCreated = false;
  let existed: boolean;
  try {
    // 3b. A Tailscale peer: stowage's key logs in, the folder exists (nothing written before).
    if (tailscale) {
      ({ freeKiB: peerFreeKiB } = await confirmPeerLogin(rt, tailscale, trust.loaded, {
        interactive,
        say,
      }));
    }
    // 4. Repository: create it unless it already opens; only then write what was prepared.
    ({ passwordCreated, existed } = await s.busy(
      `opening the repository at ${location}...`,
      () => setUpRepository(rt.app, { loaded: trust.loaded, passwordFile, prepared }),
    ));
    if (prepared) written = describeNewConfig(prepared, passwordCreated);
    await trust.commit();
  } finally {
    await trust.dispose();
  }
  return { trust, peerFreeKiB, written, passwordCreated, existed };
}

function renderSetup(
  rt: Runtime,
  loc: ConfigLocation,
  { location, passwordFile }: { location: string; passwordFile: string },
  { written, existed, passwordCreated }: SetupRepository,
) {
  rt.write("\nstowage is set up.\n");
  rt.write(`  Config:        ${loc.path} (${written ? "created" : "existing, kept"})\n`);
  rt.write(`  Repository:    ${location} (${existed ? "already there" : "created now"})\n`);
  rt.write(
    `  Password file: ${passwordFile} (${
      passwordCreated ? "created, " : ""
    }mode 0600; keep a copy off this host: without it the backups cannot be read)\n`,
  );
  if (written?.envFile) rt.write(`  Credentials:   ${written.envFile} (created, mode 0600)\n`);
  if (written) {
    rt.write(`  Scope:         ${written.scope}\n`);
    rt.write(`  Retention:     ${describeRetention(written.retention)}\n`);
  }
  rt.write("Next:\n");
  const width = Math.max(...NEXT.map((n) => n.command.length));
  for (const n of NEXT) rt.write(`  ${n.command.padEnd(width)}  ${n.why}\n`);
}
