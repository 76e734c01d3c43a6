/**
 * The domain: what stowage knows about a Docker host, as plain data. Discovery produces it from
 * Engine data (core/discovery.ts), planners read it, the CLI renders it. No behaviour lives here.
 */

import type { VolumeLocation } from "./volume_kind.ts";

export type UnitKind = "stack" | "standalone";

export interface ContainerInfo {
  id: string;
  /** Without the leading slash. */
  name: string;
  /** Compose service name; undefined for standalone containers. */
  service?: string;
  image: string;
  imageId: string;
  /** Engine state: running, exited, created, paused, restarting, dead. */
  state: string;
  running: boolean;
  /** Healthcheck status when one is defined: starting, healthy, unhealthy. */
  health?: string;
  hasHealthcheck: boolean;
  labels: Record<string, string>;
  /** Names of the named volumes and the bind sources it mounts, with their targets. */
  mounts: MountRef[];
  /** Network name -> fixed addresses (only set when configured with ipv4_address etc.). */
  networks: Record<string, { ipv4?: string; ipv6?: string; aliases: string[] }>;
  /** `network_mode: service:X` / `container:X` resolved to a container name or service. */
  networkMode: string;
}

export interface MountRef {
  type: "volume" | "bind" | "tmpfs" | "npipe";
  /** Volume name, or host path for binds. */
  source: string;
  destination: string;
  readOnly: boolean;
}

export interface ImageRef {
  /** As the container was created with it, e.g. `postgres:16`. */
  reference: string;
  id: string;
  /** e.g. `postgres@sha256:...`; empty for locally built/imported images. */
  repoDigests: string[];
  /** Bytes of the image (Engine `Size`), when known. */
  size?: number;
}

export interface VolumeInfo {
  name: string;
  driver: string;
  /** Host folder holding the data (`.../_data`). */
  mountpoint: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** Containers (names) of this unit that mount it. */
  usedBy: string[];
  /** Compose `volume` label when the volume belongs to a project. */
  composeName?: string;
  /** Declared by another project / external to this unit. */
  external: boolean;
  /**
   * Where the data really lives and how it is read (core/volume_kind.ts). Recipes written before
   * volume kinds existed lack it; restore classifies again from driver and options anyway.
   */
  location?: VolumeLocation;
}

export interface BindInfo {
  source: string;
  usedBy: string[];
  destinations: string[];
  /** false when the path is outside the safe roots; the gap says why. */
  safe: boolean;
}

export interface IpamConfig {
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  auxAddresses?: Record<string, string>;
}

export interface NetworkInfo {
  id: string;
  name: string;
  driver: string;
  scope: string;
  internal: boolean;
  attachable: boolean;
  enableIPv6: boolean;
  ipam: { driver: string; config: IpamConfig[]; options: Record<string, string> };
  options: Record<string, string>;
  labels: Record<string, string>;
  /** Containers of this unit attached, with the addresses they hold now. */
  containers: { name: string; ipv4?: string; ipv6?: string }[];
}

export interface ProjectFile {
  path: string;
  kind: "compose" | "env";
  exists: boolean;
}

/**
 * A host file or folder the compose files reference (env_file, extends, configs, a build context),
 * saved in the recipe so `up` works on a new host (docs/format.md).
 */
export interface ProjectReference {
  kind: "env_file" | "extends" | "config" | "build";
  /** The service naming it; undefined for top-level `configs:`. */
  service?: string;
  /** As written in the compose file. */
  written: string;
  /** Absolute host path (the context folder for `build`). */
  path: string;
  /** For `build`: the Dockerfile's absolute path. */
  dockerfile?: string;
  /** A missing file is fine (`env_file: { required: false }`). */
  optional?: boolean;
}

export type GapKind =
  | "reference-unsaved"
  | "bind-unsafe"
  | "compose-file-missing"
  | "external-volume"
  | "skipped-by-config"
  | "secret"
  | "volume-unreadable"
  | "tmpfs";

/** Something the unit needs that will not be backed up, and why. */
export interface CoverageGap {
  kind: GapKind;
  item: string;
  reason: string;
}

export interface Unit {
  /** Compose project name, or container name for standalone units. */
  name: string;
  kind: UnitKind;
  workingDir?: string;
  files: ProjectFile[];
  containers: ContainerInfo[];
  /** service -> services it depends on (depends_on, links, network_mode: service:X). */
  dependsOn: Record<string, string[]>;
  images: ImageRef[];
  volumes: VolumeInfo[];
  binds: BindInfo[];
  networks: NetworkInfo[];
  gaps: CoverageGap[];
  /** Host files the compose files reference besides themselves; absent when there are none. */
  references?: ProjectReference[];
  /** What discovery noticed that is not a gap (an unreadable compose file, ...). */
  notes?: string[];
}

export type Scope = "minimal" | "standard" | "full";
export const SCOPES: readonly Scope[] = ["minimal", "standard", "full"];

export type SnapshotType =
  | "recipe"
  | "volume"
  | "bind"
  | "network"
  | "docker-config"
  | "pre-restore"
  /** Written last by a backup run once every planned item of the unit was saved (format 2). */
  | "complete"
  /** A locally built image (Engine export), shared by units; unit `_images`, no backup_id. */
  | "image"
  /** A database's logical dump, taken while it ran (docs/dumps.md). */
  | "dump"
  /** Format 3: several volume folders and bind mounts of a unit saved by one restic pass. */
  | "data";

/** One volume folder or bind mount inside a `type=data` snapshot (its `item=` tags). */
export interface DataItem {
  kind: "volume" | "bind";
  /** Volume name, or the bind mount's host path. */
  name: string;
  /** The folder's absolute path inside the snapshot (for a bind: its name). */
  path: string;
}

/** A restic snapshot as stowage sees it: its tags parsed into fields. */
export interface SnapshotInfo {
  id: string;
  shortId: string;
  time: string;
  hostname: string;
  paths: string[];
  tags: string[];
  unit?: string;
  type?: SnapshotType;
  backupId?: string;
  scope?: Scope;
  volume?: string;
  path?: string;
  /** For `type=image`: the image id (`sha256:...`) the snapshot holds. */
  image?: string;
  /** For `type=dump`: the database engine, service and database (docs/dumps.md). */
  dump?: { engine: "postgres" | "mariadb"; service: string; database: string };
  /** Bytes of the snapshot's files, when known (restic 0.17+ summary or `stats`). */
  size?: number;
  /** For `type=data`: the volume folders and bind mounts it holds, validated (core/tags.ts). */
  items?: DataItem[];
  /** Why its tags were refused (core/tags.ts); such a snapshot joins no restore point. */
  invalid?: string;
  /** A copy (`restic copy`): the id of the snapshot it was copied from (docs/copies.md). */
  original?: string;
}
