/**
 * A `restic` first on stowage's PATH that runs one shell line, then the real restic with the same
 * arguments: tests watch or hold what stowage asks restic to do while restic itself stays real.
 */
import { sh } from "./docker.ts";

/** Writes `${dir}/bin/restic`; `env.PATH` puts it first. `before` runs in sh before the exec. */
export async function resticShim(dir: string, before: string): Promise<{ env: { PATH: string } }> {
  const real = (await sh("sh", ["-c", "command -v restic"])).stdout.trim();
  await Deno.mkdir(`${dir}/bin`, { recursive: true });
  await Deno.writeTextFile(`${dir}/bin/restic`, `#!/bin/sh\n${before}\nexec '${real}' "$@"\n`, {
    mode: 0o755,
  });
  return { env: { PATH: `${dir}/bin:${Deno.env.get("PATH")}` } };
}

/** Every argument of every restic call, one per line, in `argvLog`. */
export async function recordingRestic(
  dir: string,
): Promise<{ env: { PATH: string }; argvLog: string }> {
  const argvLog = `${dir}/restic-argv`;
  return { ...await resticShim(dir, `printf '%s\\n' "$@" >> '${argvLog}'`), argvLog };
}

/** Each restic call waits until `open()` was called, then runs. */
export async function gatedRestic(
  dir: string,
): Promise<{ env: { PATH: string }; open(): Promise<void> }> {
  const gate = `${dir}/gate`;
  const shim = await resticShim(dir, `while [ ! -e '${gate}' ]; do sleep 0.05; done`);
  return { ...shim, open: () => Deno.writeTextFile(gate, "") };
}
