/**
 * The restore executor: follows a RestorePlan through the ports. Order matters for the promise
 * that a failure leaves the old state:
 *
 *   1. stage every volume/bind into a folder next to its target (containers still run);
 *   2. stop the unit's containers (--stop), save pre-restore snapshots of data about to be replaced;
 *   3. networks, then swap each staged folder in by rename, then files, then the container;
 *   4. always: start again what was stopped (or bring the stack up with compose), post hooks.
 *
 * A failure in step 1 removes the staging folders and the volumes it created; nothing else changed.
 */
import { removingStaleLocks } from "../stale_locks.ts";
import { errorMessage, isStowageError, StowageError } from "../errors.ts";
import type {
  BackupRepository,
  BackupSummary,
  Clock,
  DockerEngine,
  EngineInventory,
  EngineLifecycle,
  EventSink,
  ProcessRunner,
  RestartJournal,
} from "../ports.ts";
import { backupIdFor, buildTags, isoSeconds } from "../tags.ts";
import type { Scope } from "../model.ts";
import type { DataStep, RestorePlan } from "./plan.ts";
import type { RestoreFiles } from "./ports.ts";
import { preRestoreGroups, restoreBatches, type StageTarget } from "./batch.ts";
import { COMPOSE_LABELS } from "../compose_labels.ts";
import { decodeBase64 } from "../base64.ts";
import { splitReference } from "./images.ts";

export interface RestoreHookStatus {
  status: "ok" | "skip" | "failed";
  reason?: string;
  error?: string;
}

/** pre_restore / post_restore hooks, as wired by the CLI (core/hooks when present). */
export interface RestoreHooks {
  pre(plan: RestorePlan): Promise<RestoreHookStatus>;
  post(
    plan: RestorePlan,
    outcome: { status: "ok" | "failed"; snapshots: string[]; error?: string },
  ): Promise<RestoreHookStatus>;
}

/** Which containers a deferred anonymous volume goes into, stopped for the swap and started again. */
type AnonymousEngine = Pick<DockerEngine, "listContainers" | "stopContainer" | "startContainer">;
/** Saved images streamed in and tagged. */
type ImageLoadEngine = Pick<DockerEngine, "loadImage" | "listImages" | "tagImage">;

/**
 * What a restore does to Docker: create volumes (and remove those it created when it fails),
 * stop and start the unit, networks created, replaced and reconnected, the container replaced,
 * images loaded, the anonymous volumes compose `up` made filled, and the started containers
 * listed until they run.
 */
export type RestoreEngine =
  & EngineLifecycle
  & Pick<DockerEngine, "createVolume" | "removeVolume">
  & Pick<DockerEngine, "createNetwork" | "removeNetwork" | "connectNetwork">
  & AnonymousEngine
  & ImageLoadEngine;

export interface RestoreDeps {
  repo: BackupRepository;
  /** Absent with --to-dir: no Docker call at all. */
  engine?: RestoreEngine;
  runner: ProcessRunner;
  files: RestoreFiles;
  clock: Clock;
  sink: EventSink;
  /** This host's name, for pre-restore snapshots. */
  host: string;
  journal?: RestartJournal;
  /** This process's id, written into journal entries (who stopped the containers). */
  pid: number;
  hooks?: RestoreHooks;
  stopTimeoutSeconds: number;
  startTimeoutSeconds: number;
  signal?: AbortSignal;
}

export interface RestoredData {
  kind: "volume" | "bind";
  name: string;
  target: string;
  snapshotId: string;
  created: boolean;
  /** The `type=pre-restore` snapshot holding what was there before. */
  preRestoreSnapshot?: string;
}

export interface RunningContainer {
  name: string;
  state: string;
  health?: string;
}

export interface RestoreReport {
  operation: "restore";
  unit: string;
  backupId: string;
  /** backup_id of the pre-restore snapshots this run made. */
  restoreId: string;
  toDir?: string;
  ok: boolean;
  error?: { code: string; message: string; hint?: string; details?: string[] };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  data: RestoredData[];
  networks: { name: string; action: string }[];
  files: { path: string; action: string }[];
  filesDir?: string;
  container?: { name: string; id: string };
  stopped: string[];
  started: string[];
  running: RunningContainer[];
  /** Saved images loaded into the engine from the repository (references). */
  imagesLoaded?: string[];
  warnings: string[];
}

