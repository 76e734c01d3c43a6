/**
 * sd_notify(3) without libsystemd: one datagram per message to $NOTIFY_SOCKET (a path, or
 * `@name` in the abstract namespace). Without NOTIFY_SOCKET everything is silent. A send that
 * fails is reported once through `onError` and never throws: losing a STATUS line must not stop a
 * backup.
 */
import type { Notifier } from "../../core/service/daemon.ts";
import { acquireSender, DatagramSender } from "./datagram.ts";

export class SdNotifier implements Notifier {
  #sender: ReturnType<typeof acquireSender>;
  #warned = false;
  constructor(
    readonly socket: string,
    env: (name: string) => string | undefined,
    private onError: (message: string) => void = () => {},
  ) {
    this.#sender = acquireSender(env);
  }

  async send(message: string): Promise<void> {
    try {
      await this.#sender.sender.send(this.socket, new TextEncoder().encode(message));
    } catch (e) {
      if (!this.#warned) {
        this.#warned = true;
        this.onError(
          `cannot notify systemd at '${this.socket}': ${
            e instanceof Error ? e.message : String(e)
          }`,
        );
      }
    }
  }

  close(): Promise<void> {
    return this.#sender.release();
  }
}

export const silentNotifier: Notifier & { close(): Promise<void> } = {
  send: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

/**
 * The notifier systemd asked for, or a silent one. Needs --unstable-net; without it (or without
 * NOTIFY_SOCKET) notifications are off and `problem` says why when it matters.
 */
export function notifierFromEnv(
  env: (name: string) => string | undefined,
  onError?: (message: string) => void,
): { notifier: Notifier & { close(): Promise<void> }; problem?: string } {
  const socket = env("NOTIFY_SOCKET");
  if (!socket) return { notifier: silentNotifier };
  if (!DatagramSender.available()) {
    return {
      notifier: silentNotifier,
      problem: "NOTIFY_SOCKET is set but this build lacks --unstable-net: sd_notify is off",
    };
  }
  try {
    return { notifier: new SdNotifier(socket, env, onError) };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return {
      notifier: silentNotifier,
      problem:
        `NOTIFY_SOCKET is set but stowage cannot open its notify socket (${why}): sd_notify is off; run it from the generated unit (RuntimeDirectory=stowage)`,
    };
  }
}

/**
 * The WATCHDOG=1 period: half of WATCHDOG_USEC, when the watchdog is meant for this process
 * (WATCHDOG_PID unset or equal to our pid). Pure.
 */
export function watchdogPeriodMs(
  watchdogUsec: string | undefined,
  watchdogPid: string | undefined,
  pid: number,
): number | undefined {
  if (!watchdogUsec) return undefined;
  if (watchdogPid && Number(watchdogPid) !== pid) return undefined;
  const usec = Number(watchdogUsec);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  return Math.max(1, Math.floor(usec / 2 / 1000));
}
