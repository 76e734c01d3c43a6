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
  const watch = new SandboxWatch(containers, opts.startedAt.getTime());

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  deps.signal?.addEventListener("abort", onAbort, { once: true });
  const it = engine.events({
    since: opts.since,
    filters: { type: ["container"], label: [label] },
  }, stop.signal)[Symbol.asyncIterator]();
  const healthDeadline = opts.startedAt.getTime() + opts.healthTimeoutSeconds * 1000;
  try {
    let next = it.next();
    while (!watch.failed) {
      const deadline = watch.readyAt === undefined
        ? healthDeadline
        : watch.readyAt + opts.settleSeconds * 1000;
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
      watch.apply(r.value);
    }
  } finally {
    deps.signal?.removeEventListener("abort", onAbort);
    stop.abort();
    await it.return?.().catch(() => {});
  }
  if (deps.signal?.aborted) {
    throw new StowageError("interrupted", "Verify interrupted", "The sandbox is removed.");
  }
  return watch.judgement(opts.healthTimeoutSeconds);
}

/**
 * The verdicts while the events come in: a container fails once (its first failure is the one
 * reported), and the sandbox is ready when no container with a healthcheck is still waiting.
 */
class SandboxWatch {
  readonly #verdicts = new Map<string, ServiceVerdict>();
  readonly #healthyAt = new Map<string, number>();
  failed = false;
  /** When the last container became ready (ms), once all are. */
  readyAt: number | undefined;

  constructor(containers: EngineContainer[], readonly startedAt: number) {
    for (const c of containers) {
      const name = c.Name.replace(/^\//, "");
      this.#verdicts.set(c.Id, {
        container: name,
        service: c.Config.Labels?.[COMPOSE_LABELS.service] ?? name,
        healthcheck: hasHealthcheck(c),
        status: "running",
      });
      if (!c.State.Running) this.#fail(c.Id, "exited", `${c.State.Status} after the start`);
    }
    this.#checkReady();
  }

  /** One Engine event of a sandbox container. */
  apply(e: EngineEvent) {
    const id = e.Actor.ID;
    if (!this.#verdicts.has(id)) return;
    const at = Math.floor(e.timeNano / 1e6);
    if (e.Action === "health_status: healthy") {
      if (!this.#healthyAt.has(id)) this.#healthyAt.set(id, at);
      if (this.readyAt === undefined) this.#verdicts.get(id)!.status = "healthy";
    } else if (e.Action === "health_status: unhealthy") {
      this.#fail(id, "unhealthy", "its healthcheck reported unhealthy");
    } else if (e.Action === "die") {
      const code = e.Actor.Attributes?.exitCode;
      this.#fail(id, "exited", `it stopped${code !== undefined ? ` with exit code ${code}` : ""}`);
    } else if (e.Action === "oom") {
      this.#fail(id, "exited", "it ran out of memory");
    } else if (e.Action === "restart") {
      this.#fail(id, "restarted", "it restarted");
    }
    this.#checkReady();
  }

  /** The end of the watch: containers still waiting for their healthcheck have timed out. */
  judgement(healthTimeoutSeconds: number): Judgement {
    if (!this.failed && this.readyAt === undefined) {
      for (const id of this.#waiting()) {
        this.#fail(id, "timeout", `not healthy within ${healthTimeoutSeconds} s`);
      }
    }
    return {
      ok: !this.failed,
      services: [...this.#verdicts.values()].sort((a, b) => a.service.localeCompare(b.service)),
      ...(this.readyAt !== undefined && !this.failed ? { readyAt: new Date(this.readyAt) } : {}),
    };
  }

  #fail(id: string, status: ServiceVerdict["status"], detail: string) {
    const v = this.#verdicts.get(id);
    if (!v || v.status === "unhealthy" || v.status === "exited" || v.status === "restarted") return;
    v.status = status;
    v.detail = detail;
    this.failed = true;
  }

  #waiting(): string[] {
    return [...this.#verdicts.entries()]
      .filter(([id, v]) => v.healthcheck && !this.#healthyAt.has(id))
      .map(([id]) => id);
  }

  #checkReady() {
    if (this.readyAt !== undefined || this.failed || this.#waiting().length > 0) return;
    this.readyAt = Math.max(this.startedAt, ...this.#healthyAt.values());
  }
}
