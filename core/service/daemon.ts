/**
 * The long-running service behind `admin service daemon`, talking to the outside only through the
 * functions it is given: sd_notify (READY, STATUS, WATCHDOG, STOPPING), the backup run, the
 * results store, the clock. It runs backups itself on an interval, or only watches the results of
 * runs the systemd timer starts; either way /status and STATUS= stay current.
 *
 * The watchdog beats from its own loop on the clock, so it keeps beating while a backup awaits
 * restic or the Engine for longer than WatchdogSec; only a blocked event loop stops it, which is
 * exactly what the watchdog is for.
 */
import { errorMessage, isStowageError } from "../errors.ts";
import type { StowageEvent } from "../events.ts";
import type { Clock } from "../ports.ts";
import type { RunReport } from "../report.ts";
import type { RepositoryInfo } from "./metrics.ts";
import { lastRun, type ResultsDoc } from "./results.ts";
import { applyEvent, type DaemonState, runOutcome, statusLine } from "./status.ts";

/** sd_notify. Implementations never throw and do nothing when not run by systemd. */
export interface Notifier {
  send(message: string): Promise<void>;
}

/** Runs one backup of every unit; it takes the host lock itself (`lock.held` when busy). */
export type RunBackup = (
  signal: AbortSignal,
  onEvent: (e: StowageEvent) => void,
) => Promise<RunReport>;

export type LogFn = (
  level: "debug" | "info" | "warning" | "error",
  message: string,
  fields?: { operation?: string; backupId?: string; unit?: string },
) => void;

export interface DaemonDeps {
  clock: Clock;
  notifier: Notifier;
  runBackup: RunBackup;
  readResults(): Promise<ResultsDoc>;
  /** Idempotent per backupId: the backup function may have recorded the run already. */
  recordRun(report: RunReport): Promise<void>;
  /** Best effort: snapshot counts and size; undefined when it cannot be known now. */
  refreshRepository?(): Promise<RepositoryInfo | undefined>;
  /** Every engine event of a run the daemon started (for the journal and the log). */
  onEvent?(e: StowageEvent): void;
  log: LogFn;
  /** SIGTERM/SIGINT. */
  signal: AbortSignal;
  /** Run backups every this many ms; undefined: leave scheduling to the systemd timer. */
  intervalMs?: number;
  /** WATCHDOG=1 period (half of WATCHDOG_USEC); undefined: no watchdog. */
  watchdogMs?: number;
  /** How often to re-read the results store for runs started elsewhere. */
  pollMs?: number;
}

/** When the next interval run is due: one interval after the last recorded run started, never in the past. */
export function nextRunAt(lastStartedAt: string | undefined, intervalMs: number, now: Date): Date {
  if (!lastStartedAt) return now;
  const due = new Date(lastStartedAt).getTime() + intervalMs;
  return new Date(Math.max(due, now.getTime()));
}

