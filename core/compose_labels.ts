/**
 * The labels Compose puts on containers, volumes and networks, and where a project's files are
 * according to them. Kept apart from compose_file.ts so the Engine adapter needs no YAML parser.
 */
import { posix } from "node:path";

export const COMPOSE_LABELS = {
  project: "com.docker.compose.project",
  service: "com.docker.compose.service",
  workingDir: "com.docker.compose.project.working_dir",
  configFiles: "com.docker.compose.project.config_files",
  environmentFile: "com.docker.compose.project.environment_file",
  containerNumber: "com.docker.compose.container-number",
  oneoff: "com.docker.compose.oneoff",
  dependsOn: "com.docker.compose.depends_on",
  volume: "com.docker.compose.volume",
  network: "com.docker.compose.network",
} as const;

export interface ProjectFilePaths {
  workingDir?: string;
  /** Absolute compose file paths, in label order. */
  compose: string[];
  /** Absolute .env paths: `<working_dir>/.env` plus Compose v2's environment_file label. */
  env: string[];
}

/**
 * Resolves the compose and env file paths named by one container's labels. docker-compose 1.29
 * writes `config_files` relative to `working_dir`; Compose v2 writes absolute paths.
 */
export function projectFilePaths(labels: Record<string, string>): ProjectFilePaths {
  const wd = labels[COMPOSE_LABELS.workingDir] || undefined;
  const resolve = (p: string) => {
    if (posix.isAbsolute(p)) return posix.normalize(p);
    return wd && posix.isAbsolute(wd) ? posix.join(wd, p) : p;
  };
  const list = (v: string | undefined) =>
    (v ?? "").split(",").map((s) => s.trim()).filter(Boolean).map(resolve);
  const compose = [...new Set(list(labels[COMPOSE_LABELS.configFiles]))];
  const env = [
    ...new Set([...(wd ? [resolve(".env")] : []), ...list(labels[COMPOSE_LABELS.environmentFile])]),
  ];
  return { workingDir: wd, compose, env };
}
