/**
 * stowage's entry point: wires the real adapters into a Runtime and runs the CLI.
 * Everything below cli/ and core/ is reachable only through what is built here.
 */
import { runCli } from "./cli/mod.ts";
import type { LoadedConfig, Runtime } from "./cli/runtime.ts";
import { systemClock } from "./adapters/clock.ts";
import { DenoProcessRunner } from "./adapters/process.ts";
import {
  applyConfigPaths,
  backupConfig,
  configExists,
  ensurePasswordFile,
  locateConfig,
  privateCopy,
  readConfig,
  readConfigText,
  runEditor,
  writeConfig,
  writeConfigText,
} from "./adapters/config_store.ts";
import { resolvePaths } from "./core/paths.ts";
import { EngineClient } from "./adapters/docker/engine.ts";
import { openRepository } from "./adapters/restic/open.ts";
import { journaldFromEnv } from "./adapters/systemd/journald.ts";
import { addLogSink } from "./cli/log.ts";
import { EXIT_CODES } from "./cli/exit_codes.ts";
import { acquireHostLock, lockHolder } from "./adapters/lock.ts";
import { FileRestartJournal } from "./adapters/journal.ts";
import { fsSnapshotJournal, HostFsSnapshots } from "./adapters/fs_snapshot.ts";
import { FileSandboxJournal } from "./adapters/sandbox_journal.ts";
import { LocalHostFiles } from "./adapters/host_files.ts";
import { LocalRestoreFiles } from "./adapters/restore_files.ts";
import {
  forgetResultsUnit,
  readResults,
  recordNotifications,
  recordRun,
  recordVerify,
} from "./adapters/results_store.ts";
import { hookHost } from "./adapters/hooks/host.ts";
import { createStatusApp, readTokenFile, serveStatus } from "./adapters/status_server.ts";
import { notifierFromEnv, watchdogPeriodMs } from "./adapters/systemd/notify.ts";
import {
  fileChunks,
  measurePayload,
  readBundleFile,
  writeBundleFile,
  writeBundleStream,
} from "./adapters/recovery/bundle_io.ts";
import { ExtractSink, InstallSink } from "./adapters/recovery/install.ts";
import { listNames, readSecretFile } from "./adapters/recovery/bundle_files.ts";
import {
  knownHostsFiles,
  modeWarning,
  openCopy,
  parseEnvFile,
  parseSftpLocation,
  repositorySettings,
  trustFile,
} from "./adapters/restic/open.ts";
import { sshHostKeys } from "./adapters/ssh_host_keys.ts";
import { sshClient } from "./adapters/ssh_client.ts";
import { TailscaleCli } from "./adapters/tailscale.ts";
import { exists, probeWritableDir, randomPassword, writeFileAtomic } from "./adapters/files.ts";
import { onPath, readOsRelease } from "./adapters/host_system.ts";
import { refreshAutomaticBundle } from "./app/recovery_bundle.ts";
import { notifySender } from "./adapters/notify/sender.ts";
import type { Services } from "./app/services.ts";

