/**
 * The host lock's shape: one backup, restore or recovery at a time per host. The flock itself is
 * `adapters/lock.ts`; the app layer uses it through `HostLocks` (app/services.ts).
 */
import type { Clock } from "./ports.ts";

export interface HostLock {
  release(): void;
  [Symbol.dispose](): void;
}

export interface LockHolder {
  pid: number;
  since: string;
  command?: string;
  /** The units it works on; absent for "all" or commands without units. */
  units?: string[];
}

export interface LockOptions {
  waitSeconds?: number;
  signal?: AbortSignal;
  clock: Clock;
  command?: string;
  units?: string[];
  /** Called once when the lock is busy and the caller waits for it. */
  onWait?: (holder: LockHolder | undefined) => void;
}

/** "the backup of db, web (pid 12, since ...)", from a holder file that may hold anything. */
export function describeHolder(h: LockHolder | undefined): string {
  if (!h || typeof h !== "object") return "another stowage process";
  const command = typeof h.command === "string" && /^[a-z -]{1,40}$/.test(h.command)
    ? h.command
    : "stowage run";
  const units = Array.isArray(h.units) && h.units.every((u) => typeof u === "string")
    ? h.units.slice(0, 5).map((u) => u.replace(/[^\w.-]/g, "?"))
    : [];
  const parts: string[] = [];
  if (Number.isInteger(h.pid)) parts.push(`pid ${h.pid}`);
  if (typeof h.since === "string") parts.push(`since ${h.since.slice(0, 40)}`);
  return `the ${command}${units.length ? ` of ${units.join(", ")}` : ""}${
    parts.length ? ` (${parts.join(", ")})` : ""
  }`;
}
