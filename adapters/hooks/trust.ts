/**
 * Hook modules and programs run with stowage's rights, usually root. Like sshd (StrictModes) and
 * sudo, refuse a file that someone else could have changed: the file and every directory above
 * it must be owned by root or by the user stowage runs as, and not writable by group or others.
 * A world-writable directory with the sticky bit owned by root (/tmp) is allowed: nobody else can
 * rename or delete what another user owns in it.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { StowageError } from "../../core/errors.ts";

/** Why `path` may not be run or imported as a hook, or undefined when it may. */
export async function untrustedReason(path: string): Promise<string | undefined> {
  let real: string;
  try {
    real = await Deno.realPath(isAbsolute(path) ? path : resolve(Deno.cwd(), path));
  } catch {
    return undefined; // a missing file is reported by whoever runs or imports it
  }
  const me = Deno.uid() ?? 0;
  let p = real;
  while (true) {
    const st = await Deno.stat(p);
    const mode = st.mode ?? 0;
    const what = p === real ? "it" : `its directory '${p}'`;
    if (st.uid !== 0 && st.uid !== me) {
      return `${what} is owned by uid ${st.uid}, not root${me === 0 ? "" : ` or uid ${me}`}`;
    }
    const sticky = st.isDirectory && (mode & 0o1000) !== 0 && st.uid === 0;
    if ((mode & 0o022) !== 0 && !sticky) {
      const by = (mode & 0o002) ? "everyone" : "its group";
      return `${what} is writable by ${by} (mode ${(mode & 0o7777).toString(8).padStart(4, "0")})`;
    }
    if (p === "/") return undefined;
    p = dirname(p);
  }
}

/** Throws `hook.failed` when `path` could have been changed by someone else. */
export async function assertTrustedHookFile(path: string, kind: "module" | "program") {
  const why = await untrustedReason(path);
  if (!why) return;
  throw new StowageError(
    "hook.failed",
    `Refusing hook ${kind} '${path}': ${why}, so another user could change what runs as ${
      (Deno.uid() ?? 0) === 0 ? "root" : "this user"
    }`,
    "chown root: the file and its directories, and chmod go-w them (e.g. chmod 0755 DIR; chmod 0644 or 0755 FILE).",
  );
}
