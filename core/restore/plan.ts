/**
 * The restore plan: a pure function from a restore point (with its recipe and networks document),
 * the options and a view of the host to every step a restore will take, what it overwrites, and
 * every conflict that stops it. `--dry-run` prints exactly this; the executor follows it.
 */
import { posix } from "node:path";
import { parseDocument } from "yaml";
import type { EngineContainer, EngineImage, EngineNetwork, EngineVolume } from "../engine_types.ts";
import { type ImageStep, planImages } from "./images.ts";
import { type AnonymousMount, deferAnonymousVolumes } from "./anonymous.ts";
import type { Unit, UnitKind } from "../model.ts";
import type { NetworksDocument, Recipe, RecipeFile } from "../recipe.ts";
import { checkReferencedFile } from "./references.ts";
import type { NetworkSpec, VolumeSpec } from "../ports.ts";
import { COMPOSE_LABELS } from "../compose_labels.ts";
import { startOrder, stopOrder } from "../order.ts";
import { closestN } from "../text.ts";
import { VOLUME_NAME } from "../tags.ts";
import { StowageError } from "../errors.ts";
import type { DataSnapshot, RestorePoint } from "./points.ts";
import {
  briefContainer,
  containerName,
  type ContainerRecreation,
  type EndpointConfig,
  recreateContainer,
} from "./container.ts";
import { networkDifferences, networkSpec } from "./network.ts";
import { composeVariables, parseEnvFile } from "./env_file.ts";
import { classifyVolume, type VolumeLocation } from "../volume_kind.ts";
import { REDACTED } from "../recipe.ts";
import {
  normalizeToDir,
  outsideError,
  resolveInside,
  safeMode,
  unsafeBindTarget,
  unsafeWorkingDir,
} from "./trust.ts";

export type Part = "recipe" | "volumes" | "networks";
export const PARTS: readonly Part[] = ["recipe", "volumes", "networks"];

export interface RestoreOptions {
  /** Empty: everything the restore point holds. `volumes` covers named volumes and bind folders. */
  parts: Part[];
  /** Volume names (full or compose short name) or bind paths; empty: all of them. */
  volumes: string[];
  /** Files only, under this directory; no Docker calls. */
  toDir?: string;
  start: boolean;
  stop: boolean;
  pinImages: boolean;
  /** What to do with an existing network whose configuration differs. */
  networks: "refuse" | "recreate" | "keep";
  /** Values for redacted variables (from --env-file or the terminal). Never printed. */
  secrets: Record<string, string>;
  /** Recreate a standalone container with privileged settings it was saved with (--allow-privileged). */
  allowPrivileged?: boolean;
  /** Config `backup.unsafe_paths`: bind folders there are never written. */
  unsafePaths?: string[];
}

export type PathState = "absent" | "empty" | "data" | "unreadable";

/** What the host looks like now, gathered by the executor before planning. */
export interface HostView {
  containers: EngineContainer[];
  volumes: EngineVolume[];
  /** Inspected networks (with their attached containers). */
  networks: EngineNetwork[];
  /** Probed folders (volume mountpoints, bind paths, --to-dir targets). */
  paths: Record<string, PathState>;
  /** Current text of files the recipe would write; null when absent. */
  files: Record<string, string | null>;
  /** Images on the host (to know which saved images must be loaded); undefined: not asked. */
  images?: EngineImage[];
  /** The compose program and leading arguments, e.g. ["docker-compose"] or ["docker", "compose"]. */
  composeCommand?: string[];
}

export interface RestoreInput {
  point: RestorePoint;
  recipe?: Recipe;
  networks?: NetworksDocument;
  options: RestoreOptions;
  /** Undefined with --to-dir. */
  host?: HostView;
}

export interface DataStep {
  kind: "volume" | "bind";
  name: string;
  snapshotId: string;
  source: "dir" | "archive";
  /** The folder's path inside a `dir` snapshot; the tar file's path for `archive`. */
  snapshotPath: string;
  /**
   * A snapshot with `item=` tags (format 3 `type=data`, format 4 `type=pre-restore`) holds other
   * folders too: restic restores only this one (`--include`, the path with glob characters escaped).
   */
  include?: string;
  /** Final folder; undefined until a volume that is created first has a mountpoint. */
  target?: string;
  /** Create the volume first (original driver, options, labels). */
  create?: VolumeSpec;
  state: PathState;
  /** Save the current content as a `type=pre-restore` snapshot before the swap. */
  preRestore: boolean;
  /** Containers that mount it now. */
  usedBy: string[];
  /**
   * An anonymous volume absent here: restored after compose `up` into the volume the new
   * container of this service mounts at this destination (core/restore/anonymous.ts).
   */
  anonymous?: AnonymousMount;
}

export interface NetworkStep {
  name: string;
  /** `conflict`: differs and nothing decided yet (listed in conflicts). */
  action: "create" | "identical" | "keep" | "recreate" | "conflict";
  spec: NetworkSpec;
  differences: string[];
  /** This unit's containers attached to the old network, connected again after a recreate. */
  reconnect: { container: string; endpoint: EndpointConfig }[];
}