interface Staged {
  step: DataStep;
  target: string;
  staging: string;
  /** The restored folder inside the staging folder. */
  root: string;
  created: boolean;
}

/**
 * Runs the plan. `secrets` are the values for redacted variables (--env-file / the terminal): they
 * reach the compose process's environment and nothing else. Never throws for expected failures:
 * the report carries the error, after everything stopped was started again.
 */
export async function executeRestore(
  deps: RestoreDeps,
  plan: RestorePlan,
  secrets: Record<string, string> = {},
): Promise<RestoreReport> {
  const t0 = deps.clock.now();
  const restoreId = backupIdFor(t0);
  const report = newReport(plan, restoreId, t0);
  const log = (message: string, level: "info" | "warning" = "info") =>
    deps.sink.emit({ type: "log", level, message, unit: plan.unit, operation: "restore" });
  const engine = plan.toDir ? undefined : deps.engine;
  if (!plan.toDir && !engine) {
    throw new Error("executeRestore: an engine is required without --to-dir");
  }
  if (plan.conflicts.length > 0) {
    throw new Error("executeRestore: the plan has unresolved conflicts");
  }
  deps.sink.emit({
    type: "run.start",
    operation: "restore",
    backupId: plan.backupId,
    units: [plan.unit],
  });

  const refused = await preRestoreHooks(deps, plan);
  if (refused) return finish(deps, plan, report, t0, refused);

  const run: RestoreRun = {
    deps,
    plan,
    report,
    engine,
    log,
    restoreId,
    t0,
    staged: [],
    swapped: new Set(),
    createdVolumes: [],
    composeRan: false,
  };
  let failure: unknown;
  try {
    // 1. Stage. Containers keep running; nothing visible changes yet.
    await stageData(run);
    // 2. Stop, remember, save what is about to be replaced.
    const preRestore = await stopAndSave(run);
    // 3. Networks, data swap, files, container.
    await applyNetworks(run);
    await swapData(run, preRestore);
    await writeFiles(run);
    await loadImagesAndRecreate(run);
    // 4a. --start for a stack: compose brings everything up, including what was stopped.
    await composeUp(run, secrets);
  } catch (e) {
    failure = e;
  }
  await removeLeftovers(run, failure);
  // 4b. Start again what was stopped (also on failure), then the recreated container.
  failure = await startAgain(run, failure);
  return finish(deps, plan, report, t0, failure);
}

/** One restore run: what every step reads, and the staging state they share. */
interface RestoreRun {
  deps: RestoreDeps;
  plan: RestorePlan;
  report: RestoreReport;
  /** Undefined with --to-dir: no Docker call at all. */
  engine?: RestoreEngine;
  log: (message: string, level?: "info" | "warning") => void;
  /** backup_id of the pre-restore snapshots. */
  restoreId: string;
  t0: Date;
  staged: Staged[];
  /** Staged folders already swapped in (their staging folder is the old data now). */
  swapped: Set<Staged>;
  /** Volumes this run created, removed again when it fails before filling them. */
  createdVolumes: string[];
  /** Compose `up` was started (it starts what was stopped itself). */
  composeRan: boolean;
}

function newReport(plan: RestorePlan, restoreId: string, t0: Date): RestoreReport {
  const report: RestoreReport = {
    operation: "restore",
    unit: plan.unit,
    backupId: plan.backupId,
    restoreId,
    toDir: plan.toDir,
    ok: true,
    startedAt: t0.toISOString(),
    finishedAt: "",
    durationMs: 0,
    data: [],
    networks: [],
    files: [],
    filesDir: plan.filesDir?.relocated ? plan.filesDir.dir : undefined,
    stopped: [],
    started: [],
    running: [],
    warnings: [...plan.warnings],
  };
  return report;
}

