/**
 * The subset of Docker Engine API JSON that stowage reads (API 1.41+). Field names follow the
 * Engine's own spelling so adapters pass data through untouched; discovery turns them into the
 * domain model in core/model.ts.
 */

export interface EngineVersion {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  Os?: string;
  Arch?: string;
}

export interface EngineMountPoint {
  Type: "volume" | "bind" | "tmpfs" | "npipe" | string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode?: string;
  RW: boolean;
}

export interface EngineEndpointSettings {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null;
  Aliases?: string[] | null;
  Links?: string[] | null;
  NetworkID?: string;
  IPAddress?: string;
  GlobalIPv6Address?: string;
  MacAddress?: string;
}

export interface EngineContainer {
  Id: string;
  /** With a leading slash. */
  Name: string;
  Image: string; // image id (sha256:...)
  Created?: string;
  State: {
    Status: string;
    Running: boolean;
    Paused?: boolean;
    Restarting?: boolean;
    ExitCode?: number;
    StartedAt?: string;
    Health?: { Status: string } | null;
  };
  Config: {
    Image: string; // reference as created
    Env?: string[] | null;
    Labels?: Record<string, string> | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    WorkingDir?: string;
    User?: string;
    Hostname?: string;
    ExposedPorts?: Record<string, unknown> | null;
    Healthcheck?: { Test?: string[] | null } | null;
    StopSignal?: string;
    StopTimeout?: number;
    [k: string]: unknown;
  };
  HostConfig: {
    NetworkMode?: string;
    Links?: string[] | null;
    RestartPolicy?: { Name: string; MaximumRetryCount?: number };
    Binds?: string[] | null;
    PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
    Init?: boolean | null;
    [k: string]: unknown;
  };
  Mounts: EngineMountPoint[];
  NetworkSettings: { Networks?: Record<string, EngineEndpointSettings> | null };
  [k: string]: unknown;
}

export interface EngineVolume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
  Scope?: string;
  CreatedAt?: string;
}

export interface EngineNetwork {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Internal: boolean;
  Attachable: boolean;
  EnableIPv6: boolean;
  IPAM: {
    Driver: string;
    Config?:
      | {
        Subnet?: string;
        Gateway?: string;
        IPRange?: string;
        AuxiliaryAddresses?: Record<string, string>;
      }[]
      | null;
    Options?: Record<string, string> | null;
  };
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  Containers?: Record<string, { Name: string; IPv4Address?: string; IPv6Address?: string }> | null;
}

export interface EngineImage {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Size?: number;
}

/** Everything discovery needs, gathered by the adapter in one pass. */
export interface EngineState {
  containers: EngineContainer[];
  volumes: EngineVolume[];
  networks: EngineNetwork[];
  images: EngineImage[];
  /** Compose and .env files named by labels: path -> content, or null when absent on this host. */
  files: Record<string, string | null>;
}