export interface FileStep {
  /** Where the file was at backup time. */
  from: string;
  /** Where it will be written. */
  to: string;
  kind: RecipeFile["kind"] | "document";
  mode: number;
  content: string;
  /** Binary files of a build context are kept as base64 in the recipe. */
  encoding?: "base64";
  action: "write" | "identical" | "overwrite";
  pinned?: boolean;
}

export interface ContainerStep extends ContainerRecreation {
  /** An existing container of that name is removed first. */
  replace: boolean;
  start: boolean;
}

export interface ComposeStep {
  argv: string[];
  cwd: string;
  /** Variables from --env-file for the compose process (values never printed). */
  envNames: string[];
  project: string;
}

export interface Conflict {
  kind:
    | "in-use"
    | "other-unit"
    | "network"
    | "secret"
    | "container"
    | "unreadable"
    | "missing"
    | "privileged";
  item: string;
  message: string;
  /** What resolves it: a flag, or a choice on a terminal. */
  resolve?: "--stop" | "--recreate-networks|--keep-networks" | "--env-file" | "--allow-privileged";
}

export interface RestorePlan {
  unit: string;
  kind: UnitKind;
  backupId: string;
  host: string;
  time: string;
  scope?: string;
  pointKind: RestorePoint["kind"];
  toDir?: string;
  parts: Part[];
  data: DataStep[];
  networks: NetworkStep[];
  files: FileStep[];
  /** Set when the recipe's files go somewhere else than where they came from. */
  filesDir?: { original?: string; dir: string; relocated: boolean; reason?: string };
  container?: ContainerStep;
  /** Running containers of the unit to stop first, in stop order. */
  stop: string[];
  /** Containers started again at the end, in start order (unless compose brings the stack up). */
  restart: string[];
  compose?: ComposeStep;
  pins: { image: string; pinned: string }[];
  /** Saved images (no registry has them): loaded before the start when the host lacks them. */
  images?: ImageStep[];
  overwrites: string[];
  conflicts: Conflict[];
  warnings: string[];
}

/** Folders and files the planner wants probed, given the volumes that exist now. */
export function probeTargets(
  given: Omit<RestoreInput, "host">,
  volumes: EngineVolume[],
): { dirs: string[]; files: string[] } {
  const input = normalized(given);
  const dirs: string[] = [];
  const files: string[] = [];
  const parts = effectiveParts(input.point, input.options);
  if (parts.includes("volumes")) {
    for (const d of selectData(input.point, input.recipe, input.options.volumes)) {
      dirs.push(checkedTarget(d, input, volumes) ?? "");
    }
  }
  if (parts.includes("recipe") && input.recipe) {
    const wd = workingDir(input.recipe);
    checkRecipePaths(input.recipe, input.point.unit, input.options.toDir);
    for (const f of input.recipe.files) {
      files.push(f.path);
      if (input.options.toDir) files.push(relocate(f.path, wd, input.options.toDir));
      else if (wd) files.push(relocate(f.path, wd, relocationDir(wd, input.point.backupId)));
    }
    if (input.options.toDir) files.push(...documentTargets(input.options.toDir));
  }
  return { dirs: dirs.filter(Boolean), files: [...new Set(files)] };
}

export function planRestore(given: RestoreInput): RestorePlan {
  const input = normalized(given);
  const { point, recipe, host } = input;
  const ownContainers = host ? host.containers.filter((c) => belongsTo(c, point.unit)) : [];
  const plan = emptyPlan(input, ownContainers);
  if (!input.options.toDir && !host) {
    throw new Error("planRestore: a host view is required without --to-dir");
  }
  const ctx: Planning = {
    input,
    unit: recipe?.unit,
    ownContainers,
    ownNames: new Set(ownContainers.map(containerName)),
    parts: plan.parts,
  };
  planData(plan, ctx);
  planNetworks(plan, ctx);
  planRecipe(plan, ctx);
  planNetworksDocument(plan, ctx);
  guardFiles(plan, recipe);
  planStopStart(plan, ctx);
  return plan;
}

/** What every planning step reads: the normalized input and the unit's containers here now. */
interface Planning {
  input: RestoreInput;
  unit?: Unit;
  /** The unit's containers on the host (none with --to-dir). */
  ownContainers: EngineContainer[];
  ownNames: Set<string>;
  parts: Part[];
}

const running = (c: EngineContainer) => c.State.Running;

/** The plan's header, every list empty; the unit's kind from its recipe or the host. */
function emptyPlan(input: RestoreInput, ownContainers: EngineContainer[]): RestorePlan {
  const { point, recipe, options } = input;
  const toDir = options.toDir;
  const unit = recipe?.unit;
  // Without a recipe (scope minimal, pre-restore points) the host tells what the unit is.
  const kind: UnitKind = unit?.kind ??
    (ownContainers.length > 0 &&
        !ownContainers.some((c) => c.Config.Labels?.[COMPOSE_LABELS.project])
      ? "standalone"
      : "stack");
  const parts = effectiveParts(point, options);
  const plan: RestorePlan = {
    unit: point.unit,
    kind,
    backupId: point.backupId,
    host: point.host,
    time: point.time,
    scope: point.scope,
    pointKind: point.kind,
    toDir,
    parts,
    data: [],
    networks: [],
    files: [],
    stop: [],
    restart: [],
    pins: [],
    overwrites: [],
    conflicts: [],
    warnings: [],
  };
  return plan;
}