/** pre_restore hooks; the error that ends the run before anything changed when one refuses. */
async function preRestoreHooks(
  deps: RestoreDeps,
  plan: RestorePlan,
): Promise<StowageError | undefined> {
  const pre = deps.hooks ? await deps.hooks.pre(plan) : { status: "ok" as const };
  if (pre.status === "ok") return undefined;
  const message = pre.status === "skip"
    ? `a pre_restore hook asked to skip: ${pre.reason ?? ""}`
    : `pre_restore hook failed: ${pre.error ?? ""}`;
  return new StowageError(
    "hook.failed",
    `Cannot restore '${plan.unit}': ${message}`,
    "Nothing was changed. Fix the hook or its precondition and run again.",
  );
}

/** 1. Stage. Containers keep running; nothing visible changes yet. */
async function stageData(run: RestoreRun) {
  const { deps, plan, engine, log, staged, createdVolumes } = run;
  const targets: (StageTarget & { created: boolean })[] = [];
  for (const step of plan.data) {
    checkAbort(deps.signal);
    if (step.anonymous) continue; // restored after `up`, into the new container's volume
    let target = step.target;
    let created = false;
    if (step.create && engine) {
      const v = await engine.createVolume(step.create);
      createdVolumes.push(step.name);
      // A bind-type volume's data goes to its device folder, which the plan already chose.
      target = step.target ?? v.Mountpoint;
      created = true;
      log(`created volume ${step.name} (driver ${v.Driver})`);
    }
    if (!target) {
      throw new StowageError(
        "restore.failed",
        `Cannot restore volume '${step.name}': the engine reports no mountpoint for it`,
        "Only volumes with a host folder (driver local) can be restored.",
      );
    }
    targets.push({ step, target, created });
  }
  // The folders of one data snapshot: one restic process for all of them (core/restore/batch.ts).
  if (deps.files.mountsOf) {
    const mounts = await deps.files.mountsOf(targets.map((t) => parentOf(t.target)));
    targets.forEach((t, i) => t.mount = mounts[i]);
  }
  for (const batch of restoreBatches(targets)) {
    checkAbort(deps.signal);
    log(
      `restoring ${batch.map((t) => `${t.step.kind} ${t.step.name}`).join(", ")} from snapshot ${
        batch[0].step.snapshotId.slice(0, 8)
      } into a staging folder`,
    );
    const done = batch.length === 1
      ? [await stage(deps, batch[0].step, batch[0].target)]
      : await stageBatch(deps, batch);
    staged.push(...done.map((s, i) => ({ ...s, created: batch[i].created })));
  }
  // Swapped in plan order, whatever the batches were.
  staged.sort((a, b) => plan.data.indexOf(a.step) - plan.data.indexOf(b.step));
}

/** 2. Stop, remember, save what is about to be replaced; the pre-restore snapshot id of each item. */
async function stopAndSave(run: RestoreRun): Promise<Map<string, string>> {
  const { deps, plan, report, engine, restoreId, t0, staged } = run;
  if (engine && plan.stop.length > 0) {
    await deps.journal?.record({
      unit: plan.unit,
      backupId: restoreId,
      pid: deps.pid,
      since: deps.clock.now().toISOString(),
      containers: plan.restart.length ? plan.restart : plan.stop.toReversed(),
    });
    for (const name of plan.stop) {
      checkAbort(deps.signal);
      await engine.stopContainer(name, deps.stopTimeoutSeconds);
      report.stopped.push(name);
      deps.sink.emit({ type: "container.stop", unit: plan.unit, container: name });
    }
  }
  const toSave: Staged[] = [];
  for (const s of staged) {
    checkAbort(deps.signal);
    if (!s.step.preRestore || plan.toDir) continue;
    // Re-probe: the state may have changed between planning and now.
    if ((await deps.files.probeDir(s.target)) === "data") toSave.push(s);
  }
  // One restic pass for every folder about to be replaced (the unit is down meanwhile).
  const preRestore = new Map<string, string>();
  for (const group of preRestoreGroups(toSave)) {
    checkAbort(deps.signal);
    const saved = await savePreRestore(deps, plan, group, restoreId, t0);
    for (const s of group) preRestore.set(`${s.step.kind}:${s.step.name}`, saved.snapshotId);
  }
  return preRestore;
}

