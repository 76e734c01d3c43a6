/**
 * The real `tailscale` CLI, the `Tailnet` port of core/tailscale.ts: the tailnet's status
 * (`tailscale status --json`, parsed and checked by core/tailscale.ts) and a peer's latency
 * (`tailscale ping -c 1`). Tests put a stand-in on PATH (tests/support/tailscale.ts); nothing here
 * knows about it.
 */
import { StowageError } from "../core/errors.ts";
import type { ProcessRunner } from "../core/ports.ts";
import { parseTailscaleStatus, type Tailnet, type TailnetStatus } from "../core/tailscale.ts";

/** `pong from nas (100.64.0.2) via DERP(fra) in 23ms` / `... via 192.0.2.1:41641 in 1.2ms`. */
export function parsePing(out: string): number | undefined {
  const m = out.match(/^pong from .* in (\d+(?:\.\d+)?)\s*ms\s*$/m);
  return m ? Number(m[1]) : undefined;
}

export class TailscaleCli implements Tailnet {
  constructor(private runner: ProcessRunner, private binary = "tailscale") {}

  async status(): Promise<TailnetStatus> {
    const r = await this.runner.run(this.binary, ["status", "--json"], { timeoutMs: 15_000 });
    if (r.code !== 0) {
      const last = r.stderr.trim().split("\n").at(-1) ?? "";
      throw new StowageError(
        "dependency.missing",
        `Cannot read the tailnet: \`tailscale status --json\` exited ${r.code}${
          last ? ` (${last.slice(0, 200)})` : ""
        }`,
        "Start tailscaled and log in (`tailscale up`), then run the command again.",
      );
    }
    const status = parseTailscaleStatus(r.stdout);
    if (status.backendState && status.backendState !== "Running") {
      throw new StowageError(
        "dependency.missing",
        `Cannot use the tailnet: tailscale is ${status.backendState}, not Running`,
        "Run `tailscale up` (and log in), then run the command again.",
      );
    }
    return status;
  }

  async ping(ip: string): Promise<number | undefined> {
    const r = await this.runner.run(this.binary, ["ping", "-c", "1", "--timeout", "3s", ip], {
      timeoutMs: 10_000,
    }).catch(() => undefined);
    return r && r.code === 0 ? parsePing(r.stdout) : undefined;
  }
}