/** Data: volumes and bind folders. */
function planData(plan: RestorePlan, ctx: Planning) {
  const { input, unit, ownNames, parts } = ctx;
  const { point, recipe, options, host } = input;
  const toDir = options.toDir;
  if (parts.includes("volumes")) {
    for (const d of selectData(point, recipe, options.volumes)) {
      const meta = unit?.volumes.find((v) => v.name === d.name);
      const existing = host?.volumes.find((v) => v.Name === d.name);
      const target = checkedTarget(d, input, host?.volumes ?? []);
      const state: PathState = target === undefined ? "absent" : host?.paths[target] ?? "absent";
      if (d.source === "dir" && resolveInside("/", d.path, { allowRoot: true }) !== d.path) {
        // restic's own paths list is data from the repository too: a `..` would lead out of staging.
        throw outsideError(
          point.unit,
          `${d.kind} '${d.name}' is stored at`,
          d.path,
          "a normalised absolute path",
        );
      }
      const step: DataStep = {
        kind: d.kind,
        name: d.name,
        snapshotId: d.snapshot.id,
        source: d.source,
        snapshotPath: d.source === "archive" ? `/${d.name}.tar` : d.path,
        // Several folders in one snapshot (`item=` tags): restore only this one.
        ...(d.snapshot.items ? { include: includePattern(d.path) } : {}),
        target,
        state,
        preRestore: !toDir && state === "data",
        usedBy: [],
      };
      if (d.kind === "volume" && !toDir && !existing) {
        step.create = {
          Name: d.name,
          Driver: meta?.driver || "local",
          DriverOpts: meta?.options ?? {},
          Labels: meta?.labels ?? {},
        };
        checkVolumeOptions(point.unit, step.create);
        if (!meta) {
          plan.warnings.push(
            `volume ${d.name}: no recipe in this restore point, so it is created with the default driver and no labels`,
          );
        }
      }
      if (d.kind === "volume" && !toDir) checkVolumeKind(plan, step, existing, meta);
      if (state === "unreadable") {
        plan.conflicts.push({
          kind: "unreadable",
          item: d.name,
          message:
            `Cannot restore ${d.kind} '${d.name}': its folder ${target} is not accessible to stowage`,
        });
      }
      if (host && !toDir) {
        const users = host.containers.filter((c) => mounts(c, d));
        step.usedBy = users.map(containerName).sort();
        const foreign = users.filter((c) => !ownNames.has(containerName(c)));
        if (foreign.length > 0) {
          plan.conflicts.push({
            kind: "other-unit",
            item: d.name,
            message: `Cannot restore ${d.kind} '${d.name}': it is also used by ${
              foreign.map((c) => `'${containerName(c)}'`).join(", ")
            } of another unit`,
          });
        }
        const busy = users.filter((c) => running(c) && ownNames.has(containerName(c)));
        if (busy.length > 0 && !options.stop) {
          plan.conflicts.push({
            kind: "in-use",
            item: d.name,
            message: `Cannot restore ${d.kind} '${d.name}': it is in use by running container ${
              busy.map((c) => `'${containerName(c)}'`).join(", ")
            }`,
            resolve: "--stop",
          });
        }
      }
      if (state === "data") {
        plan.overwrites.push(
          toDir
            ? `folder ${target} (replaced)`
            : `${
              d.kind === "volume" ? "volume" : "bind folder"
            } ${d.name} (has data; saved first as a pre-restore snapshot)`,
        );
      }
      plan.data.push(step);
    }
  }
}