/** 3a. Networks created or recreated (the unit's containers reconnected). */
async function applyNetworks(run: RestoreRun) {
  const { deps, plan, report, engine, log } = run;
  // 3. Networks, data swap, files, container.
  if (engine) {
    for (const n of plan.networks) {
      checkAbort(deps.signal);
      if (n.action === "create") {
        await engine.createNetwork(n.spec);
        log(`created network ${n.name}`);
      } else if (n.action === "recreate") {
        await engine.removeNetwork(n.name);
        await engine.createNetwork(n.spec);
        for (const r of n.reconnect) await engine.connectNetwork(n.name, r.container, r.endpoint);
        log(
          `recreated network ${n.name}${
            n.reconnect.length
              ? ` and reconnected ${n.reconnect.map((r) => r.container).join(", ")}`
              : ""
          }`,
        );
      }
      report.networks.push({ name: n.name, action: n.action });
    }
  }
}

/** 3b. Each staged folder swapped in by rename. */
async function swapData(run: RestoreRun, preRestore: Map<string, string>) {
  const { deps, report, log, staged, swapped } = run;
  for (const s of staged) {
    checkAbort(deps.signal);
    await swapIn(deps.files, s);
    swapped.add(s);
    report.data.push({
      kind: s.step.kind,
      name: s.step.name,
      target: s.target,
      snapshotId: s.step.snapshotId,
      created: s.created,
      preRestoreSnapshot: preRestore.get(`${s.step.kind}:${s.step.name}`),
    });
    log(`restored ${s.step.kind} ${s.step.name} (${s.target})`);
  }
}

/** 3c. The recipe's files. */
async function writeFiles(run: RestoreRun) {
  const { deps, plan, report, log } = run;
  for (const f of plan.files) {
    checkAbort(deps.signal);
    if (f.action !== "identical") {
      await deps.files.writeFile(
        f.to,
        f.encoding === "base64" ? decodeBase64(f.content) : f.content,
        f.mode,
      );
    }
    report.files.push({ path: f.to, action: f.action });
  }
  if (plan.files.length > 0) {
    log(
      `${plan.filesDir?.relocated ? "wrote the recipe files to" : "restored the recipe files in"} ${
        plan.filesDir?.dir ?? plan.toDir
      }`,
    );
  }
}

/** 3d. Saved images loaded, then the standalone container recreated. */
async function loadImagesAndRecreate(run: RestoreRun) {
  const { deps, plan, report, engine, log } = run;
  if (engine && plan.images?.some((i) => i.load || i.tag)) {
    report.imagesLoaded = await loadImages(deps, engine, plan, log);
  }
  if (engine && plan.container) {
    const c = plan.container;
    if (c.replace) await engine.removeContainer(c.name, { force: true });
    const id = await engine.createContainer(c.name, c.body);
    for (const n of c.connect) await engine.connectNetwork(n.network, c.name, n.endpoint);
    report.container = { name: c.name, id };
    log(`recreated container ${c.name}`);
  }
}

/** 4a. --start for a stack: compose brings everything up, including what was stopped. */
async function composeUp(run: RestoreRun, secrets: Record<string, string>) {
  const { deps, plan, report, engine, log } = run;
  if (plan.compose) {
    run.composeRan = true;
    const r = await deps.runner.run(plan.compose.argv[0], plan.compose.argv.slice(1), {
      cwd: plan.compose.cwd,
      env: secrets,
      signal: deps.signal,
    });
    if (r.code !== 0) {
      throw new StowageError(
        "restore.failed",
        `Cannot start '${plan.unit}': ${
          plan.compose.argv.slice(0, plan.compose.argv[0] === "docker" ? 2 : 1).join(" ")
        } up failed (exit ${r.code}): ${lastLines(r.stderr || r.stdout)}`,
        `The data and files are restored; fix the problem and run it yourself in ${plan.compose.cwd}.`,
      );
    }
    log(
      `started the stack with ${
        plan.compose.argv.slice(0, plan.compose.argv[0] === "docker" ? 2 : 1).join(" ")
      } -p ${plan.compose.project} up -d`,
    );
    if (engine) await restoreAnonymous(deps, engine, plan, report, log);
  }
}

/**
 * Whatever happened: staging folders go (what was swapped in has left them), created volumes of a
 * failed staging go.
 */
