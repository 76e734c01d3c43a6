/**
 * The sandbox plan of a restore drill: a restore point, its recipe and networks document turned
 * into the same inputs for a unit that does not exist yet (`verify-<run>-<unit>`), so the restore
 * planner and executor (core/restore/) can bring it up beside the live unit without touching it.
 * Volumes, networks, containers and the compose project get sandbox names; networks become
 * internal with free subnets and fixed addresses follow; published ports go; bind folders and
 * recipe files land in a scratch folder; restart policies are off; CPU and memory are capped;
 * every object carries the sandbox labels. `checkSandboxPlan` is the last word before anything
 * runs: a restore plan that would touch any object outside the sandbox is refused. Pure.
 */
import { posix } from "node:path";
import type { EngineContainer } from "../engine_types.ts";
import type { NetworkInfo, Unit } from "../model.ts";
import type { NetworksDocument, Recipe } from "../recipe.ts";
import type { DataSnapshot, RestorePoint } from "../restore/points.ts";
import type { RestorePlan } from "../restore/plan.ts";
import { COMPOSE_LABELS } from "../compose_labels.ts";
import { isWithin } from "../safe_paths.ts";
import {
  allocateSubnets,
  filesDir,
  remapAny,
  remapRange,
  sandboxLabels,
  sandboxName,
  sandboxObjectName,
  scratchPath,
} from "./names.ts";
import { sandboxCompose } from "./compose.ts";

export interface SandboxRequest {
  point: RestorePoint;
  recipe?: Recipe;
  networks?: NetworksDocument;
  /** 8 hex digits (names.ts RUN_ID). */
  runId: string;
  /** This drill's own folder: bind folders and recipe files go below it. */
  scratchDir: string;
  /** Every IPv4 subnet of the host's networks now. */
  usedSubnets: string[];
  caps: { cpus?: number; memoryBytes?: number };
  /** `--allow-privileged`: run services and containers with settings that reach into the host. */
  allowPrivileged?: boolean;
}

/** Everything a drill may create, recorded before the first of them exists. */
export interface SandboxObjects {
  runId: string;
  unit: string;
  /** Compose project, or the standalone container's name. */
  name: string;
  kind: Unit["kind"];
  containers: string[];
  volumes: string[];
  networks: string[];
  scratchDir: string;
}

export interface Sandbox {
  objects: SandboxObjects;
  /** The restore inputs, renamed into the sandbox. */
  point: RestorePoint;
  recipe?: Recipe;
  networks?: NetworksDocument;
  /** Why the unit cannot be verified in a sandbox; empty when it can. */
  problems: string[];
  notes: string[];
}

export function planSandbox(req: SandboxRequest): Sandbox {
  const { point, runId, scratchDir } = req;
  const unit = point.unit;
  const name = sandboxName(unit, runId);
  const ctx: SandboxNaming = {
    unit,
    name,
    labels: sandboxLabels(runId, unit),
    rename: (n: string) => sandboxObjectName(n, unit, runId),
    scratchDir,
  };
  const recipe = req.recipe ? structuredClone(req.recipe) : undefined;
  const kind: Unit["kind"] = recipe?.unit.kind ?? "stack";

  const data = sandboxData(point, ctx);
  const nets = sandboxNetworks(req, ctx, kind, recipe);
  const problems = [...nets.problems];
  const notes = [...nets.notes];
  const containers: string[] = [];
  if (recipe) {
    const r = sandboxRecipe(recipe, kind, req, ctx, data.volumeMap, nets);
    problems.push(...r.problems);
    notes.push(...r.notes);
    containers.push(...r.containers);
  }
  if (kind === "stack") {
    // Compose may create these itself (an undeclared default network, a volume not in the point).
    nets.networkMap.set(`${unit}_default`, `${name}_default`);
  }

  return {
    objects: {
      runId,
      unit,
      name,
      kind,
      containers,
      volumes: [...data.volumeMap.values()],
      networks: [...new Set(nets.networkMap.values())],
      scratchDir,
    },
    point: data.point,
    recipe,
    networks: req.networks
      ? { ...req.networks, unit: name, networks: nets.networks }
      : nets.networks.length
      ? { format: 1, backupId: point.backupId, unit: name, networks: nets.networks }
      : undefined,
    problems,
    notes,
  };
}

