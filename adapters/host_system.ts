/** Facts about the host for the dependency report: its os-release and the programs on PATH. */
import { type OsRelease, parseOsRelease } from "../core/deps.ts";

export async function readOsRelease(): Promise<OsRelease | undefined> {
  for (const path of ["/etc/os-release", "/usr/lib/os-release"]) {
    try {
      return parseOsRelease(await Deno.readTextFile(path));
    } catch { /* try the next one */ }
  }
  return undefined;
}

/** Whether an executable named `program` is on PATH (or in the sbin dirs PATH often lacks). */
export async function onPath(
  env: (name: string) => string | undefined,
  program: string,
): Promise<boolean> {
  const dirs = [
    ...(env("PATH") ?? "").split(":").filter(Boolean),
    "/usr/local/sbin",
    "/usr/sbin",
    "/sbin",
  ];
  for (const dir of dirs) {
    try {
      const st = await Deno.stat(`${dir}/${program}`);
      if (st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0) return true;
    } catch { /* not here */ }
  }
  return false;
}