async function removeLeftovers(run: RestoreRun, failure: unknown) {
  const { deps, engine, staged, swapped, createdVolumes } = run;
  for (const dir of new Set(staged.map((s) => s.staging))) {
    await deps.files.removeTree(dir).catch(() => {});
  }
  if (failure && engine) {
    const filled = new Set([...swapped].map((s) => s.step.name));
    for (const name of createdVolumes) {
      if (!filled.has(name)) await engine.removeVolume(name).catch(() => {});
    }
  }
}

/**
 * 4b. Start again what was stopped (also on failure), then the recreated container; the run's
 * failure, or a new one when something could not be started.
 */
async function startAgain(run: RestoreRun, failure: unknown): Promise<unknown> {
  const { deps, plan, report, engine, composeRan } = run;
  if (engine) {
    const restart = plan.compose && composeRan && !failure ? [] : plan.restart;
    const failures: string[] = [];
    for (const name of restart) {
      try {
        await engine.startContainer(name);
        report.started.push(name);
        deps.sink.emit({ type: "container.start", unit: plan.unit, container: name });
      } catch (e) {
        failures.push(`${name}: ${errorMessage(e)}`);
      }
    }
    if (plan.container?.start && report.container && !failure) {
      try {
        await engine.startContainer(plan.container.name);
        report.started.push(plan.container.name);
        deps.sink.emit({
          type: "container.start",
          unit: plan.unit,
          container: plan.container.name,
        });
      } catch (e) {
        failures.push(`${plan.container.name}: ${errorMessage(e)}`);
      }
    }
    if (failures.length > 0) {
      report.warnings.push(`could not start ${failures.join("; ")}`);
      failure ??= new StowageError(
        "restore.failed",
        `Cannot start '${plan.unit}' again: ${failures.join("; ")}`,
        "Start it with `docker start` or `docker compose up -d` and check its logs.",
      );
    } else if (report.stopped.length > 0) {
      await deps.journal?.clear(plan.unit).catch(() => {});
    }
    if (plan.compose || report.started.length > 0) {
      report.running = await waitRunning(deps, engine, plan, report);
    }
  }
  return failure;
}

/**
 * After `up`: each deferred anonymous volume's data goes into the anonymous volume the new
 * container of its service mounts at the same destination. That container is stopped for the
 * swap and started again (in a finally), like a backup's cold copy.
 */