/** How one drill names things: the unit, its sandbox name and labels, the renamer, the folder. */
interface SandboxNaming {
  unit: string;
  name: string;
  labels: Record<string, string>;
  rename: (n: string) => string;
  scratchDir: string;
}

/** The point with sandbox names: volumes renamed, bind folders moved into the scratch folder. */
function sandboxData(
  point: RestorePoint,
  ctx: SandboxNaming,
): { point: RestorePoint; volumeMap: Map<string, string> } {
  const volumeMap = new Map<string, string>();
  const renameData = (d: DataSnapshot): DataSnapshot => {
    if (d.kind === "volume") {
      const to = ctx.rename(d.name);
      volumeMap.set(d.name, to);
      return { ...d, name: to };
    }
    return { ...d, name: scratchPath(ctx.scratchDir, d.name) };
  };
  return {
    point: {
      ...point,
      unit: ctx.name,
      volumes: point.volumes.map(renameData),
      binds: point.binds.map(renameData),
    },
    volumeMap,
  };
}

interface SandboxNetworks {
  networks: NetworkInfo[];
  /** Saved network name -> sandbox network name. */
  networkMap: Map<string, string>;
  /** Saved subnet -> free subnet of the same size (undefined: none left). */
  subnets: ReturnType<typeof allocateSubnets>;
  problems: string[];
  notes: string[];
}

/** Networks: internal, own free subnets, no fixed bridge name. */
function sandboxNetworks(
  req: SandboxRequest,
  ctx: SandboxNaming,
  kind: Unit["kind"],
  recipe: Recipe | undefined,
): SandboxNetworks {
  const problems: string[] = [];
  const notes: string[] = [];
  const saved = req.networks?.networks ?? [];
  const wanted = saved.flatMap((n) => n.ipam.config.map((c) => c.subnet ?? "")).filter(Boolean);
  const subnets = allocateSubnets(wanted, req.usedSubnets);
  for (const [from, to] of subnets) {
    if (!to) problems.push(`no free subnet of the size of ${from} is left for the sandbox`);
  }
  const networkMap = new Map<string, string>();
  const networks: NetworkInfo[] = saved.map((n) => {
    const to = ctx.rename(n.name);
    networkMap.set(n.name, to);
    return sandboxNetwork(n, to, subnets, ctx.labels, ctx.name);
  });
  // A standalone container on the default bridge gets an internal network of its own.
  const defaultNet = `${ctx.name}_net`;
  const mode = recipe?.containers[0]?.HostConfig.NetworkMode ?? "default";
  if (kind === "standalone" && (mode === "default" || mode === "bridge")) {
    networks.push({
      id: "",
      name: defaultNet,
      driver: "bridge",
      scope: "local",
      internal: true,
      attachable: false,
      enableIPv6: false,
      ipam: { driver: "default", config: [], options: {} },
      options: {},
      labels: { ...ctx.labels },
      containers: [],
    });
    networkMap.set("bridge", defaultNet);
  }
  if (saved.some((n) => n.enableIPv6)) notes.push("IPv6 is off in the sandbox");
  return { networks, networkMap, subnets, problems, notes };
}

/**
 * The recipe, changed in place for the sandbox: its files move into the scratch folder (compose
 * files rewritten by sandboxCompose), the unit is renamed, and a standalone container gets its
 * sandbox settings. Returns the containers the drill creates itself and what stops or marks it.
 */