/** Networks: created, identical, kept, recreated (reconnecting the unit's containers) or a conflict. */
function planNetworks(plan: RestorePlan, ctx: Planning) {
  const { input, ownContainers, ownNames, parts } = ctx;
  const { options, host } = input;
  const toDir = options.toDir;
  const networksDoc = input.networks;
  if (parts.includes("networks") && networksDoc && !toDir && host) {
    for (const n of networksDoc.networks) {
      const spec = networkSpec(n);
      const current = host.networks.find((x) => x.Name === n.name);
      if (!current) {
        plan.networks.push({
          name: n.name,
          action: "create",
          spec,
          differences: [],
          reconnect: [],
        });
        continue;
      }
      const differences = networkDifferences(n, current);
      if (differences.length === 0) {
        plan.networks.push({ name: n.name, action: "identical", spec, differences, reconnect: [] });
        continue;
      }
      if (options.networks === "keep") {
        plan.networks.push({ name: n.name, action: "keep", spec, differences, reconnect: [] });
        plan.warnings.push(
          `network ${n.name} exists with a different configuration and is kept as it is (${
            differences.join("; ")
          })`,
        );
        continue;
      }
      if (options.networks === "refuse") {
        plan.conflicts.push({
          kind: "network",
          item: n.name,
          message: `Cannot restore network '${n.name}': it exists with a different configuration (${
            differences.join("; ")
          })`,
          resolve: "--recreate-networks|--keep-networks",
        });
        plan.networks.push({ name: n.name, action: "conflict", spec, differences, reconnect: [] });
        continue;
      }
      const attached = Object.values(current.Containers ?? {}).map((c) => c.Name);
      const foreign = attached.filter((name) => !ownNames.has(name));
      if (foreign.length > 0) {
        plan.conflicts.push({
          kind: "other-unit",
          item: n.name,
          message: `Cannot recreate network '${n.name}': containers of other units are attached (${
            foreign.map((f) => `'${f}'`).join(", ")
          }); stowage does not disconnect them`,
        });
      }
      // Stopped containers keep a reference to the network without an endpoint: reconnect them.
      const reconnect = ownContainers
        .filter((c) => c.NetworkSettings.Networks?.[n.name])
        .map((c) => ({ container: containerName(c), endpoint: endpointOf(c, n.name) }));
      const busy = ownContainers.filter((c) => running(c) && c.NetworkSettings.Networks?.[n.name]);
      if (busy.length > 0 && !options.stop) {
        plan.conflicts.push({
          kind: "in-use",
          item: n.name,
          message: `Cannot recreate network '${n.name}': running container ${
            busy.map((c) => `'${containerName(c)}'`).join(", ")
          } is attached`,
          resolve: "--stop",
        });
      }
      plan.networks.push({ name: n.name, action: "recreate", spec, differences, reconnect });
      plan.overwrites.push(
        `network ${n.name} (removed and created again: ${differences.join("; ")})`,
      );
    }
  }
}

/** Recipe: files, pinned images, a standalone container. */
function planRecipe(plan: RestorePlan, ctx: Planning) {
  const { input, unit, parts } = ctx;
  const { point, recipe, options, host } = input;
  const toDir = options.toDir;
  const digests = imageDigests(unit);
  if (parts.includes("recipe") && recipe) {
    planFiles(plan, input, digests);
    if (!toDir && host?.images) {
      const { steps, problems } = planImages(recipe, host.images);
      if (steps.length) plan.images = steps;
      plan.warnings.push(...problems);
    }
    planContainer(plan, ctx, digests);
    if (options.pinImages && digests.size === 0) {
      plan.warnings.push(
        "--pin-images: the backup recorded no image digests (locally built or imported images); image references are left as they are",
      );
    }
  } else if (parts.includes("recipe") && !recipe && options.parts.includes("recipe")) {
    plan.conflicts.push({
      kind: "missing",
      item: "recipe",
      message:
        `Cannot restore the recipe of '${point.unit}': restore point ${point.backupId} has none (scope ${
          point.scope ?? "?"
        })`,
    });
  }
}

/** A standalone container recreated from its saved settings. */
function planContainer(plan: RestorePlan, ctx: Planning, digests: Map<string, string>) {
  const { input } = ctx;
  const { recipe, options, host } = input;
  const toDir = options.toDir;
  if (toDir || !host || !recipe || recipe.unit.kind !== "standalone") return;
  if (recipe.containers.length === 0) return;
  const saved = recipe.containers[0];
  const ref = saved.Config.Image;
  const pinned = options.pinImages ? digests.get(ref) : undefined;
  if (pinned) plan.pins.push({ image: ref, pinned });
  const rec = recreateContainer(saved, options.secrets, pinned, {
    allowPrivileged: !!options.allowPrivileged,
    unsafePaths: options.unsafePaths,
  });
  const existing = host.containers.find((c) => containerName(c) === rec.name);
  if (rec.privileged.length > 0 && !options.allowPrivileged) {
    plan.conflicts.push({
      kind: "privileged",
      item: rec.name,
      message: `Cannot recreate container '${rec.name}' with ${
        rec.privileged.join(", ")
      }: the repository asks for more than a plain container`,
      resolve: "--allow-privileged",
    });
  } else if (rec.privileged.length > 0) {
    plan.warnings.push(
      `container ${rec.name} is recreated with ${rec.privileged.join(", ")} (--allow-privileged)`,
    );
  }
  if (rec.dropped.length > 0) {
    plan.warnings.push(
      `container ${rec.name}: saved settings stowage does not restore are left out (${
        rec.dropped.join(", ")
      })`,
    );
  }
  if (rec.missing.length > 0) {
    plan.conflicts.push({
      kind: "secret",
      item: rec.name,
      message: `Cannot recreate container '${rec.name}': no value for redacted ${
        rec.missing.join(", ")
      }`,
      resolve: "--env-file",
    });
  }
  if (existing && running(existing) && !options.stop) {
    plan.conflicts.push({
      kind: "in-use",
      item: rec.name,
      message: `Cannot recreate container '${rec.name}': it is running`,
      resolve: "--stop",
    });
  }
  const wasRunning = recipe.unit.containers.find((c) => c.name === rec.name)?.running ?? false;
  plan.container = {
    ...rec,
    replace: !!existing,
    start: options.start || (!!existing && running(existing)),
  };
  if (existing) {
    plan.overwrites.push(
      `container ${rec.name} (removed and created again from the saved settings)`,
    );
  }
  if (!options.start && wasRunning && !existing) {
    plan.warnings.push(
      `container ${rec.name} was running at backup time; add --start to start it`,
    );
  }
}