async function restoreAnonymous(
  deps: RestoreDeps,
  engine: AnonymousEngine,
  plan: RestorePlan,
  report: RestoreReport,
  log: (m: string, level?: "info" | "warning") => void,
) {
  for (const step of plan.data) {
    const a = step.anonymous;
    if (!a) continue;
    checkAbort(deps.signal);
    const candidates = await engine.listContainers({
      label: [`${COMPOSE_LABELS.project}=${plan.unit}`, `${COMPOSE_LABELS.service}=${a.service}`],
    });
    const c = candidates.find((c) =>
      (c.Config.Labels?.[COMPOSE_LABELS.containerNumber] ?? "1") === a.number
    ) ?? candidates[0];
    const mount = c?.Mounts.find((m) =>
      m.Type === "volume" && m.Destination === a.destination
    );
    if (!c || !mount?.Name || !mount.Source) {
      throw new StowageError(
        "restore.failed",
        `Cannot restore anonymous volume '${step.name}': no container of service '${a.service}' mounts a volume at ${a.destination} after the start`,
        "The compose file may have changed; restore the data with --to-dir and copy it in by hand.",
      );
    }
    const name = c.Name.replace(/^\//, "");
    const wasRunning = c.State.Running;
    if (wasRunning) {
      await deps.journal?.record({
        unit: plan.unit,
        backupId: report.restoreId,
        pid: deps.pid,
        since: deps.clock.now().toISOString(),
        containers: [name],
      });
      await engine.stopContainer(name, deps.stopTimeoutSeconds);
    }
    try {
      const s = await stage(deps, step, mount.Source);
      try {
        await swapIn(deps.files, { ...s, created: false });
      } finally {
        await deps.files.removeTree(s.staging).catch(() => {});
      }
    } finally {
      if (wasRunning) {
        await engine.startContainer(name);
        await deps.journal?.clear(plan.unit).catch(() => {});
      }
    }
    report.data.push({
      kind: "volume",
      name: mount.Name,
      target: mount.Source,
      snapshotId: step.snapshotId,
      created: true,
    });
    log(
      `restored anonymous volume ${step.name.slice(0, 12)} into ${
        mount.Name.slice(0, 12)
      } (${a.service} at ${a.destination})`,
    );
  }
}

/** Loads the saved images the host lacks, streamed from the repository, and tags them. */
async function loadImages(
  deps: RestoreDeps,
  engine: ImageLoadEngine,
  plan: RestorePlan,
  log: (m: string) => void,
): Promise<string[]> {
  const loaded: string[] = [];
  for (const img of plan.images ?? []) {
    checkAbort(deps.signal);
    if (img.load) {
      // Our own signal for restic: if the engine stops reading, restic must not block on its pipe.
      const ac = new AbortController();
      const onAbort = () => ac.abort();
      deps.signal?.addEventListener("abort", onAbort, { once: true });
      try {
        const src = deps.repo.dumpStream
          ? await deps.repo.dumpStream(img.snapshotId, img.file, ac.signal)
          : {
            stream: ReadableStream.from([await deps.repo.dump(img.snapshotId, img.file)]),
            done: Promise.resolve(),
          };
        try {
          await engine.loadImage(src.stream, deps.signal);
          await src.done;
        } catch (e) {
          ac.abort();
          await src.done.catch(() => {});
          throw e;
        }
      } finally {
        deps.signal?.removeEventListener("abort", onAbort);
      }
      const have = (await engine.listImages()).some((i) => i.Id === img.id);
      if (!have) {
        throw new StowageError(
          "restore.failed",
          `Cannot restore image '${img.reference}': snapshot ${
            img.snapshotId.slice(0, 8)
          } loaded, but the engine has no image ${img.id.slice(7, 19)}`,
          "The saved image may be damaged; check the repository with `stowage admin repo check`.",
        );
      }
      loaded.push(img.reference);
      log(`loaded image ${img.reference} from snapshot ${img.snapshotId.slice(0, 8)}`);
    }
    if (img.tag) {
      const { repo, tag } = splitReference(img.reference);
      await engine.tagImage(img.id, repo, tag);
    }
  }
  return loaded;
}

async function stage(
  deps: RestoreDeps,
  step: DataStep,
  target: string,
): Promise<Omit<Staged, "created">> {
  const staging = await deps.files.makeSibling(target, "stowage-restore");
  try {
    let root: string;
    if (step.source === "dir") {
      await removingStaleLocks(
        deps.repo,
        deps.sink,
        () =>
          deps.repo.restore(step.snapshotId, staging, {
            signal: deps.signal,
            ...(step.include !== undefined ? { include: [step.include] } : {}),
          }),
      );
      // restic restores the snapshot's absolute path below the target.
      root = `${staging}${step.snapshotPath.startsWith("/") ? "" : "/"}${step.snapshotPath}`;
      if (!(await deps.files.exists(root))) throw notHeld(step);
    } else {
      const tar = await deps.repo.dump(step.snapshotId, step.snapshotPath);
      const into = `${staging}/archive`;
      await deps.files.mkdirp(into);
      const r = await deps.runner.run("tar", [
        "-x",
        "-C",
        into,
        "--numeric-owner",
        "--same-owner",
        "--preserve-permissions",
        "--xattrs",
        "--xattrs-include=*",
        "--acls",
        "-f",
        "-",
      ], {
        stdin: tar,
        signal: deps.signal,
      });
      if (r.code !== 0) {
        throw new StowageError(
          "restore.failed",
          `Cannot restore ${step.kind} '${step.name}': tar could not unpack the archive: ${
            lastLines(r.stderr)
          }`,
          "Check free space; the archive snapshot may be damaged.",
        );
      }
      // The Engine's archive API names the mounted folder itself as the tar's single top entry.
      const top = await deps.files.list(into);
      root = top.length === 1 ? `${into}/${top[0]}` : into;
    }
    return { step, target, staging, root };
  } catch (e) {
    await deps.files.removeTree(staging).catch(() => {});
    throw spaceError(e, `${step.kind} '${step.name}'`, target);
  }
}

/**
 * Several folders of one `data` snapshot on one mount: one `restic restore` with an
 * `--include` per folder into one staging folder beside the first target, so the repository is
 * opened and its index loaded once for all of them.
 */
async function stageBatch(
  deps: RestoreDeps,
  batch: StageTarget[],
): Promise<Omit<Staged, "created">[]> {
  const first = batch[0];
  const what = batch.map((t) => `${t.step.kind} '${t.step.name}'`).join(", ");
  const staging = await deps.files.makeSibling(first.target, "stowage-restore");
  try {
    // The first restic process of a restore that takes the lock (the listing and the documents
    // before it take none): a lock a killed restic left is found and removed here, before
    // anything on the host was stopped.
    await removingStaleLocks(
      deps.repo,
      deps.sink,
      () =>
        deps.repo.restore(first.step.snapshotId, staging, {
          signal: deps.signal,
          include: batch.map((t) => t.step.include!),
        }),
    );
    const out: Omit<Staged, "created">[] = [];
    for (const { step, target } of batch) {
      const root = `${staging}${step.snapshotPath}`;
      if (!(await deps.files.exists(root))) throw notHeld(step);
      // The swap renames into the target's folder: it must exist (--to-dir creates it).
      await deps.files.mkdirp(parentOf(target));
      out.push({ step, target, staging, root });
    }
    return out;
  } catch (e) {
    await deps.files.removeTree(staging).catch(() => {});
    throw spaceError(e, what, first.target);
  }
}

/** What restic restored lacks the folder the snapshot's tags promised. */
function notHeld(step: DataStep): StowageError {
  return new StowageError(
    "restore.failed",
    `Cannot restore ${step.kind} '${step.name}': snapshot ${
      step.snapshotId.slice(0, 8)
    } does not hold ${step.snapshotPath}`,
    "The snapshot is damaged or not a stowage snapshot; pick another restore point.",
  );
}

/** restic's "no space left" as the one line it should be; any other error as it is. */
function spaceError(e: unknown, what: string, target: string): unknown {
  if (
    isStowageError(e) && /no space left on device/i.test([e.message, ...e.details].join("\n"))
  ) {
    return new StowageError(
      "io",
      `Cannot restore ${what}: no space left on device below ${parentOf(target)}`,
      "A restore stages a full copy next to its target before swapping it in: free that much space and run it again. Nothing was changed.",
      { cause: e, details: e.details },
    );
  }
  return e;
}

/** Old aside, new in, old removed; if the second rename fails the old folder goes back. */
async function swapIn(files: RestoreFiles, s: Staged) {
  const aside = (await files.exists(s.target))
    ? await files.makeSibling(s.target, "stowage-old")
    : undefined;
  if (aside) {
    await files.removeTree(aside); // makeSibling reserved the name; rename needs it free
    await files.rename(s.target, aside);
  }
  try {
    await files.rename(s.root, s.target);
  } catch (e) {
    if (aside) await files.rename(aside, s.target).catch(() => {});
    throw e;
  }
  if (aside) await files.removeTree(aside);
}

/**
 * Saves the folders of `group` as they are now in one `type=pre-restore` snapshot, its `item=`
 * tags naming each folder as a data snapshot's do (format 4, docs/format.md).
 */
async function savePreRestore(
  deps: RestoreDeps,
  plan: RestorePlan,
  group: Staged[],
  restoreId: string,
  t0: Date,
): Promise<BackupSummary> {
  const item = group.map((s) => s.step.name).join(", ");
  deps.sink.emit({ type: "snapshot.start", unit: plan.unit, kind: "pre-restore", item });
  const tags = buildTags({
    unit: plan.unit,
    type: "pre-restore",
    backupId: restoreId,
    timestamp: isoSeconds(t0),
    scope: (plan.scope as Scope | undefined) ?? "standard",
    data: group.map((s) =>
      s.step.kind === "volume"
        ? { kind: "volume" as const, name: s.step.name, path: s.target }
        : { kind: "bind" as const, name: s.target, path: s.target }
    ),
  });
  // Staging from archive snapshots takes no lock, so a stale one may first show here.
  const saved = await removingStaleLocks(
    deps.repo,
    deps.sink,
    () =>
      deps.repo.backupPaths(group.map((s) => s.target), {
        tags,
        host: deps.host,
        time: deps.clock.now(),
        signal: deps.signal,
      }),
  );
  deps.sink.emit({
    type: "snapshot.done",
    unit: plan.unit,
    kind: "pre-restore",
    item,
    snapshotId: saved.snapshotId,
    dataAdded: saved.dataAdded,
  });
  return saved;
}

async function waitRunning(
  deps: RestoreDeps,
  engine: Pick<EngineInventory, "listContainers" | "inspectContainer">,
  plan: RestorePlan,
  report: RestoreReport,
): Promise<RunningContainer[]> {
  const deadline = deps.clock.now().getTime() + deps.startTimeoutSeconds * 1000;
  const list = async () => {
    const all = plan.kind === "stack"
      ? await engine.listContainers({ label: [`${COMPOSE_LABELS.project}=${plan.unit}`] })
      : await Promise.all(
        report.started.map((n) => engine.inspectContainer(n).catch(() => undefined)),
      );
    return all.filter((c) => c !== undefined).map((c) => ({
      name: c.Name.replace(/^\//, ""),
      state: c.State.Status,
      ...(c.State.Health?.Status ? { health: c.State.Health.Status } : {}),
    })).sort((a, b) => a.name.localeCompare(b.name));
  };
  let now = await list();
  while (
    now.some((c) => c.health === "starting") && deps.clock.now().getTime() < deadline &&
    !deps.signal?.aborted
  ) {
    await deps.clock.sleep(1000, deps.signal).catch(() => {});
    now = await list();
  }
  for (const c of now) {
    if (c.state !== "running") {
      report.warnings.push(`container ${c.name} is ${c.state} after the start`);
    } else if (c.health && c.health !== "healthy") {
      report.warnings.push(
        `container ${c.name} is ${c.health} (waited up to ${deps.startTimeoutSeconds} s)`,
      );
    }
  }
  return now;
}

async function finish(
  deps: RestoreDeps,
  plan: RestorePlan,
  report: RestoreReport,
  t0: Date,
  failure: unknown,
): Promise<RestoreReport> {
  if (failure !== undefined) {
    report.ok = false;
    const e = toStowageError(failure, plan, deps.signal);
    report.error = {
      code: e.code,
      message: e.message,
      ...(e.hint ? { hint: e.hint } : {}),
      ...(e.details.length ? { details: e.details } : {}),
    };
  }
  if (deps.hooks) {
    const post = await deps.hooks.post(plan, {
      status: report.ok ? "ok" : "failed",
      snapshots: report.data.map((d) => d.snapshotId),
      error: report.error?.message,
    });
    if (post.status === "failed") {
      report.warnings.push(`post_restore hook failed: ${post.error ?? ""}`);
    }
  }
  const t1 = deps.clock.now();
  report.finishedAt = t1.toISOString();
  report.durationMs = t1.getTime() - t0.getTime();
  deps.sink.emit({
    type: "unit.done",
    unit: plan.unit,
    ok: report.ok,
    error: report.error?.message,
  });
  deps.sink.emit({ type: "run.done", operation: "restore", ok: report.ok });
  return report;
}

function toStowageError(e: unknown, plan: RestorePlan, signal?: AbortSignal): StowageError {
  if (signal?.aborted) {
    return new StowageError(
      "interrupted",
      `Restore of '${plan.unit}' interrupted`,
      "Volumes not yet swapped keep their old content; run the restore again.",
    );
  }
  if (isStowageError(e)) return e;
  return new StowageError(
    "restore.failed",
    `Cannot restore '${plan.unit}': ${errorMessage(e)}`,
    "See the message above; volumes not yet swapped keep their old content.",
    { cause: e },
  );
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

function checkAbort(signal?: AbortSignal) {
  if (signal?.aborted) throw new StowageError("interrupted", "interrupted", undefined);
}

function lastLines(text: string, n = 3): string {
  return text.trim().split("\n").slice(-n).join(" / ") || "no output";
}
