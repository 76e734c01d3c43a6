/**
 * Where stowage keeps its files. Pure: derived from uid and environment so it is testable and the
 * same rules serve the CLI, the daemon and the generated systemd units.
 */

export interface PathEnv {
  uid: number | null;
  env: (name: string) => string | undefined;
}

export interface StowagePaths {
  /** Default config file, used when neither --config nor STOWAGE_CONFIG names one. */
  configFile: string;
  stateDir: string;
  /** Default local repository: <stateDir>/repository. */
  repository: string;
  /** Generated password for the default repository: <stateDir>/repository.password (0600). */
  passwordFile: string;
  /** Restart journal and host lock live here. */
  journalFile: string;
  lockFile: string;
  /** Results of past runs, read by the status endpoint. */
  resultsFile: string;
  recoveryDir: string;
  /**
   * restic's cache (--cache-dir on every restic call): inside the state dir, so the CLI, the timer
   * unit, the daemon and the verify unit share one warm cache, and the units' ReadWritePaths (or
   * StateDirectory) for the state dir make it writable under ProtectSystem/ProtectHome.
   */
  resticCacheDir: string;
}

export function resolvePaths({ uid, env }: PathEnv): StowagePaths {
  const root = uid === 0;
  const home = env("HOME") ?? "/root";
  const configHome = env("XDG_CONFIG_HOME") || `${home}/.config`;
  const dataHome = env("XDG_DATA_HOME") || `${home}/.local/share`;
  const configFile = root ? "/etc/stowage/config.yaml" : `${configHome}/stowage/config.yaml`;
  const stateDir = env("STOWAGE_STATE_DIR") || (root ? "/var/lib/stowage" : `${dataHome}/stowage`);
  return {
    configFile,
    stateDir,
    repository: `${stateDir}/repository`,
    passwordFile: `${stateDir}/repository.password`,
    journalFile: `${stateDir}/restart-journal.json`,
    lockFile: `${stateDir}/backup.lock`,
    resultsFile: `${stateDir}/results.json`,
    recoveryDir: `${stateDir}/recovery`,
    resticCacheDir: `${stateDir}/cache/restic`,
  };
}
