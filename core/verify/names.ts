/**
 * How sandbox objects are named and labelled, and which free IPv4 subnets they get. Every name is
 * derived from the unit and the run id, so the objects of one drill are recognisable (label
 * `stowage.sandbox=<run id>`) and can never be a live object's name. Pure.
 */
import { posix } from "node:path";

/** Every sandbox object carries this label with the run id as its value. */
export const SANDBOX_LABEL = "stowage.sandbox";
/** The unit a sandbox object was made for. */
export const SANDBOX_UNIT_LABEL = "stowage.sandbox.unit";

/** A run id: 8 lowercase hex digits. */
export const RUN_ID = /^[0-9a-f]{8}$/;

const ANONYMOUS = /^[0-9a-f]{64}$/;

/** The sandbox's project (stack) or container (standalone) name: `verify-<run>-<unit>`. */
export function sandboxName(unit: string, runId: string): string {
  const slug = unit.toLowerCase().replaceAll(/[^a-z0-9_-]+/g, "-").replace(/^[-_]+/, "")
    .slice(0, 40) || "unit";
  return `verify-${runId}-${slug}`;
}

/** The labels every sandbox object gets. */
export function sandboxLabels(runId: string, unit: string): Record<string, string> {
  return { [SANDBOX_LABEL]: runId, [SANDBOX_UNIT_LABEL]: unit };
}

/**
 * A sandbox name for a unit's volume or network: the unit's compose prefix is replaced by the
 * sandbox name (`shop_db` -> `verify-1a2b3c4d-shop_db`); an anonymous volume (64 hex digits)
 * stays anonymous-looking, its first 8 digits replaced by the run id, so restore still treats it
 * as the anonymous volume of its service.
 */
export function sandboxObjectName(name: string, unit: string, runId: string): string {
  if (ANONYMOUS.test(name)) return runId + name.slice(8);
  const sbx = sandboxName(unit, runId);
  const rest = name.startsWith(`${unit}_`) ? name.slice(unit.length + 1) : name;
  return `${sbx}_${rest}`;
}

/** Where a host folder (bind source, volume device) of the live unit goes in the sandbox. */
export function scratchPath(scratchDir: string, hostPath: string): string {
  return posix.join(scratchDir, "binds", posix.normalize(`/${hostPath}`));
}

/** Where the sandbox's compose files and other recipe files go. */
export function filesDir(scratchDir: string): string {
  return posix.join(scratchDir, "files");
}

// ---------------------------------------------------------------------------------------------
// IPv4 subnets

interface Cidr {
  base: number;
  bits: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const ip = ipNumber(octets);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (ip & mask) >>> 0, bits };
}

export function parseIp(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  return octets.some((o) => o > 255) ? undefined : ipNumber(octets);
}

function ipNumber(o: number[]): number {
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

export function ipText(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function size(c: Cidr): number {
  return 2 ** (32 - c.bits);
}

function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** The pool sandbox subnets come from (10.240.0.0/12), away from Docker's default pools. */
export const SANDBOX_POOL = "10.240.0.0/12";

/**
 * A free subnet of the same size for each wanted one (IPv4 CIDRs), none overlapping `used` (every
 * subnet of the host's networks) or each other. Unparseable or IPv6 subnets are left out of the
 * map; undefined values mean the pool is exhausted.
 */
export function allocateSubnets(
  wanted: string[],
  used: string[],
  pool: string = SANDBOX_POOL,
): Map<string, string | undefined> {
  const p = parseCidr(pool)!;
  const taken = used.map(parseCidr).filter((c): c is Cidr => c !== undefined);
  const out = new Map<string, string | undefined>();
  for (const w of wanted) {
    if (out.has(w)) continue;
    const c = parseCidr(w);
    if (!c) continue;
    const bits = Math.max(c.bits, p.bits);
    const step = 2 ** (32 - bits);
    let found: Cidr | undefined;
    for (let base = p.base; base + step <= p.base + size(p); base += step) {
      const cand = { base, bits };
      if (!taken.some((t) => overlaps(t, cand))) {
        found = cand;
        break;
      }
    }
    if (found) taken.push(found);
    out.set(w, found ? `${ipText(found.base)}/${found.bits}` : undefined);
  }
  return out;
}

/** An address moved from one subnet to another at the same offset; undefined when outside. */
export function remapIp(ip: string, from: string, to: string): string | undefined {
  const n = parseIp(ip);
  const f = parseCidr(from);
  const t = parseCidr(to);
  if (n === undefined || !f || !t) return undefined;
  const offset = n - f.base;
  if (offset < 0 || offset >= size(f) || offset >= size(t)) return undefined;
  return ipText(t.base + offset);
}

/** Moves `ip` with whichever of the remapped subnets contains it. */
export function remapAny(ip: string, subnets: Map<string, string | undefined>): string | undefined {
  for (const [from, to] of subnets) {
    if (!to) continue;
    const r = remapIp(ip, from, to);
    if (r) return r;
  }
  return undefined;
}

/** A CIDR-shaped range (ip_range) moved like an address, keeping its prefix length. */
export function remapRange(
  range: string,
  subnets: Map<string, string | undefined>,
): string | undefined {
  const slash = range.indexOf("/");
  if (slash < 0) return undefined;
  const ip = remapAny(range.slice(0, slash), subnets);
  return ip ? `${ip}${range.slice(slash)}` : undefined;
}