/** With --to-dir, the networks document is written beside the recipe's files. */
function planNetworksDocument(plan: RestorePlan, ctx: Planning) {
  const { input, parts } = ctx;
  const toDir = input.options.toDir;
  const networksDoc = input.networks;
  if (toDir && networksDoc && parts.includes("networks")) {
    const [, netPath] = documentTargets(toDir);
    addFile(plan, input, {
      from: "networks.json",
      to: netPath,
      kind: "document",
      mode: 0o600,
      content: JSON.stringify(networksDoc, null, 2) + "\n",
    });
  }
}

/** Stop, restart, start. */
function planStopStart(plan: RestorePlan, ctx: Planning) {
  const { input, unit, ownContainers } = ctx;
  const { recipe, options, host } = input;
  const toDir = options.toDir;
  if (host && !toDir) {
    const touching = plan.data.length > 0 || plan.networks.some((n) => n.action === "recreate") ||
      plan.container?.replace;
    const runningOwn = ownContainers.filter(running).map(containerName);
    if (options.stop && touching && runningOwn.length > 0) {
      const order = orderFor(unit, ownContainers);
      plan.stop = order.stop.filter((n) => runningOwn.includes(n));
      plan.restart = order.start.filter((n) =>
        runningOwn.includes(n) && n !== plan.container?.name
      );
    }
    if (options.start) planStart(plan, input, ownContainers);
    deferAnonymousVolumes(plan, recipe);
  }
}

function planFiles(plan: RestorePlan, input: RestoreInput, digests: Map<string, string>) {
  const recipe = input.recipe!;
  const toDir = input.options.toDir;
  const wd = workingDir(recipe);
  checkRecipePaths(recipe, plan.unit, toDir);
  const files = recipe.files.map((f) => {
    let content = f.content;
    let pinned = false;
    if (input.options.pinImages && f.kind === "compose" && digests.size > 0) {
      const out = pinCompose(f.content, digests);
      content = out.text;
      pinned = out.pins.length > 0;
      for (const p of out.pins) if (!plan.pins.some((x) => x.image === p.image)) plan.pins.push(p);
    }
    return { f, content, pinned };
  });
  let dir: string;
  let relocated = false;
  let reason: string | undefined;
  if (toDir) {
    dir = toDir;
    relocated = true;
  } else {
    const differing = recipe.files.filter((f) => {
      const now = input.host?.files[f.path];
      return now !== undefined && now !== null && now !== f.content;
    });
    dir = wd ?? "/";
    if (differing.length > 0 && wd) {
      dir = relocationDir(wd, plan.backupId);
      relocated = true;
      reason = `${differing.map((f) => f.path).join(", ")} ${
        differing.length === 1 ? "differs" : "differ"
      } from the backup`;
    }
  }
  if (recipe.files.length > 0) plan.filesDir = { original: wd, dir, relocated, reason };
  for (const { f, content, pinned } of files) {
    const to = relocated && wd
      ? relocate(f.path, wd, dir)
      : relocated
      ? posix.join(dir, basename(f.path))
      : f.path;
    const refused = checkReferencedFile(f, to);
    if (refused) {
      plan.conflicts.push({ kind: "unreadable", item: f.path, message: refused });
      continue;
    }
    const mode = safeMode(f.mode);
    if (mode !== f.mode) {
      plan.warnings.push(
        `file ${f.path}: mode ${f.mode.toString(8)} is restored as ${
          mode.toString(8)
        } (setuid, setgid and sticky bits are never restored)`,
      );
    }
    addFile(plan, input, {
      from: f.path,
      to,
      kind: f.kind,
      mode,
      content,
      pinned,
      ...(f.encoding === "base64" ? { encoding: "base64" as const } : {}),
    });
  }
  if (toDir) {
    const [recipePath] = documentTargets(toDir);
    addFile(plan, input, {
      from: "recipe.json",
      to: recipePath,
      kind: "document",
      mode: 0o600,
      content: JSON.stringify(recipe, null, 2) + "\n",
    });
  }
}

function addFile(plan: RestorePlan, input: RestoreInput, f: Omit<FileStep, "action">) {
  const now = input.host?.files[f.to];
  const action: FileStep["action"] = now === undefined || now === null
    ? "write"
    : now === f.content
    ? "identical"
    : "overwrite";
  if (action === "overwrite") plan.overwrites.push(`file ${f.to} (replaced)`);
  plan.files.push({ ...f, action });
}

