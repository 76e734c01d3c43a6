/**
 * Whether a started sandbox is healthy, judged from the Engine's events (never by polling): every
 * container with a healthcheck must report `healthy`; every container must stay up, without a
 * `die`, `oom` or `restart`, until the settle time has passed after the last one was ready. The
 * moment the last container became ready ends the recovery time.
 */
import { StowageError } from "../errors.ts";
import type { Clock, DockerEngine, EngineEvent } from "../ports.ts";
import type { EngineContainer } from "../engine_types.ts";
import { COMPOSE_LABELS } from "../compose_labels.ts";

export interface ServiceVerdict {
  container: string;
  /** The compose service, or the container name for a standalone unit. */
  service: string;
  healthcheck: boolean;
  status: "healthy" | "running" | "unhealthy" | "exited" | "restarted" | "timeout";
  detail?: string;
}

export interface Judgement {
  ok: boolean;
  services: ServiceVerdict[];
  /** When the last container became ready (healthy, or running when it has no healthcheck). */
  readyAt?: Date;
}

export type JudgeEngine = Pick<DockerEngine, "listContainers" | "events">;

export function hasHealthcheck(c: EngineContainer): boolean {
  const test = c.Config.Healthcheck?.Test ?? [];
  return test.length > 0 && test[0] !== "NONE";
}

/**
 * Watches the containers labelled `label` from `since` (just before they were started). `startedAt`
 * is when the start returned: containers without a healthcheck count as ready then.
 */
export async function judgeSandbox(
  deps: { engine: JudgeEngine; clock: Clock; signal?: AbortSignal },
  label: string,
  opts: { since: Date; startedAt: Date; healthTimeoutSeconds: number; settleSeconds: number },
): Promise<Judgement> {
  const { engine, clock } = deps;
  if (!engine.events) {
    throw new StowageError(
      "dependency.missing",
      "Cannot judge the sandbox: this Docker Engine connection cannot stream events",
      "Use the Engine API over the local socket.",
    );
  }
  const containers = await engine.listContainers({ label: [label] });
  const verdicts = new Map<string, ServiceVerdict>();
  for (const c of containers) {
    const name = c.Name.replace(/^\//, "");
    verdicts.set(c.Id, {
      container: name,
      service: c.Config.Labels?.[COMPOSE_LABELS.service] ?? name,
      healthcheck: hasHealthcheck(c),
      status: "running",
      ...(c.State.Running ? {} : { detail: `${c.State.Status} after the start` }),
    });
  }
  if (containers.length === 0) {
    return {
      ok: false,
      services: [{
        container: "-",
        service: "-",
        healthcheck: false,
        status: "exited",
        detail: "no container of the sandbox exists after the start",
      }],
    };
  }
  const healthyAt = new Map<string, number>();
  let failed = false;
  const fail = (id: string, status: ServiceVerdict["status"], detail: string) => {
    const v = verdicts.get(id);
    if (!v || v.status === "unhealthy" || v.status === "exited" || v.status === "restarted") return;
    v.status = status;
    v.detail = detail;
    failed = true;
  };
  for (const [id, v] of verdicts) if (v.detail) fail(id, "exited", v.detail);

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  deps.signal?.addEventListener("abort", onAbort, { once: true });
  const it = engine.events({
    since: opts.since,
    filters: { type: ["container"], label: [label] },
  }, stop.signal)[Symbol.asyncIterator]();
  const healthDeadline = opts.startedAt.getTime() + opts.healthTimeoutSeconds * 1000;
  let readyAt: number | undefined;
  const waiting = () =>
    [...verdicts.entries()].filter(([id, v]) => v.healthcheck && !healthyAt.has(id));
  const checkReady = () => {
    if (readyAt !== undefined || failed || waiting().length > 0) return;
    readyAt = Math.max(opts.startedAt.getTime(), ...healthyAt.values());
  };
  checkReady();
  try {
    let next = it.next();
    while (!failed) {
      const deadline = readyAt === undefined ? healthDeadline : readyAt + opts.settleSeconds * 1000;
      const left = deadline - clock.now().getTime();
      if (left <= 0) break;
      const timer = new AbortController();
      const r = await Promise.race([
        next,
        clock.sleep(left, timer.signal).then(() => "timeout" as const, () => "timeout" as const),
      ]);
      timer.abort();
      if (deps.signal?.aborted) {
        throw new StowageError("interrupted", "Verify interrupted", "The sandbox is removed.");
      }
      if (r === "timeout") continue;
      if (r.done) break;
      next = it.next();
      const e: EngineEvent = r.value;
      const id = e.Actor.ID;
      if (!verdicts.has(id)) continue;
      const at = Math.floor(e.timeNano / 1e6);
      if (e.Action === "health_status: healthy") {
        if (!healthyAt.has(id)) healthyAt.set(id, at);
        if (readyAt === undefined) verdicts.get(id)!.status = "healthy";
      } else if (e.Action === "health_status: unhealthy") {
        fail(id, "unhealthy", "its healthcheck reported unhealthy");
      } else if (e.Action === "die") {
        const code = e.Actor.Attributes?.exitCode;
        fail(id, "exited", `it stopped${code !== undefined ? ` with exit code ${code}` : ""}`);
      } else if (e.Action === "oom") {
        fail(id, "exited", "it ran out of memory");
      } else if (e.Action === "restart") {
        fail(id, "restarted", "it restarted");
      }
      checkReady();
    }
  } finally {
    deps.signal?.removeEventListener("abort", onAbort);
    stop.abort();
    await it.return?.().catch(() => {});
  }
  if (deps.signal?.aborted) {
    throw new StowageError("interrupted", "Verify interrupted", "The sandbox is removed.");
  }
  if (!failed && readyAt === undefined) {
    for (const [id, v] of waiting()) {
      fail(id, "timeout", `not healthy within ${opts.healthTimeoutSeconds} s`);
      void v;
    }
  }
  return {
    ok: !failed,
    services: [...verdicts.values()].sort((a, b) => a.service.localeCompare(b.service)),
    ...(readyAt !== undefined && !failed ? { readyAt: new Date(readyAt) } : {}),
  };
}