export function realRuntime(): Runtime {
  const env = (name: string) => Deno.env.get(name);
  const uid = Deno.uid();
  const paths = resolvePaths({ uid, env });
  const writeErr = writeAll(Deno.stderr);
  const controller = stopOnSignals(writeErr);
  const runner = new DenoProcessRunner();
  const engine = (loaded: LoadedConfig) =>
    EngineClient.fromConfig(loaded.config.docker.host ?? env("DOCKER_HOST"));
  const repository = (loaded: LoadedConfig, opts?: { prepare?: boolean }) =>
    openRepository(loaded, { runner, prepare: opts?.prepare ?? false, env });
  const hostname = Deno.hostname();
  const loadConfig = async (configFlag?: string): Promise<LoadedConfig> => {
    const loc = locateConfig(configFlag, env, paths);
    const { config, path } = await readConfig(loc);
    // config `host:` names this host in snapshots (several hosts may share one repository).
    if (config.host) {
      app.hostname = config.host;
      rt.hostname = config.host;
    }
    return { config, path, paths: applyConfigPaths(paths, config, env, uid) };
  };
  const app = realServices({
    runner,
    env,
    paths,
    hostname,
    engine,
    repository,
    loadConfig,
    signal: controller.signal,
  });
  const rt: Runtime = {
    env,
    uid,
    hostname,
    paths,
    stdinIsTerminal: Deno.stdin.isTerminal(),
    stdoutIsTerminal: Deno.stdout.isTerminal(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    terminalColumns() {
      try {
        return Deno.consoleSize().columns || undefined;
      } catch {
        return undefined;
      }
    },
    write: writeAll(Deno.stdout),
    writeErr,
    clock: systemClock,
    runner,
    signal: controller.signal,
    loadConfig: (globals) => loadConfig(globals.config),
    engine,
    repository,
    app,
  };
  return rt;
}

/** What realRuntime builds first and shares with the services. */
type RuntimeParts = Pick<
  Services,
  "runner" | "env" | "paths" | "hostname" | "engine" | "repository" | "loadConfig"
>;

/** The services of the application layer (app/services.ts), each a real adapter. */
function realServices(ctx: RuntimeParts & { signal: AbortSignal }): Services {
  const { signal, ...given } = ctx;
  const { runner, env, paths } = given;
  const app: Services = {
    clock: systemClock,
    ...given,
    pid: Deno.pid,
    defaultConfigFile: paths.configFile,
    copyRepository: (loaded, name) => openCopy(loaded, name, { env }),
    locks: { acquire: acquireHostLock, holder: lockHolder },
    journal: (path) => new FileRestartJournal(path),
    fsSnapshots: (journalFile) => new HostFsSnapshots(runner, fsSnapshotJournal(journalFile)),
    sandboxJournal: (path) => new FileSandboxJournal(path),
    hostFiles: new LocalHostFiles(runner),
    restoreFiles: new LocalRestoreFiles(),
    hookHost,
    results: {
      record: recordRun,
      recordNotifications,
      recordVerify,
      read: readResults,
      forgetUnit: forgetResultsUnit,
    },
    fileMode: (path) => Deno.stat(path).catch(() => undefined),
    pathExists: exists,
    probeWritableDir,
    systemd: {
      notifier: (onError) => notifierFromEnv(env, onError),
      watchdogMs: () => watchdogPeriodMs(env("WATCHDOG_USEC"), env("WATCHDOG_PID"), Deno.pid),
    },
    statusServer: {
      serve: (source, opts, addr) => serveStatus(createStatusApp(source, opts), addr),
      readToken: readTokenFile,
    },
    refreshRecoveryBundle: (loaded) => refreshAutomaticBundle(app, loaded, signal),
    repositoryConfig: {
      settings: repositorySettings,
      parseEnvFile,
      modeWarning,
      trustFile,
      knownHostsFiles,
      parseSftpLocation,
    },
    configStore: {
      locate: (flag) => locateConfig(flag, env, paths),
      exists: configExists,
      write: writeConfig,
      ensurePasswordFile,
      readText: readConfigText,
      writeText: writeConfigText,
      backup: backupConfig,
      privateCopy,
      runEditor,
    },
    bundles: {
      fileChunks,
      measurePayload,
      writeFile: writeBundleFile,
      writeStream: writeBundleStream,
      read: readBundleFile,
      extractSink: (parent) => new ExtractSink(parent),
      installSink: (targets) => new InstallSink(targets),
    },
    bundleNames: listNames,
    secretFile: readSecretFile,
    readTextFile: (path) => Deno.readTextFile(path),
    writeFile: writeFileAtomic,
    removeFile: (path) => Deno.remove(path),
    randomPassword,
    osRelease: readOsRelease,
    onPath: (program) => onPath(env, program),
    notifySender,
    sshHostKeys: sshHostKeys(runner),
    sshClient: sshClient(runner),
    tailnet: new TailscaleCli(runner),
  };
  return app;
}

/** A writer to `f`. A reader that went away (`stowage ... | head`) is not an error worth a stack: stop writing. */
function writeAll(f: typeof Deno.stdout): (s: string) => void {
  const encoder = new TextEncoder();
  let closed = false;
  return (s: string) => {
    if (closed) return;
    const bytes = encoder.encode(s);
    let off = 0;
    try {
      while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
    } catch (e) {
      if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
      closed = true;
    }
  };
}

/**
 * SIGINT and SIGTERM abort the returned controller: the first signal asks the command to stop
 * safely (containers started again, restic interrupted). A command blocked where it cannot see
 * that request must still end: the second signal exits at once. The restart journal brings back
 * containers a backup stopped (`admin system recover-journal`; ExecStopPost under systemd).
 */
function stopOnSignals(writeErr: (s: string) => void): AbortController {
  const controller = new AbortController();
  const onSignal = (sig: Deno.Signal) => () => {
    if (controller.signal.aborted) {
      writeErr(`stowage: received ${sig} again: exiting now\n`);
      writeErr(
        "hint: if a backup was stopping containers, run `stowage admin system recover-journal`.\n",
      );
      Deno.exit(EXIT_CODES.interrupted);
    }
    controller.abort(new DOMException(`received ${sig}`, "AbortError"));
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(sig, onSignal(sig));
    } catch { /* not on this platform */ }
  }
  return controller;
}

if (import.meta.main) {
  const rt = realRuntime();
  // Under systemd (stderr is the journal), log records go to journald with structured fields.
  const journald = journaldFromEnv(rt.env, rt.writeErr);
  if (journald) addLogSink(journald.logSink, { replacesStderr: true });
  const code = await runCli(rt, Deno.args);
  await journald?.close();
  Deno.exit(code);
}
