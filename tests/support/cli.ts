/**
 * Runs the CLI as a user would: `deno run -P=stowage main.ts ...`, under exactly the permission
 * set of `deno task stowage` and `deno task compile`, so a missing permission fails a test.
 */
const ROOT = new URL("../../", import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function stowage(
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string; cwd?: string; signal?: AbortSignal } = {},
): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-P=stowage",
      "--unstable-net",
      "--no-prompt",
      "--quiet",
      `${ROOT}main.ts`,
      ...args,
    ],
    cwd: opts.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...opts.env },
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: opts.signal,
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * `--allow-net` with the stowage set's own net list plus `extra` (a flag replaces the set's list,
 * so the union is spelled out). For tests whose unix sockets stand in for systemd's fixed paths
 * (/run/systemd/notify, /run/stowage/notify.sock): every other permission stays the set's.
 */
export function netFlagWith(extra: string[]): string[] {
  if (extra.length === 0) return [];
  const cfg = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)) as {
    permissions: { stowage: { net: string[] | true } };
  };
  // An unrestricted set (notification targets are any host) needs no addition.
  if (cfg.permissions.stowage.net === true) return [];
  return [`--allow-net=${[...cfg.permissions.stowage.net, ...extra].join(",")}`];
}

/** Spawns the CLI without waiting, for signal and lock tests. `extraNet`: see netFlagWith. */
export function spawnStowage(
  args: string[],
  opts: { env?: Record<string, string>; extraNet?: string[] } = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-P=stowage",
      ...netFlagWith(opts.extraNet ?? []),
      "--unstable-net",
      "--no-prompt",
      "--quiet",
      `${ROOT}main.ts`,
      ...args,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...opts.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** A private config + state dir for one test: returns env for `stowage()` and the paths. */
export async function isolatedEnv(
  config?: string,
): Promise<{ dir: string; configPath: string; stateDir: string; env: Record<string, string> }> {
  const dir = await Deno.makeTempDir({ prefix: "stowage-env-" });
  const stateDir = `${dir}/state`;
  const configPath = `${dir}/config.yaml`;
  if (config !== undefined) await Deno.writeTextFile(configPath, config, { mode: 0o600 });
  return {
    dir,
    configPath,
    stateDir,
    env: {
      STOWAGE_STATE_DIR: stateDir,
      ...(config !== undefined ? { STOWAGE_CONFIG: configPath } : {}),
    },
  };
}