export class Daemon {
  readonly state: DaemonState;
  results: ResultsDoc = { version: 1, runs: [], units: {} };
  #deps: DaemonDeps;
  #lastStatus = "";
  #stopBeats = new AbortController();
  #stopping: Promise<void> | undefined;
  #seenRun: string | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(deps: DaemonDeps) {
    this.#deps = deps;
    this.state = {
      startedAt: deps.clock.now().toISOString(),
      mode: deps.intervalMs ? "interval" : "timer",
      ...(deps.intervalMs ? { intervalMinutes: deps.intervalMs / 60_000 } : {}),
    };
  }

  get running(): boolean {
    return this.state.current !== undefined;
  }

  async run(): Promise<void> {
    const d = this.#deps;
    const onStop = () => void this.#beginStop();
    d.signal.addEventListener("abort", onStop, { once: true });
    const beats = d.watchdogMs ? this.#watchdog(d.watchdogMs) : Promise.resolve();
    try {
      await this.#reloadResults();
      this.#scheduleNext();
      this.#lastStatus = statusLine(this.state, this.results);
      if (!d.signal.aborted) {
        await d.notifier.send(`READY=1\nSTATUS=${this.#lastStatus}`);
        d.log(
          "info",
          `stowage daemon ready (${
            this.state.mode === "interval"
              ? `backups every ${this.state.intervalMinutes} min`
              : "backups started by the systemd timer"
          })`,
        );
      }
      void this.#refreshRepository();
      while (!d.signal.aborted) {
        const now = d.clock.now();
        if (this.state.nextRunAt && now.getTime() >= new Date(this.state.nextRunAt).getTime()) {
          await this.runOnce();
          this.#scheduleNext(true);
          await this.#updateStatus();
          continue;
        }
        const untilRun = this.state.nextRunAt
          ? new Date(this.state.nextRunAt).getTime() - now.getTime()
          : Infinity;
        try {
          await d.clock.sleep(Math.max(0, Math.min(d.pollMs ?? 30_000, untilRun)), d.signal);
        } catch {
          break;
        }
        await this.#reloadResults();
        await this.#updateStatus();
      }
    } finally {
      d.signal.removeEventListener("abort", onStop);
      await this.#beginStop();
      this.#stopBeats.abort();
      await beats;
    }
  }

  /** One backup run through the injected function; never throws. */
  async runOnce(): Promise<void> {
    const d = this.#deps;
    // Repository statistics hold the host lock for a moment: let them finish first.
    await this.#refreshing;
    this.state.current = {
      operation: "backup",
      startedAt: d.clock.now().toISOString(),
      unitsDone: 0,
    };
    this.state.nextRunAt = undefined;
    await this.#updateStatus();
    try {
      const report = await d.runBackup(d.signal, (e) => {
        if (this.state.current) this.state.current = applyEvent(this.state.current, e);
        d.onEvent?.(e);
        if (e.type === "unit.start" || e.type === "run.start") void this.#updateStatus();
      });
      await d.recordRun(report);
      const failed = report.units.filter((u) => u.outcome === "failed").map((u) => u.unit);
      this.state.lastNotice = undefined;
      d.log(
        report.interrupted ? "warning" : report.ok ? "info" : "error",
        report.interrupted
          ? `backup ${report.backupId} interrupted`
          : report.ok
          ? `backup ${report.backupId} finished: ${report.units.length} unit(s) ok`
          : `backup ${report.backupId} finished with failures: ${
            failed.join(", ") || "see the log"
          }`,
        { operation: "backup", backupId: report.backupId },
      );
    } catch (e) {
      if (isStowageError(e, "lock.held")) {
        this.state.lastNotice =
          `skipped a scheduled backup at ${d.clock.now().toISOString()}: ${e.message}`;
        d.log("warning", `backup skipped: ${e.message}`, { operation: "backup" });
      } else if (d.signal.aborted || isStowageError(e, "interrupted")) {
        d.log("info", "backup interrupted by shutdown", { operation: "backup" });
      } else {
        this.state.lastNotice = `backup at ${this.state.current?.startedAt} could not run: ${
          errorMessage(e)
        }`;
        d.log(
          "error",
          `backup could not run: ${errorMessage(e)}${
            isStowageError(e) && e.hint ? ` (${e.hint})` : ""
          }`,
          { operation: "backup" },
        );
      }
    } finally {
      this.state.current = undefined;
      await this.#reloadResults();
    }
  }

  #scheduleNext(afterRun = false) {
    const d = this.#deps;
    if (!d.intervalMs) return;
    const now = d.clock.now();
    // After a run (or a skipped one) wait a whole interval, so a failing run does not loop.
    const next = afterRun
      ? new Date(now.getTime() + d.intervalMs)
      : nextRunAt(lastRun(this.results)?.startedAt, d.intervalMs, now);
    this.state.nextRunAt = next.toISOString();
  }

  async #reloadResults() {
    try {
      this.results = await this.#deps.readResults();
    } catch (e) {
      this.#deps.log("warning", `cannot read the results store: ${errorMessage(e)}`);
      return;
    }
    const newest = lastRun(this.results)?.backupId ?? "";
    if (newest !== this.#seenRun) {
      const first = this.#seenRun === undefined;
      this.#seenRun = newest;
      if (!first) {
        const run = lastRun(this.results)!;
        this.#deps.log("debug", `recorded run ${run.backupId}: ${runOutcome(run)}`, {
          operation: "backup",
          backupId: run.backupId,
        });
        void this.#refreshRepository();
      }
    }
  }

  /** Runs one refresh at a time; runOnce waits for it, so the two never compete for the lock. */
  #refreshRepository(): Promise<void> {
    if (!this.#refreshing) {
      this.#refreshing = this.#doRefresh().finally(() => (this.#refreshing = undefined));
    }
    return this.#refreshing;
  }

  async #doRefresh() {
    if (!this.#deps.refreshRepository || this.running) return;
    try {
      const info = await this.#deps.refreshRepository();
      if (info) this.state.repository = info;
    } catch (e) {
      this.#deps.log("debug", `repository statistics unavailable: ${errorMessage(e)}`);
    }
  }

  async #updateStatus() {
    if (this.#stopping) return;
    const line = statusLine(this.state, this.results);
    if (line === this.#lastStatus) return;
    this.#lastStatus = line;
    await this.#deps.notifier.send(`STATUS=${line}`);
  }

  #beginStop(): Promise<void> {
    this.#stopping ??= this.#sendStopping();
    return this.#stopping;
  }

  async #sendStopping() {
    const busy = this.running
      ? "interrupting the running backup and starting its containers"
      : "no backup running";
    this.#stopBeats.abort();
    await this.#deps.notifier.send(`STOPPING=1\nSTATUS=Stopping: ${busy}`);
    this.#deps.log("info", `stowage daemon stopping: ${busy}`);
  }

  async #watchdog(ms: number) {
    const stop = this.#stopBeats.signal;
    while (!stop.aborted) {
      try {
        await this.#deps.clock.sleep(ms, stop);
      } catch {
        return;
      }
      if (!stop.aborted) await this.#deps.notifier.send("WATCHDOG=1");
    }
  }
}
