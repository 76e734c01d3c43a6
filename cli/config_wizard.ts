/**
 * The config wizard and the new-config steps `setup` and `admin config new` share: a menu of
 * backends, one line each, then only the questions the chosen one needs
 * (core/config/backends.ts); the password file and scope; the new config prepared in memory,
 * written, and described. Secrets are read without echo and never shown; they leave here only
 * as the env file's content.
 */
import { dirname, resolve } from "node:path";
import { StowageError } from "../core/errors.ts";
import { type Scope, SCOPES } from "../core/model.ts";
import type { StowagePaths } from "../core/paths.ts";
import { checkConfigText, configError } from "../core/config/validate.ts";
import { redactLocation } from "../core/secrets.ts";
import { type NewConfigChoices, newConfigDocument } from "../core/config/new.ts";
import { envFileText } from "../core/config/backends.ts";
import { applyConfigPaths, configToYaml } from "../core/config/files.ts";
import type { LoadedConfig } from "./runtime.ts";
import { promptContext } from "./prompt_output.ts";
import type { Runtime } from "./runtime.ts";
import {
  type Answers,
  asked,
  type BackendChoice,
  type BackendId,
  BACKENDS,
  buildBackend,
  checkAnswer,
} from "../core/config/backends.ts";

export interface RepositoryAnswer extends BackendChoice {
  backend: BackendId;
  /** Where the credentials go (0600), beside the config; undefined when there are none. */
  envFile?: string;
}

/** Asks for the backend and what it needs. Only ever called when stdin is a terminal. */
export async function askRepository(
  rt: Pick<Runtime, "env" | "stdoutIsTerminal" | "stderrIsTerminal">,
  opts: { configPath: string; defaultLocal: string },
): Promise<RepositoryAnswer> {
  const { input, password, select } = await import("@inquirer/prompts");
  // Prompts draw on stderr, like the restore wizard: stdout stays for output.
  const ctx = promptContext(rt);
  const id = await select<BackendId>({
    message: "Where should backups go?",
    default: "local",
    pageSize: BACKENDS.length,
    choices: BACKENDS.map((b) => ({ value: b.id, name: b.title })),
  }, ctx);
  const b = BACKENDS.find((x) => x.id === id)!;
  const answers: Answers = {};
  for (const q of b.questions) {
    if (!asked(q, answers)) continue;
    const validate = (v: string) => checkAnswer(q, v);
    const def = q.key === "path" && id === "local" ? opts.defaultLocal : q.default;
    answers[q.key] = q.kind === "secret"
      // No mask: not even the length of a secret reaches the screen.
      ? await password({ message: q.message, validate }, ctx)
      : (await input({ message: q.message, default: def, validate }, ctx)).trim();
  }
  const choice = buildBackend(id, answers);
  const hasEnv = Object.keys(choice.env).length > 0;
  return {
    ...choice,
    backend: id,
    envFile: hasEnv ? `${dirname(opts.configPath)}/repository.env` : undefined,
  };
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
  retention: Record<string, number | undefined>;
  /** The backend's credentials file, when the wizard wrote one (0600). */
  envFile?: string;
}

/** "the latest 3, 7 daily, 4 weekly and 6 monthly restore points per unit". */
export function describeRetention(r: Record<string, number | undefined>): string {
  const parts = Object.entries(r).filter(([, n]) => n !== undefined && n > 0)
    .map(([k, n]) => (k === "latest" ? `the latest ${n}` : `${n} ${k}`));
  if (parts.length === 0) return "every restore point";
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts[0];
  return `keeps ${list} restore points per unit`;
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
  const created =
    (await rt.app.configStore.ensurePasswordFile(prepared.passwordFile)) === "created";
  if (prepared.envFile) await rt.app.writeFile(prepared.envFile.path, prepared.envFile.text, 0o600);
  await rt.app.configStore.write(path, prepared.doc);
  return describeNewConfig(prepared, created);
}

