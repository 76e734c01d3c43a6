/**
 * One backup at a time per host: an flock on `<state>/backup.lock`. The kernel drops the lock
 * when the process dies (even by SIGKILL), so there is never a stale lock to clean up; the pid and
 * start time written inside are only for the message a second run prints.
 */
import { StowageError } from "../core/errors.ts";
import type { Clock } from "../core/ports.ts";

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

export async function acquireHostLock(
  path: string,
  opts: {
    waitSeconds?: number;
    signal?: AbortSignal;
    clock: Clock;
    command?: string;
    units?: string[];
    /** Called once when the lock is busy and the caller waits for it. */
    onWait?: (holder: LockHolder | undefined) => void;
  },
): Promise<HostLock> {
  const dir = path.substring(0, path.lastIndexOf("/"));
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  const deadline = opts.clock.now().getTime() + (opts.waitSeconds ?? 0) * 1000;
  try {
    let told = false;
    while (!(await file.tryLock(true))) {
      if (!told && (opts.waitSeconds ?? 0) > 0) {
        told = true;
        opts.onWait?.(await readHolder(path));
      }
      if (opts.clock.now().getTime() >= deadline) {
        const holder = await readHolder(path);
        const who = holder ? `pid ${holder.pid} since ${holder.since}` : "another process";
        throw new StowageError(
          "lock.held",
          `Cannot start: another backup is running (${who})`,
          opts.waitSeconds
            ? `It was still running after ${opts.waitSeconds} s; try again later.`
            : "Wait for it, or pass --wait SECONDS to queue behind it.",
        );
      }
      await opts.clock.sleep(500, opts.signal);
    }
  } catch (e) {
    file.close();
    throw e;
  }
  const holder: LockHolder = {
    pid: Deno.pid,
    since: opts.clock.now().toISOString(),
    command: opts.command,
    ...(opts.units?.length ? { units: opts.units } : {}),
  };
  await file.truncate(0);
  await file.write(new TextEncoder().encode(JSON.stringify(holder) + "\n"));
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    try {
      file.truncateSync(0);
      file.unlockSync();
    } catch { /* closing drops the lock anyway */ }
    file.close();
  };
  return { release, [Symbol.dispose]: release };
}

/** Who holds the lock, if anyone: for doctor and for messages. */
export async function lockHolder(path: string): Promise<LockHolder | undefined> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true, write: true });
  } catch {
    return undefined;
  }
  try {
    if (await file.tryLock(true)) {
      await file.unlock();
      return undefined;
    }
    return await readHolder(path);
  } finally {
    file.close();
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as LockHolder;
  } catch {
    return undefined;
  }
}