function sandboxRecipe(
  recipe: Recipe,
  kind: Unit["kind"],
  req: SandboxRequest,
  ctx: SandboxNaming,
  volumeMap: Map<string, string>,
  nets: SandboxNetworks,
): { containers: string[]; problems: string[]; notes: string[] } {
  const { unit, name, labels, rename, scratchDir } = ctx;
  const problems: string[] = [];
  const notes: string[] = [];
  const containers: string[] = [];
  const wd = recipe.unit.workingDir ??
    posix.dirname(recipe.files.find((f) => f.kind === "compose")?.path ?? "/");
  const fdir = filesDir(scratchDir);
  const moveFile = (p: string) =>
    isWithin(p, wd) && p !== wd
      ? posix.join(fdir, posix.relative(wd, p))
      : posix.join(fdir, "_outside", posix.normalize(`/${p}`));
  for (const f of recipe.files) {
    const original = f.path;
    f.path = moveFile(f.path);
    if (f.kind !== "compose") continue;
    const out = sandboxCompose(f.content, {
      unit,
      project: name,
      workingDir: wd,
      scratchDir,
      volumes: volumeMap,
      networks: nets.networkMap,
      rename,
      subnets: nets.subnets,
      labels,
      caps: req.caps,
      moveFile,
      allowPrivileged: req.allowPrivileged,
    });
    f.content = out.text;
    problems.push(...out.problems.map((p) => `${posix.basename(original)}: ${p}`));
    notes.push(...out.notes);
  }
  recipe.unit = sandboxUnit(recipe.unit, {
    name,
    workingDir: fdir,
    rename,
    scratchDir,
    labels,
    networkMap: nets.networkMap,
  });
  if (kind === "standalone" && recipe.containers[0]) {
    const c = sandboxContainer(recipe.containers[0], {
      name,
      rename,
      scratchDir,
      labels,
      networkMap: nets.networkMap,
      subnets: nets.subnets,
      caps: req.caps,
    });
    recipe.containers = [c.container];
    problems.push(...c.problems);
    containers.push(name);
  } else recipe.containers = [];
  return { containers, problems, notes };
}

function sandboxNetwork(
  n: NetworkInfo,
  to: string,
  subnets: Map<string, string | undefined>,
  labels: Record<string, string>,
  project: string,
): NetworkInfo {
  const options = { ...(n.options ?? {}) };
  // A fixed bridge interface name would collide with the live network's.
  delete options["com.docker.network.bridge.name"];
  const config = n.ipam.config
    .filter((c) => c.subnet === undefined || subnets.get(c.subnet) !== undefined)
    .filter((c) => !(c.subnet ?? "").includes(":"))
    .map((c) => {
      const out: NetworkInfo["ipam"]["config"][number] = {};
      if (c.subnet) out.subnet = subnets.get(c.subnet)!;
      if (c.gateway) {
        const g = remapAny(c.gateway, subnets);
        if (g) out.gateway = g;
      }
      if (c.ipRange) {
        const r = remapRange(c.ipRange, subnets);
        if (r) out.ipRange = r;
      }
      return out;
    });
  return {
    ...n,
    id: "",
    name: to,
    internal: true,
    enableIPv6: false,
    ipam: { ...n.ipam, config },
    options,
    labels: { ...relabel(n.labels ?? {}, project), ...labels },
    containers: [],
  };
}

/** Compose labels that name the live project are pointed at the sandbox project. */
function relabel(labels: Record<string, string>, project: string): Record<string, string> {
  const out = { ...labels };
  if (out[COMPOSE_LABELS.project] !== undefined) out[COMPOSE_LABELS.project] = project;
  return out;
}