/** A new config as it will be written, in memory (nothing touched), so setup can test it first. */
export interface PreparedConfig {
  path: string;
  choices: NewConfigChoices;
  doc: ReturnType<typeof newConfigDocument>;
  /**
   * Tests the repository before anything is written: the backend's credentials in memory
   * (`repository.env`), as the env file will hold them.
   */
  loaded: LoadedConfig;
  passwordFile: string;
  /** The backend's credentials file, to write (0600) before the config that names it. */
  envFile?: { path: string; text: string };
}

/** What the wizard chose: the config's choices plus the backend's credentials. */
export interface WizardChoices extends NewConfigChoices {
  backendEnv?: Record<string, string>;
}

export function prepareNewConfig(
  rt: Runtime,
  path: string,
  wizard: WizardChoices,
): PreparedConfig {
  const { backendEnv, ...choices } = wizard;
  const doc = newConfigDocument(choices);
  const check = checkConfigText(configToYaml(doc));
  if (!check.ok) throw configError(check, path); // a bug in newConfigDocument, reported plainly
  const paths: StowagePaths = applyConfigPaths(rt.paths, check.config, rt.env, rt.uid);
  const envFile = choices.envFile && backendEnv
    ? { path: choices.envFile, text: envFileText(backendEnv) }
    : undefined;
  // Until the env file is written, its content rides in memory.
  const config = envFile
    ? {
      ...check.config,
      repository: { ...check.config.repository, env: { ...backendEnv }, env_file: undefined },
    }
    : check.config;
  return {
    path,
    choices,
    doc,
    loaded: { config, path, paths },
    passwordFile: choices.passwordFile ?? paths.passwordFile,
    envFile,
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
    retention: { ...p.loaded.config.retention },
    envFile: p.envFile?.path,
  };
}

/**
 * Asks for what the flags did not give: the backend from a menu and only what it needs, the
 * password file, the scope. Only ever called when stdin is a terminal.
 */
export async function configWizard(
  rt: Runtime,
  given: NewConfigChoices,
  configPath: string,
): Promise<WizardChoices> {
  const { input, select } = await import("@inquirer/prompts");
  const ctx = promptContext(rt);
  const repo = given.repository === undefined
    ? await askRepository(rt, { configPath, defaultLocal: rt.paths.repository })
    : undefined;
  const repository = given.repository ?? repo!.location;
  const passwordFile = given.passwordFile ?? (await input({
    message: "Password file (created with a random password if it does not exist)",
    default: rt.paths.passwordFile,
    validate: (v) =>
      v.trim().startsWith("/") || "an absolute path, starting with / (relative paths are refused)",
  }, ctx)).trim();
  const scope = given.scope ?? await select<Scope>({
    message: "Backup scope",
    default: "standard",
    choices: [
      { value: "minimal", name: "minimal: volumes only" },
      { value: "standard", name: "standard: volumes, bind mounts, compose files, networks" },
      { value: "full", name: "full: standard plus the Docker daemon's configuration" },
    ],
  }, ctx);
  const sshKey = given.sshKey ?? repo?.sshKey;
  return {
    repository: repository === rt.paths.repository ? undefined : repository,
    passwordFile: passwordFile === rt.paths.passwordFile ? undefined : passwordFile,
    scope,
    sshKey: sshKey === undefined ? undefined : resolve(sshKey),
    envFile: repo?.envFile,
    rcloneConfig: repo?.rcloneConfig,
    backendEnv: repo?.envFile ? repo.env : undefined,
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
  if (w.envFile) lines.push(`Credentials:   ${w.envFile} (mode 0600)`);
  lines.push(`Scope:         ${w.scope}`);
  lines.push(`Retention:     ${describeRetention(w.retention)} (retention: in the config)`);
  if (w.passwordFile.created) {
    lines.push(
      "Keep a copy of the password file off this host: without it the backups cannot be read.",
    );
  }
  return lines.join("\n") + "\n";
}
