/**
 * Where the status endpoint may listen, pure. Loopback is the default and needs nothing; any
 * other address needs the explicit `--allow-remote-status` flag AND a bearer token file, because
 * /status names every stack on the host.
 */
import { StowageError } from "../errors.ts";

export interface ListenAddress {
  hostname: string;
  port: number;
}

export function parseListen(value: string): ListenAddress {
  const bad = () =>
    new StowageError(
      "usage",
      `Cannot use status address '${value}': expected HOST:PORT`,
      "Write it like 127.0.0.1:9876, [::1]:9876 or localhost:9876 (port 0 picks a free port).",
    );
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value.trim());
  if (!m) throw bad();
  const port = Number(m[3]);
  if (port > 65535) throw bad();
  return { hostname: m[1] ?? m[2], port };
}

export function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase();
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return v4 !== null && v4[1] === "127" && v4.slice(1).every((o) => Number(o) <= 255);
}

/** Throws a usage error when the address is not allowed; returns the parsed address. */
export function checkListenPolicy(
  opts: { listen: string; allowRemote: boolean; tokenFile?: string },
): ListenAddress {
  const addr = parseListen(opts.listen);
  if (isLoopback(addr.hostname)) return addr;
  if (!opts.allowRemote) {
    throw new StowageError(
      "usage",
      `Refusing to serve status on '${opts.listen}': it is not a loopback address`,
      "Use 127.0.0.1:PORT, or pass --allow-remote-status and set status.token_file to serve it to the network.",
    );
  }
  if (!opts.tokenFile) {
    throw new StowageError(
      "usage",
      `Refusing to serve status on '${opts.listen}' without a bearer token`,
      "Set status.token_file in the config to a file (mode 0600) holding a long random token.",
    );
  }
  return addr;
}

/** URL host part for an address (IPv6 in brackets). */
export function hostForUrl(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
