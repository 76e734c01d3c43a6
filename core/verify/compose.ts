/**
 * A unit's compose file rewritten for its sandbox: every named volume and network points at the
 * sandbox's own object (`external: true` with its sandbox name; compose creates none of the live
 * names), networks are internal, fixed addresses move into the sandbox subnets, published ports
 * and external links are dropped, bind sources move into the scratch folder, `container_name` is
 * rewritten, restart policies are off (a reboot never brings a sandbox back), CPU and memory are
 * capped, and every service carries the sandbox labels. Settings that cannot be sandboxed
 * (`network_mode: host`, another container's namespace or volumes) make the unit unverifiable,
 * with the reason. Pure; the YAML comes from the repository and is treated as untrusted data.
 */
import { parse, stringify } from "yaml";
import { posix } from "node:path";
import { remapAny, scratchPath } from "./names.ts";

export interface ComposeSandboxContext {
  unit: string;
  /** The sandbox project name. */
  project: string;
  /** The unit's working directory at backup time (relative bind sources resolve against it). */
  workingDir: string;
  scratchDir: string;
  /** Full live volume name -> sandbox name, for the volumes the sandbox creates itself. */
  volumes: Map<string, string>;
  /** Full live network name -> sandbox name, for the networks the sandbox creates itself. */
  networks: Map<string, string>;
  /** Live name of any other volume or network -> its sandbox name. */
  rename(name: string): string;
  subnets: Map<string, string | undefined>;
  labels: Record<string, string>;
  caps: { cpus?: number; memoryBytes?: number };
  /** Where a recipe file of this absolute path was written in the sandbox. */
  moveFile(path: string): string;
  /** `--allow-privileged`: settings that reach into the host are run as saved (and noted). */
  allowPrivileged?: boolean;
}

