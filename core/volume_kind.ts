/**
 * Where a named volume's data really lives, from its driver and driver options (Engine volume
 * inspect `Options`, compose `driver_opts`). The local driver keeps data in `<mountpoint>` (the
 * `.../_data` folder) only when it has no mount options; with options it MOUNTS something onto
 * that folder, and only while a container uses the volume. Reading `_data` of a stopped unit then
 * reads an empty folder, which is how a backup could save nothing and say ok (issue 17).
 * Pure; docs/discovery.md has the table of kinds.
 */
import { isSafeBindPath, normalizePath } from "./safe_paths.ts";

/**
 * - `local`: local driver without mount options: the data is in `_data`, read directly;
 * - `bind`: local driver with `o: bind` (compose `type: none, o: bind, device: DIR`): the data is
 *   in DIR on the host, read directly from there (if DIR is inside the safe roots);
 * - `mounted`: local driver mounting a network file system (nfs, cifs, ...) or a block device:
 *   there only while a container uses it, read through the Engine's archive API, which mounts it;
 * - `tmpfs`: local driver with `type: tmpfs`: memory, nothing survives a stop, nothing to save;
 * - `driver`: another volume driver (a plugin): read through the Engine's archive API.
 */
export type VolumeKind = "local" | "bind" | "mounted" | "tmpfs" | "driver";

export const VOLUME_KINDS: readonly VolumeKind[] = ["local", "bind", "mounted", "tmpfs", "driver"];

export interface VolumeLocation {
  kind: VolumeKind;
  /** Host folder to read directly: `_data` for `local`, the normalised device folder for `bind`. */
  path?: string;
  /** For `bind`: why the device folder may not be saved (outside the safe roots). */
  unsafe?: string;
  /** For `mounted`: the file system type (`nfs`, `cifs`, `ext4`, ...). */
  fsType?: string;
  /** For `mounted`: `network` (nfs/cifs/smb) or `block` (a /dev device) or `other`. */
  mountKind?: "network" | "block" | "other";
  /** One line for people: where the data is and how stowage reads it. Never holds option secrets. */
  describe: string;
}

/** File system types that reach another machine; the local driver mounts them while in use. */
export const NETWORK_FS_TYPES = new Set(["nfs", "nfs4", "cifs", "smb", "smb3", "smbfs"]);

export function classifyVolume(
  volume: {
    driver: string;
    options: Record<string, string> | null | undefined;
    mountpoint: string;
  },
  extraUnsafe: readonly string[] = [],
): VolumeLocation {
  const driver = volume.driver || "local";
  if (driver !== "local") {
    return {
      kind: "driver",
      describe:
        `kept by volume driver '${driver}', not readable from the host; read through a container that mounts it (Engine archive API)`,
    };
  }
  const opts = volume.options ?? {};
  const type = (opts.type ?? "").trim().toLowerCase();
  const device = (opts.device ?? "").trim();
  const o = (opts.o ?? "").split(",").map((x) => x.trim().toLowerCase());
  const isBind = o.includes("bind") || o.includes("rbind");
  if (type === "tmpfs") {
    return {
      kind: "tmpfs",
      describe: "a tmpfs-type volume: kept in memory and empty after every stop; nothing to save",
    };
  }
  if (isBind) {
    if (!device) {
      return {
        kind: "bind",
        unsafe: "the bind-type volume names no device folder",
        describe: "a bind-type volume without a device folder",
      };
    }
    const path = normalizePath(device);
    const verdict = isSafeBindPath(device, extraUnsafe);
    return {
      kind: "bind",
      ...(path ? { path } : {}),
      ...(verdict.safe ? {} : { unsafe: verdict.reason }),
      describe: `a bind-type volume: the data is in ${path ?? device} on the host, read from there`,
    };
  }
  if (type || device) {
    const fsType = type || "unknown";
    const mountKind = NETWORK_FS_TYPES.has(fsType)
      ? "network"
      : device.startsWith("/dev/")
      ? "block"
      : "other";
    const what = mountKind === "network"
      ? `a ${fsType} network share${device ? ` (${device})` : ""}`
      : mountKind === "block"
      ? `${fsType} on block device ${device}`
      : `a ${fsType} mount${device ? ` of ${device}` : ""}`;
    return {
      kind: "mounted",
      fsType,
      mountKind,
      describe:
        `${what}, mounted only while a container uses it; read through a stopped container that mounts it (Engine archive API)`,
    };
  }
  return {
    kind: "local",
    path: volume.mountpoint,
    describe: `a local volume: the data is in ${volume.mountpoint}, read from there`,
  };
}