function sandboxUnit(
  u: Unit,
  ctx: {
    name: string;
    workingDir: string;
    rename: (n: string) => string;
    scratchDir: string;
    labels: Record<string, string>;
    networkMap: Map<string, string>;
  },
): Unit {
  const mountSource = (type: string, src: string) =>
    type === "volume" ? ctx.rename(src) : type === "bind" ? scratchPath(ctx.scratchDir, src) : src;
  return {
    ...u,
    name: ctx.name,
    workingDir: ctx.workingDir,
    files: u.files.map((f) => ({ ...f, path: posix.join(ctx.workingDir, posix.basename(f.path)) })),
    containers: u.containers.map((c) => ({
      ...c,
      name: u.kind === "standalone" ? ctx.name : `${ctx.name}_${c.service ?? c.name}_1`,
      labels: { ...relabel(c.labels, ctx.name), ...ctx.labels },
      mounts: c.mounts.map((m) => ({ ...m, source: mountSource(m.type, m.source) })),
      networks: {},
    })),
    volumes: u.volumes.map((v) => {
      const options = { ...(v.options ?? {}) };
      const bindLike = (options.o ?? "").split(",").map((o) => o.trim()).includes("bind");
      if (typeof options.device === "string" && bindLike) {
        options.device = scratchPath(ctx.scratchDir, options.device);
      }
      const { location: _location, ...rest } = v;
      return {
        ...rest,
        name: ctx.rename(v.name),
        mountpoint: "",
        options,
        labels: { ...relabel(v.labels ?? {}, ctx.name), ...ctx.labels },
        usedBy: [],
        external: false,
      };
    }),
    binds: u.binds.map((b) => ({ ...b, source: scratchPath(ctx.scratchDir, b.source) })),
    networks: [],
    references: undefined,
  };
}

/** The saved `docker inspect` of a standalone container, moved into the sandbox. */
export function sandboxContainer(
  saved: EngineContainer,
  ctx: {
    name: string;
    rename: (n: string) => string;
    scratchDir: string;
    labels: Record<string, string>;
    networkMap: Map<string, string>;
    subnets: Map<string, string | undefined>;
    caps: { cpus?: number; memoryBytes?: number };
  },
): { container: EngineContainer; problems: string[] } {
  const c = structuredClone(saved);
  const problems: string[] = [];
  c.Name = `/${ctx.name}`;
  c.Config.Labels = { ...(c.Config.Labels ?? {}), ...ctx.labels };
  const h = c.HostConfig;
  h.PortBindings = {};
  h.PublishAllPorts = false;
  h.RestartPolicy = { Name: "no", MaximumRetryCount: 0 };
  h.AutoRemove = false;
  delete h.Links;
  if (ctx.caps.cpus !== undefined) {
    h.NanoCpus = Math.round(ctx.caps.cpus * 1e9);
    delete h.CpuQuota;
    delete h.CpuPeriod;
  }
  if (ctx.caps.memoryBytes !== undefined) {
    h.Memory = ctx.caps.memoryBytes;
    delete h.MemorySwap;
  }
  if (Array.isArray(h.VolumesFrom) && h.VolumesFrom.length > 0) {
    problems.push(`container ${saved.Name.slice(1)} takes the volumes of other containers`);
  }
  const mode = h.NetworkMode ?? "default";
  if (mode === "host") {
    problems.push("the container uses the host's network, which cannot be isolated");
  } else if (mode.startsWith("container:")) {
    problems.push(`the container joins the network of ${mode.slice(10)} outside the unit`);
  }
  for (const k of ["PidMode", "IpcMode"]) {
    if (String(h[k] ?? "").startsWith("container:")) {
      problems.push(`the container shares the ${k} of ${String(h[k]).slice(10)} outside the unit`);
    }
  }
  if (mode === "default" || mode === "bridge") h.NetworkMode = ctx.networkMap.get("bridge");
  else if (ctx.networkMap.has(mode)) h.NetworkMode = ctx.networkMap.get(mode);
  h.Binds = (h.Binds ?? []).map((b) => {
    const [src, ...rest] = b.split(":");
    const to = src.startsWith("/") ? scratchPath(ctx.scratchDir, src) : ctx.rename(src);
    return [to, ...rest].join(":");
  });
  if (Array.isArray(h.Mounts)) {
    h.Mounts = (h.Mounts as Record<string, unknown>[]).map((m) => {
      const out = { ...m };
      if (m.Type === "bind" && typeof m.Source === "string") {
        out.Source = scratchPath(ctx.scratchDir, m.Source);
      }
      if (m.Type === "volume" && typeof m.Source === "string" && m.Source) {
        out.Source = ctx.rename(m.Source);
        delete out.VolumeOptions;
      }
      return out;
    });
  }
  c.Mounts = (c.Mounts ?? []).map((m) =>
    m.Type === "volume" && m.Name
      ? { ...m, Name: ctx.rename(m.Name), Source: "" }
      : m.Type === "bind"
      ? { ...m, Source: scratchPath(ctx.scratchDir, m.Source) }
      : m
  );
  const nets: Record<string, NonNullable<EngineContainer["NetworkSettings"]["Networks"]>[string]> =
    {};
  for (const [net, ep] of Object.entries(c.NetworkSettings.Networks ?? {})) {
    const to = ctx.networkMap.get(net);
    if (!to) continue;
    const v4 = ep.IPAMConfig?.IPv4Address;
    const moved = v4 ? remapAny(v4, ctx.subnets) : undefined;
    if (v4 && !moved) problems.push(`fixed address ${v4} on ${net} is outside every saved subnet`);
    nets[to] = {
      ...(moved ? { IPAMConfig: { IPv4Address: moved } } : {}),
      Aliases: (ep.Aliases ?? []).filter((a) => a !== saved.Name.slice(1)),
    };
  }
  c.NetworkSettings = { ...c.NetworkSettings, Networks: nets };
  return { container: c, problems };
}