function planStart(plan: RestorePlan, input: RestoreInput, own: EngineContainer[]) {
  const { recipe, options, host } = input;
  if (plan.kind === "standalone") {
    if (plan.container) plan.container.start = true;
    else {
      // Without the recipe, start what exists.
      for (const c of own) {
        if (!plan.restart.includes(containerName(c))) plan.restart.push(containerName(c));
      }
    }
    return;
  }
  const composeFiles = plan.files.filter((f) => f.kind === "compose");
  if (!recipe || composeFiles.length === 0) {
    if (own.length > 0) {
      const order = orderFor(recipe?.unit, own).start;
      for (const n of order) if (!plan.restart.includes(n)) plan.restart.push(n);
      plan.warnings.push(
        `--start: no compose files in this restore point; starting the existing containers of ${plan.unit} instead`,
      );
    } else {
      plan.conflicts.push({
        kind: "missing",
        item: "compose",
        message:
          `Cannot start '${plan.unit}': restore point ${plan.backupId} holds no compose file and no container of it exists`,
      });
    }
    return;
  }
  const command = host?.composeCommand;
  if (!command) {
    plan.conflicts.push({
      kind: "missing",
      item: "compose",
      message:
        `Cannot start '${plan.unit}': neither 'docker compose' nor 'docker-compose' is installed`,
    });
    return;
  }
  const dir = plan.filesDir?.dir ?? recipe.unit.workingDir ?? "/";
  plan.compose = {
    argv: [...command, "-p", plan.unit, ...composeFiles.flatMap((f) => ["-f", f.to]), "up", "-d"],
    cwd: dir,
    envNames: Object.keys(options.secrets).sort(),
    project: plan.unit,
  };
  // compose starts everything, including what was stopped; `restart` stays as the fallback the
  // executor uses when the restore fails before compose runs.
  const defined = new Set<string>(Object.keys(options.secrets));
  for (const f of plan.files.filter((f) => f.kind === "env")) {
    try {
      for (const k of Object.keys(parseEnvFile(f.content))) defined.add(k);
    } catch { /* an unusual .env is compose's business */ }
  }
  const unset = [...new Set(composeFiles.flatMap((f) => composeVariables(f.content)))].filter((v) =>
    !defined.has(v)
  );
  if (unset.length > 0) {
    plan.warnings.push(
      `the compose files use ${
        unset.join(", ")
      }, which no restored .env file or --env-file sets; docker compose takes them from its environment or leaves them blank`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

export function effectiveParts(point: RestorePoint, options: RestoreOptions): Part[] {
  const asked = options.parts.length > 0 ? options.parts : [...PARTS];
  // A pre-restore point holds data only.
  return point.kind === "pre-restore" ? asked.filter((p) => p === "volumes") : [...asked];
}

/** The data snapshots the options select; an unknown --volume name is an error with suggestions. */
export function selectData(
  point: RestorePoint,
  recipe: Recipe | undefined,
  wanted: string[],
): DataSnapshot[] {
  const all = [...point.volumes, ...point.binds];
  if (wanted.length === 0) return all;
  const shortName = (name: string) =>
    recipe?.unit.volumes.find((v) => v.name === name)?.composeName;
  return wanted.map((w) => {
    const hit = all.find((d) =>
      d.name === w ||
      (d.kind === "volume" && (shortName(d.name) === w || d.name === `${point.unit}_${w}`))
    );
    if (hit) return hit;
    const near = closestN(w, all.map((d) => d.name), 3);
    throw new StowageError(
      "snapshot.notfound",
      `Cannot restore volume '${w}': restore point ${point.backupId} of '${point.unit}' has no such volume or bind folder`,
      near.length
        ? `Did you mean ${near.map((n) => `'${n}'`).join(", ")}?`
        : `It holds: ${all.map((d) => d.name).join(", ") || "no volumes"}.`,
    );
  }).filter((d, i, xs) => xs.indexOf(d) === i);
}

/** A restic `--include` pattern matching exactly `path` (and what is below it). */
export function includePattern(path: string): string {
  return path.replaceAll(/[\\*?[]/g, (c) => `\\${c}`);
}

/** Final folder of a data snapshot: the volume's mountpoint, the bind path, or below --to-dir. */
export function dataTarget(
  d: DataSnapshot,
  toDir: string | undefined,
  volumes: EngineVolume[],
  recipe?: Recipe,
): string | undefined {
  if (toDir) {
    return d.kind === "volume"
      ? posix.join(toDir, "volumes", d.name)
      : posix.join(toDir, "binds", d.name);
  }
  if (d.kind === "bind") return d.name;
  const loc = restoreLocation(d.name, volumes, recipe);
  // A bind-type volume's data lives in its device folder; `_data` is only where it is mounted.
  if (loc?.kind === "bind") return loc.unsafe ? undefined : loc.path;
  return volumes.find((v) => v.Name === d.name)?.Mountpoint;
}

/**
 * Where a volume's data lives on restore: the existing volume decides (its options are what the
 * Engine will mount), else the recipe's driver and options, classified again (the recipe is
 * untrusted: a stored `location` is never believed, the device folder passes the safe roots).
 */
export function restoreLocation(
  name: string,
  volumes: EngineVolume[],
  recipe: Recipe | undefined,
): VolumeLocation | undefined {
  const existing = volumes.find((v) => v.Name === name);
  if (existing) {
    return classifyVolume({
      driver: existing.Driver,
      options: existing.Options,
      mountpoint: existing.Mountpoint,
    });
  }
  const meta = recipe?.unit.volumes.find((v) => v.name === name);
  if (!meta) return undefined;
  const options = typeof meta.options === "object" && meta.options !== null
    ? Object.fromEntries(
      Object.entries(meta.options).filter(([, v]) => typeof v === "string"),
    ) as Record<string, string>
    : {};
  return classifyVolume({
    driver: typeof meta.driver === "string" ? meta.driver : "local",
    options,
    mountpoint: "",
  });
}

/**
 * Conflicts a volume's kind brings: a device folder outside the safe roots, data that is mounted
 * only while used (writing into `_data` would hide it under the mount), redacted driver options
 * a recreated volume would need.
 */
function checkVolumeKind(
  plan: RestorePlan,
  step: DataStep,
  existing: EngineVolume | undefined,
  meta: Unit["volumes"][number] | undefined,
) {
  const loc = existing
    ? classifyVolume({
      driver: existing.Driver,
      options: existing.Options,
      mountpoint: existing.Mountpoint,
    })
    : meta
    ? classifyVolume({ driver: meta.driver, options: step.create?.DriverOpts, mountpoint: "" })
    : undefined;
  if (loc?.kind === "bind" && loc.unsafe) {
    plan.conflicts.push({
      kind: "unreadable",
      item: step.name,
      message:
        `Cannot restore volume '${step.name}': it is a bind-type volume whose data folder is outside the safe roots (${loc.unsafe})`,
    });
  } else if (loc && loc.kind !== "local" && loc.kind !== "bind") {
    plan.conflicts.push({
      kind: "unreadable",
      item: step.name,
      message: `Cannot restore volume '${step.name}' in place: ${loc.describe}. ` +
        `Writing into its host folder would hide the data under the mount. Restore it with --to-dir DIR and copy it in through a container that mounts the volume`,
    });
  }
  const redacted = Object.entries(step.create?.DriverOpts ?? {})
    .filter(([, v]) => v.includes(REDACTED))
    .map(([k]) => k);
  if (redacted.length > 0) {
    plan.conflicts.push({
      kind: "secret",
      item: step.name,
      message: `Cannot create volume '${step.name}': driver option ${
        redacted.join(", ")
      } was redacted in the backup and must be supplied. Create the volume yourself (docker volume create --driver ${
        step.create?.Driver ?? "local"
      } -o ...) with the real value and run the restore again`,
    });
  }
}

/** The input with --to-dir normalised (`/` stays `/`, no trailing slash, no `..`). */
function normalized<T extends { options: RestoreOptions }>(input: T): T {
  if (input.options.toDir === undefined) return input;
  return { ...input, options: { ...input.options, toDir: normalizeToDir(input.options.toDir) } };
}

/** dataTarget, refused when it leaves its place (tags are checked already; this is the last word). */
function checkedTarget(
  d: DataSnapshot,
  input: Omit<RestoreInput, "host">,
  volumes: EngineVolume[],
): string | undefined {
  const toDir = input.options.toDir;
  const unit = input.point.unit;
  if (d.kind === "volume" && !VOLUME_NAME.safeParse(d.name).success) {
    throw outsideError(
      unit,
      "volume",
      d.name,
      "Docker's volume names ([a-zA-Z0-9][a-zA-Z0-9_.-]+)",
    );
  }
  const target = dataTarget(d, toDir, volumes, input.recipe);
  if (target === undefined) return undefined;
  if (toDir) {
    const root = d.kind === "volume" ? posix.join(toDir, "volumes") : posix.join(toDir, "binds");
    const inside = resolveInside(root, target);
    const oneLevel = d.kind !== "volume" || posix.dirname(inside ?? "") === root;
    if (inside === undefined || inside !== target || !oneLevel) {
      throw outsideError(unit, `${d.kind} '${d.name}' would go to`, target, `${root}`);
    }
    return target;
  }
  if (d.kind === "bind") {
    const why = unsafeBindTarget(target, input.options.unsafePaths ?? []);
    if (why) throw outsideError(unit, "bind folder", target, `the safe roots (${why})`);
  }
  if (d.kind === "volume" && restoreLocation(d.name, volumes, input.recipe)?.kind === "bind") {
    // A bind-type volume's device folder, even one the Engine reports, is held to the bind rules.
    const why = unsafeBindTarget(target, input.options.unsafePaths ?? []);
    if (why) throw outsideError(unit, "volume device folder", target, `the safe roots (${why})`);
  }
  return target;
}

/** A volume created with `o=bind` and a device is a bind in disguise: the same safe roots apply. */
function checkVolumeOptions(unit: string, spec: VolumeSpec) {
  const opts = spec.DriverOpts ?? {};
  const device = opts.device;
  const isBind = (opts.o ?? "").split(",").map((o) => o.trim()).includes("bind");
  if (device === undefined || !isBind) return;
  const why = unsafeBindTarget(device);
  if (why) {
    throw outsideError(unit, `volume '${spec.Name}' would bind`, device, `the safe roots (${why})`);
  }
}

/** Recipe files are written in place only inside the unit's working directory. */
function checkRecipePaths(recipe: Recipe, unit: string, toDir: string | undefined) {
  if (toDir || recipe.files.length === 0) return;
  const wd = workingDir(recipe);
  if (wd === undefined) {
    throw outsideError(
      unit,
      "recipe file",
      recipe.files[0].path,
      "a working directory (none saved)",
    );
  }
  const why = unsafeWorkingDir(wd);
  if (why) throw outsideError(unit, "working directory", wd, `the safe roots (${why})`);
  for (const f of recipe.files) {
    if (resolveInside(wd, f.path) === undefined) {
      throw outsideError(unit, "recipe file", f.path, `the unit's working directory ${wd}`);
    }
  }
}

/** Every file the plan writes resolves inside --to-dir, or the (relocated) working directory. */
function guardFiles(plan: RestorePlan, recipe: Recipe | undefined) {
  const root = plan.toDir ?? plan.filesDir?.dir ?? (recipe ? workingDir(recipe) : undefined);
  for (const f of plan.files) {
    if (root === undefined || resolveInside(root, f.to) !== f.to) {
      throw outsideError(plan.unit, "file", f.to, root ?? "any directory stowage writes to");
    }
  }
}

/** Where the recipe and networks documents go with --to-dir. */
export function documentTargets(toDir: string): [string, string] {
  return [posix.join(toDir, "stowage-recipe.json"), posix.join(toDir, "stowage-networks.json")];
}

export function relocationDir(workingDir: string, backupId: string): string {
  return `${trimSlash(workingDir)}.restored-${backupId}`;
}

function relocate(path: string, wd: string | undefined, dir: string): string {
  if (wd && (path.startsWith(trimSlash(wd) + "/"))) {
    return posix.join(dir, path.slice(trimSlash(wd).length + 1));
  }
  return posix.join(dir, basename(path));
}

function workingDir(recipe: Recipe): string | undefined {
  if (recipe.unit.workingDir) return recipe.unit.workingDir;
  const first = recipe.files.find((f) => f.kind === "compose");
  return first ? first.path.slice(0, first.path.lastIndexOf("/")) || "/" : undefined;
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

function trimSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, "") : p;
}

/** True when a container is part of the unit: its compose project, or the standalone name. */
export function belongsTo(c: EngineContainer, unit: string): boolean {
  const project = c.Config.Labels?.[COMPOSE_LABELS.project];
  return project ? project === unit : containerName(c) === unit;
}

function mounts(c: EngineContainer, d: DataSnapshot): boolean {
  return (c.Mounts ?? []).some((m) =>
    d.kind === "volume" ? m.Type === "volume" && m.Name === d.name : m.Type === "bind" &&
      (m.Source === d.name || m.Source.startsWith(d.name + "/") ||
        d.name.startsWith(m.Source + "/"))
  );
}

function endpointOf(c: EngineContainer, network: string): EndpointConfig {
  const e = c.NetworkSettings.Networks?.[network];
  const out: EndpointConfig = {};
  if (e?.IPAMConfig?.IPv4Address || e?.IPAMConfig?.IPv6Address) {
    out.IPAMConfig = {};
    if (e.IPAMConfig.IPv4Address) out.IPAMConfig.IPv4Address = e.IPAMConfig.IPv4Address;
    if (e.IPAMConfig.IPv6Address) out.IPAMConfig.IPv6Address = e.IPAMConfig.IPv6Address;
  }
  const aliases = (e?.Aliases ?? []).filter((a) => !c.Id.startsWith(a));
  if (aliases.length) out.Aliases = aliases;
  return out;
}

/** Stop/start order of the unit's current containers, using the saved dependencies when known. */
function orderFor(
  unit: Unit | undefined,
  own: EngineContainer[],
): { stop: string[]; start: string[] } {
  const containers = own.map(briefContainer);
  const u = { containers, dependsOn: unit?.dependsOn ?? {} };
  return { stop: stopOrder(u), start: startOrder(u) };
}

/** Image reference -> `repo@sha256:...` recorded at backup time (the digest of the same repo first). */
export function imageDigests(unit: Unit | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const img of unit?.images ?? []) {
    if (img.repoDigests.length === 0) continue;
    const repo = repoOf(img.reference);
    const same = img.repoDigests.find((d) => d.slice(0, d.indexOf("@")) === repo);
    out.set(img.reference, same ?? img.repoDigests[0]);
  }
  return out;
}

function repoOf(reference: string): string {
  const at = reference.indexOf("@");
  if (at >= 0) return reference.slice(0, at);
  const slash = reference.lastIndexOf("/");
  const colon = reference.lastIndexOf(":");
  return colon > slash ? reference.slice(0, colon) : reference;
}

/** Rewrites `image:` of compose services to recorded digests, keeping the rest of the file. */
export function pinCompose(
  text: string,
  digests: Map<string, string>,
): { text: string; pins: { image: string; pinned: string }[] } {
  const doc = parseDocument(text);
  const pins: { image: string; pinned: string }[] = [];
  const services = doc.get("services", true) as
    | { items?: { key: unknown; value: unknown }[] }
    | undefined;
  for (const item of services?.items ?? []) {
    const svc = item.value as
      | { get?(k: string): unknown; set?(k: string, v: unknown): void }
      | null;
    const image = svc?.get?.("image");
    if (typeof image !== "string") continue;
    const pinned = digests.get(image);
    if (!pinned) continue;
    svc!.set!("image", pinned);
    pins.push({ image, pinned });
  }
  return { text: pins.length > 0 ? doc.toString() : text, pins };
}