export interface ComposeSandboxResult {
  text: string;
  /** Why this file cannot run in a sandbox; empty when it can. */
  problems: string[];
  /** What was changed beyond names, for the report. */
  notes: string[];
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function sandboxCompose(text: string, ctx: ComposeSandboxContext): ComposeSandboxResult {
  const problems: string[] = [];
  const notes: string[] = [];
  const read = readCompose(text);
  if ("problem" in read) return { text, problems: [read.problem], notes };
  const doc = read.doc;
  const version = String(doc.version ?? "");
  const v3 = version.startsWith("3");

  const volumeKeys = sandboxVolumes(doc, ctx);
  const services = isObj(doc.services) ? doc.services : {};
  sandboxNetworks(doc, services, ctx);

  // Files named by absolute path come from the sandbox's copy, never from the live host.
  const file = (p: unknown) =>
    typeof p === "string" && posix.isAbsolute(p) ? ctx.moveFile(posix.normalize(p)) : p;
  for (const top of ["secrets", "configs"]) {
    const defs = doc[top];
    if (!isObj(defs)) continue;
    for (const d of Object.values(defs)) {
      if (isObj(d) && d.file !== undefined) d.file = file(d.file);
    }
  }

  const sandbox: ServiceSandbox = { ctx, file, volumeKeys, v3, problems, notes };
  for (const [svcName, raw] of Object.entries(services)) {
    if (!isObj(raw)) continue;
    sandboxService(raw, `service ${svcName}`, sandbox);
  }
  return { text: stringify(doc, { version: "1.1" }), problems, notes };
}

/** The compose file as a mapping, or why it cannot be sandboxed. */
function readCompose(text: string): { doc: Obj } | { problem: string } {
  let doc: unknown;
  try {
    // Compose reads YAML 1.1 (`no` is false, `0755` octal): parse and write it the same way.
    doc = parse(text, { version: "1.1" });
  } catch (e) {
    return { problem: `the compose file is not valid YAML (${String(e).slice(0, 120)})` };
  }
  // An override file may hold only volumes or networks; the legacy v1 format has no services key.
  if (!isObj(doc)) return { problem: "the compose file is not a mapping" };
  if (!isObj(doc.services) && doc.version === undefined && !doc.volumes && !doc.networks) {
    return { problem: "the compose file uses the legacy v1 format (no services key)" };
  }
  return { doc };
}

/**
 * Top-level volumes get their sandbox names: restored ones exist before `up` (external); any
 * other one compose creates, empty, under its sandbox name. Returns compose key -> sandbox name.
 */
function sandboxVolumes(doc: Obj, ctx: ComposeSandboxContext): Map<string, string> {
  const volumeKeys = new Map<string, string>(); // compose key -> sandbox name
  const topVolumes = isObj(doc.volumes) ? doc.volumes : {};
  for (const [key, raw] of Object.entries(topVolumes)) {
    const v = isObj(raw) ? raw : {};
    const live = liveName(key, v, ctx.unit);
    const name = ctx.volumes.get(live) ?? ctx.rename(live);
    volumeKeys.set(key, name);
    topVolumes[key] = ctx.volumes.has(live)
      ? { external: true, name }
      : { name, labels: { ...ctx.labels } };
  }
  if (Object.keys(topVolumes).length > 0) doc.volumes = topVolumes;
  return volumeKeys;
}

/** Top-level networks (and the default one services use) get sandbox names; new ones are internal. */
function sandboxNetworks(doc: Obj, services: Obj, ctx: ComposeSandboxContext) {
  const topNetworks = isObj(doc.networks) ? doc.networks : {};
  const usesDefault =
    Object.values(services).some((s) =>
      isObj(s) && s.networks === undefined && s.network_mode === undefined
    ) || Object.values(services).some((s) =>
      isObj(s) && (s.network_mode === "bridge" || s.network_mode === "default")
    );
  if (usesDefault && topNetworks.default === undefined && isObj(doc.services)) {
    topNetworks.default = {};
  }
  for (const [key, raw] of Object.entries(topNetworks)) {
    const n = isObj(raw) ? raw : {};
    const live = liveName(key, n, ctx.unit);
    const name = ctx.networks.get(live) ?? ctx.rename(live);
    topNetworks[key] = ctx.networks.has(live)
      ? { external: true, name }
      : { name, internal: true, labels: { ...ctx.labels } };
  }
  if (Object.keys(topNetworks).length > 0) doc.networks = topNetworks;
}

/** What every service's rewrite shares; problems and notes are appended in service order. */
interface ServiceSandbox {
  ctx: ComposeSandboxContext;
  /** An absolute file path -> the sandbox's copy of it. */
  file: (p: unknown) => unknown;
  volumeKeys: Map<string, string>;
  v3: boolean;
  problems: string[];
  notes: string[];
}

function sandboxService(s: Obj, where: string, sb: ServiceSandbox) {
  const { ctx, problems, notes } = sb;
  serviceFiles(s, sb.file);
  const powers = privilegedSettings(s);
  if (powers.length > 0 && !ctx.allowPrivileged) {
    problems.push(
      `${where} asks for ${
        powers.join(", ")
      }, which reach into the host (--allow-privileged runs it anyway)`,
    );
  } else if (powers.length > 0) notes.push(`${where} runs with ${powers.join(", ")}`);
  if (s.container_name !== undefined) {
    s.container_name = `${ctx.project}-${String(s.container_name)}`;
  }
  if (s.ports !== undefined) {
    delete s.ports;
    notes.push(`${where}: published ports dropped`);
  }
  delete s.external_links;
  // No restart policy (compose's default "no"): a reboot never brings a sandbox back.
  delete s.restart;
  serviceNamespaces(s, where, problems);
  serviceAddresses(s, where, ctx, problems);
  if (Array.isArray(s.volumes)) {
    s.volumes = s.volumes.map((m) => sandboxMount(m, ctx, sb.volumeKeys, where, problems));
  }
  s.labels = withLabels(s.labels, ctx.labels);
  serviceCaps(s, ctx.caps, sb.v3);
}

/** env files, extends and build contexts named by absolute path: the sandbox's copies. */
function serviceFiles(s: Obj, file: (p: unknown) => unknown) {
  if (typeof s.env_file === "string") s.env_file = file(s.env_file);
  else if (Array.isArray(s.env_file)) {
    s.env_file = s.env_file.map((e) => isObj(e) ? { ...e, path: file(e.path) } : file(e));
  }
  if (isObj(s.extends) && s.extends.file !== undefined) s.extends.file = file(s.extends.file);
  if (typeof s.build === "string") s.build = file(s.build);
  else if (isObj(s.build) && s.build.context !== undefined) {
    s.build.context = file(s.build.context);
  }
}

/** Host networking and another container's network, pid, ipc or volumes cannot be isolated. */
function serviceNamespaces(s: Obj, where: string, problems: string[]) {
  const mode = s.network_mode === undefined ? undefined : String(s.network_mode);
  if (mode === "host") {
    problems.push(`${where} uses network_mode: host, which cannot be isolated`);
  } else if (mode?.startsWith("container:")) {
    problems.push(`${where} joins the network of container ${mode.slice(10)} outside the unit`);
  } else if (mode === "bridge" || mode === "default") {
    delete s.network_mode;
  }
  for (const k of ["pid", "ipc"]) {
    const m = s[k] === undefined ? "" : String(s[k]);
    if (m.startsWith("container:")) {
      problems.push(
        `${where} shares the ${k} namespace of container ${m.slice(10)} outside the unit`,
      );
    }
  }
  if (Array.isArray(s.volumes_from)) {
    for (const f of s.volumes_from) {
      if (String(f).startsWith("container:")) {
        problems.push(
          `${where} takes the volumes of container ${String(f).slice(10)} outside the unit`,
        );
      }
    }
  }
}

/** Fixed IPv4 addresses move into the sandbox subnets; IPv6 and link-local ones are dropped. */
function serviceAddresses(
  s: Obj,
  where: string,
  ctx: ComposeSandboxContext,
  problems: string[],
) {
  if (!isObj(s.networks)) return;
  for (const [net, ep] of Object.entries(s.networks)) {
    if (!isObj(ep)) continue;
    if (typeof ep.ipv4_address === "string") {
      const moved = remapAny(ep.ipv4_address, ctx.subnets);
      if (moved) ep.ipv4_address = moved;
      else {
        problems.push(
          `${where}: fixed address ${ep.ipv4_address} on ${net} is outside every saved subnet`,
        );
      }
    }
    delete ep.ipv6_address;
    delete ep.link_local_ips;
  }
}

/** CPU and memory caps: under deploy.resources.limits for format 3, as cpus/mem_limit before. */
function serviceCaps(s: Obj, caps: ComposeSandboxContext["caps"], v3: boolean) {
  if (caps.cpus === undefined && caps.memoryBytes === undefined) return;
  if (v3) {
    const deploy = isObj(s.deploy) ? s.deploy : {};
    const resources = isObj(deploy.resources) ? deploy.resources : {};
    const limits: Obj = isObj(resources.limits) ? resources.limits : {};
    if (caps.cpus !== undefined) limits.cpus = String(caps.cpus);
    if (caps.memoryBytes !== undefined) limits.memory = `${caps.memoryBytes}b`;
    resources.limits = limits;
    deploy.resources = resources;
    s.deploy = deploy;
  } else {
    if (caps.cpus !== undefined) s.cpus = caps.cpus;
    if (caps.memoryBytes !== undefined) {
      s.mem_limit = caps.memoryBytes;
      delete s.memswap_limit;
    }
  }
}

/** The name compose gives a top-level volume or network: `name:`, an external name, or project_key. */
function liveName(key: string, def: Obj, unit: string): string {
  if (typeof def.name === "string") return def.name;
  const ext = def.external;
  if (isObj(ext) && typeof ext.name === "string") return ext.name;
  if (ext === true) return key;
  return `${unit}_${key}`;
}

function withLabels(labels: unknown, add: Record<string, string>): unknown {
  if (Array.isArray(labels)) {
    const keep = labels.filter((l) => !Object.keys(add).some((k) => String(l).startsWith(`${k}=`)));
    return [...keep, ...Object.entries(add).map(([k, v]) => `${k}=${v}`)];
  }
  return { ...(isObj(labels) ? labels : {}), ...add };
}

function sandboxMount(
  m: unknown,
  ctx: ComposeSandboxContext,
  volumeKeys: Map<string, string>,
  where: string,
  problems: string[],
): unknown {
  const bind = (src: string): string | undefined => {
    if (src.startsWith("~")) {
      problems.push(`${where} mounts ${src} from a home directory stowage cannot place`);
      return undefined;
    }
    const abs = posix.isAbsolute(src) ? src : posix.resolve(ctx.workingDir, src);
    return scratchPath(ctx.scratchDir, abs);
  };
  const isPath = (src: string) => src.startsWith("/") || src.startsWith(".") || src.startsWith("~");
  if (typeof m === "string") {
    const parts = m.split(":");
    if (parts.length < 2) return m; // an anonymous volume
    const [src, ...rest] = parts;
    if (isPath(src)) {
      const to = bind(src);
      return to ? [to, ...rest].join(":") : m;
    }
    if (!volumeKeys.has(src)) {
      // A volume no top-level key declares: compose 1.29 refuses it; keep the sandbox away anyway.
      problems.push(`${where} mounts volume ${src}, which the compose file does not declare`);
    }
    return m;
  }
  if (isObj(m)) {
    const type = String(m.type ?? "volume");
    const src = typeof m.source === "string" ? m.source : undefined;
    if (type === "bind" && src) {
      const to = bind(src);
      if (to) m.source = to;
    } else if (type === "volume" && src && !volumeKeys.has(src)) {
      problems.push(`${where} mounts volume ${src}, which the compose file does not declare`);
    }
  }
  return m;
}

/** What in a service reaches past its container (restore's rule for standalone containers). */
function privilegedSettings(s: Obj): string[] {
  const out: string[] = [];
  const list = (k: string) => (Array.isArray(s[k]) ? (s[k] as unknown[]) : []);
  if (s.privileged === true) out.push("privileged");
  for (const c of list("cap_add")) out.push(`capability ${String(c)}`);
  for (const d of list("devices")) {
    out.push(`device ${String(isObj(d) ? d.source : d).split(":")[0]}`);
  }
  for (const k of ["pid", "ipc", "userns_mode", "uts"]) if (s[k] === "host") out.push(`${k} host`);
  for (const o of list("security_opt")) {
    if (!String(o).startsWith("no-new-privileges")) out.push(`security option ${String(o)}`);
  }
  if (typeof s.cgroup_parent === "string") out.push("cgroup_parent");
  if (typeof s.runtime === "string" && s.runtime !== "runc") out.push(`runtime ${s.runtime}`);
  // The repository's text, printed in the report: no control characters, bounded.
  // deno-lint-ignore no-control-regex
  return out.map((x) => x.replaceAll(/[\u0000-\u001f\u007f]/g, "?").slice(0, 80));
}