/**
 * Everything a restore plan would touch, held against the sandbox's objects: names, folders,
 * the compose project. Any other object means a bug or a hostile recipe; the drill is refused.
 */
export function checkSandboxPlan(plan: RestorePlan, objects: SandboxObjects): string[] {
  const out: string[] = [];
  const inScratch = (p: string | undefined) => p !== undefined && isWithin(p, objects.scratchDir);
  if (plan.unit !== objects.name) out.push(`the plan is for ${plan.unit}, not ${objects.name}`);
  if (plan.stop.length) out.push(`the plan stops ${plan.stop.join(", ")}`);
  if (plan.restart.length) out.push(`the plan starts ${plan.restart.join(", ")}`);
  for (const o of plan.overwrites) out.push(`the plan overwrites ${o}`);
  for (const d of plan.data) {
    if (d.kind === "bind" && !inScratch(d.target)) {
      out.push(`bind folder ${d.name} goes to ${d.target ?? "?"}, outside ${objects.scratchDir}`);
    }
    if (d.kind === "volume") {
      if (!objects.volumes.includes(d.name)) out.push(`volume ${d.name} is not a sandbox volume`);
      if (!d.create && !d.anonymous) out.push(`volume ${d.name} exists already`);
      const device = d.create?.DriverOpts?.device;
      if (device !== undefined && !inScratch(device)) {
        out.push(`volume ${d.name} binds ${device}, outside ${objects.scratchDir}`);
      }
      if (d.create && d.target !== undefined && !inScratch(d.target)) {
        out.push(`volume ${d.name} is filled at ${d.target}, outside ${objects.scratchDir}`);
      }
    }
  }
  for (const n of plan.networks) {
    if (n.action !== "create") out.push(`network ${n.name} would be ${n.action}d`);
    if (!objects.networks.includes(n.name)) out.push(`network ${n.name} is not a sandbox network`);
    if (!n.spec.Internal) out.push(`network ${n.name} is not internal`);
  }
  for (const f of plan.files) {
    if (!inScratch(f.to)) out.push(`file ${f.to} is outside ${objects.scratchDir}`);
  }
  if (plan.container) {
    if (plan.container.name !== objects.name || plan.container.replace) {
      out.push(`container ${plan.container.name} is not the sandbox's`);
    }
    const ports = (plan.container.body.HostConfig as Record<string, unknown> | undefined)
      ?.PortBindings;
    if (ports && Object.keys(ports).length > 0) out.push("the container publishes ports");
  }
  if (plan.compose) {
    if (plan.compose.project !== objects.name) {
      out.push(`compose runs project ${plan.compose.project}`);
    }
    if (!inScratch(plan.compose.cwd)) out.push(`compose runs in ${plan.compose.cwd}`);
  }
  return out;
}
