/**
 * What stowage needs on this host (`admin system show-deps`, `install-deps`, `setup`): every
 * dependency inspected with the config's settings (the defaults when the config is broken) and
 * the install plan. The requirements and the plan are pure (core/deps.ts).
 */
import type { LoadedConfig } from "../core/config/loaded.ts";
import { errorMessage } from "../core/errors.ts";
import { defaultConfig } from "../core/config/schema.ts";
import {
  type DependencyStatus,
  type DistroFamily,
  distroFamily,
  inspectDependencies,
  type InstallPlan,
  installPlan,
} from "../core/deps.ts";
import type { Services } from "./services.ts";

export type DepsServices = Pick<
  Services,
  "runner" | "engine" | "loadConfig" | "paths" | "osRelease" | "onPath"
>;

export interface DepsReport {
  ok: boolean;
  system: { name: string; family: DistroFamily };
  /** Set when the config could not be read: the defaults were used for the checks. */
  configProblem?: string;
  dependencies: DependencyStatus[];
  install: InstallPlan;
}

/** Inspects every dependency. A broken config does not stop it: defaults are used instead. */
export async function gatherDeps(
  svc: DepsServices,
  configFlag: string | undefined,
): Promise<DepsReport> {
  let loaded: LoadedConfig;
  let configProblem: string | undefined;
  try {
    loaded = await svc.loadConfig(configFlag);
  } catch (e) {
    configProblem = errorMessage(e);
    loaded = { config: defaultConfig(), paths: svc.paths };
  }
  const os = await svc.osRelease();
  const family = distroFamily(os);
  const dependencies = await inspectDependencies(
    {
      runner: svc.runner,
      engineVersion: () => svc.engine(loaded).version(),
      onPath: (p) => svc.onPath(p),
      family,
    },
    {
      resticBinary: loaded.config.repository.restic_binary,
      composeCommand: loaded.config.docker.compose_command,
      repositoryLocation: loaded.config.repository.location,
    },
  );
  return {
    ok: dependencies.every((d) => !d.required || d.state === "ok"),
    system: { name: os?.prettyName ?? "unknown system", family },
    configProblem,
    dependencies,
    install: installPlan(dependencies, family),
  };
}
