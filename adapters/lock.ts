/**
 * One backup at a time per host: an flock on `<state>/backup.lock`. The kernel drops the lock
 * when the process dies (even by SIGKILL), so there is never a stale lock to clean up; the pid and
 * start time written inside are only for the message a second run prints.
 */
import { StowageError } from "../core/errors.ts";
import {
  describeHolder,
  type HostLock,
  type LockHolder,
  type LockOptions,
} from "../core/host_lock.ts";

export { describeHolder };
export type { HostLock, LockHolder, LockOptions };

export async function acquireHostLock(
  path: string,
  opts: LockOptions,
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
