/**
 * `setup`'s effects once the choices are made: create the repository unless it already opens,
 * and only then write the prepared config, so a failed setup leaves no config behind (and no
 * password file it created). The dependency report is app/deps.ts; the questions (config
 * wizard, SSH host key) stay in cli/.
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import { isStowageError, StowageError } from "../core/errors.ts";
import type { Services } from "./services.ts";

export type SetupServices = Pick<
  Services,
  "repository" | "configStore" | "removeFile" | "writeFile"
>;

/** The failure, saying that the prepared config was not written. */
function nothingWritten(e: StowageError): StowageError {
  return new StowageError(e.code, e.message, `No config was written. ${e.hint ?? ""}`.trim(), {
    details: e.details,
    cause: e,
  });
}

/**
 * Creates the password file when absent and the repository when it does not open, then writes
 * the prepared config (if any). Returns what was created.
 */
export async function setUpRepository(
  svc: SetupServices,
  opts: {
    /** The config the repository is opened with (host key trusted for this run). */
    loaded: LoadedConfig;
    passwordFile: string;
    /** A new config to write once the repository answered; undefined: an existing config. */
    prepared?: { path: string; doc: unknown; envFile?: { path: string; text: string } };
  },
): Promise<{ passwordCreated: boolean; existed: boolean }> {
  const { prepared, passwordFile } = opts;
  const passwordCreated = (await svc.configStore.ensurePasswordFile(passwordFile)) === "created";
  let existed: boolean;
  try {
    const repo = await svc.repository(opts.loaded, { prepare: true });
    existed = await repo.exists();
    if (!existed) await repo.init();
  } catch (e) {
    if (passwordCreated) await svc.removeFile(passwordFile).catch(() => {});
    throw prepared && isStowageError(e) ? nothingWritten(e) : e;
  }
  if (prepared?.envFile) {
    // The credentials before the config that names them, 0600 from the first byte.
    await svc.writeFile(prepared.envFile.path, prepared.envFile.text, 0o600);
  }
  if (prepared) await svc.configStore.write(prepared.path, prepared.doc);
  return { passwordCreated, existed };
}
