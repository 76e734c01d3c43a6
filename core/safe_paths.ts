/**
 * Which host paths stowage may back up (and later restore) as bind mounts. A bind of the whole
 * system, of the OS's own files, of kernel pseudo file systems, of Docker's private state or of
 * whole home directories is never saved: restoring it would damage the host, and saving it would
 * copy far more than the unit owns. Everything else is a "safe root".
 */
import { posix } from "node:path";

export interface PathVerdict {
  safe: boolean;
  /** Why it is unsafe; undefined when safe. */
  reason?: string;
}

/** Paths that are unsafe themselves and everything below them, with the reason. */
export const UNSAFE_TREES: readonly { path: string; reason: string }[] = [
  { path: "/etc", reason: "host system configuration (/etc)" },
  { path: "/var/lib/docker", reason: "Docker's own state (/var/lib/docker)" },
  { path: "/var/lib/containerd", reason: "containerd's own state (/var/lib/containerd)" },
  { path: "/proc", reason: "kernel pseudo file system (/proc)" },
  { path: "/sys", reason: "kernel pseudo file system (/sys)" },
  { path: "/dev", reason: "device files (/dev)" },
  { path: "/run", reason: "runtime state that does not survive a reboot (/run)" },
  { path: "/var/run", reason: "runtime state that does not survive a reboot (/var/run)" },
  { path: "/boot", reason: "boot loader and kernels (/boot)" },
  { path: "/usr", reason: "operating system software (/usr)" },
  { path: "/bin", reason: "operating system software (/bin)" },
  { path: "/sbin", reason: "operating system software (/sbin)" },
  { path: "/lib", reason: "operating system software (/lib)" },
  { path: "/lib32", reason: "operating system software (/lib32)" },
  { path: "/lib64", reason: "operating system software (/lib64)" },
  { path: "/libx32", reason: "operating system software (/libx32)" },
];

/** Paths that are unsafe exactly (a folder below them is fine). */
export const UNSAFE_EXACT: readonly { path: string; reason: string }[] = [
  { path: "/", reason: "the whole host file system (/)" },
  { path: "/home", reason: "all home directories (/home)" },
  { path: "/root", reason: "root's whole home directory (/root)" },
  { path: "/var", reason: "the whole of /var" },
  { path: "/var/lib", reason: "the state of every system service (/var/lib)" },
  { path: "/srv", reason: "the whole of /srv" },
  { path: "/opt", reason: "the whole of /opt" },
  { path: "/mnt", reason: "the whole of /mnt" },
  { path: "/media", reason: "the whole of /media" },
];

/** Lexically normalised absolute path without a trailing slash; undefined when relative. */
export function normalizePath(path: string): string | undefined {
  if (!posix.isAbsolute(path)) return undefined;
  const n = posix.normalize(path);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

/** True when `path` is `root` or below it (both normalised). */
export function isWithin(path: string, root: string): boolean {
  return path === root || path.startsWith(root === "/" ? "/" : `${root}/`);
}

/**
 * Decides whether a bind mount source may be backed up. `extraUnsafe` (config
 * `backup.unsafe_paths`) adds trees that are unsafe with everything below them.
 */
export function isSafeBindPath(path: string, extraUnsafe: readonly string[] = []): PathVerdict {
  const p = normalizePath(path);
  if (p === undefined) return { safe: false, reason: `not an absolute path: ${path}` };
  for (const u of UNSAFE_EXACT) {
    if (p === u.path) return { safe: false, reason: u.reason };
  }
  // A whole user home (/home/alice) is as much a host concern as /home; a folder inside it is not.
  if (posix.dirname(p) === "/home") return { safe: false, reason: `a whole home directory (${p})` };
  if (posix.basename(p) === "docker.sock" || posix.basename(p) === "containerd.sock") {
    return { safe: false, reason: `the container engine's control socket (${p})` };
  }
  for (const u of UNSAFE_TREES) {
    if (isWithin(p, u.path)) return { safe: false, reason: u.reason };
  }
  for (const extra of extraUnsafe) {
    const e = normalizePath(extra);
    if (e !== undefined && isWithin(p, e)) {
      return { safe: false, reason: `listed in backup.unsafe_paths (${e})` };
    }
  }
  return { safe: true };
}
