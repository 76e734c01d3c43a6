/**
 * Stream sources for `BackupRepository.backupStream`: the repository closes restic's stdin only
 * after `done` resolves, so a producer that breaks midway interrupts restic instead of committing a
 * truncated snapshot (docs/backup.md).
 */
import type { StreamSource } from "../ports.ts";

/** A small document held in memory. */
export function bytesSource(text: string): StreamSource {
  const bytes = new TextEncoder().encode(text);
  const fresh = (): StreamSource => ({
    stream: ReadableStream.from([bytes]),
    done: Promise.resolve(),
    replay: fresh,
  });
  return fresh();
}

/** A stream whose `done` settles when it was read to the end (resolve) or broke (reject). */
export function trackedSource(stream: ReadableStream<Uint8Array>): StreamSource {
  let resolve!: () => void, reject!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  done.catch(() => {}); // observed by the repository; avoid an unhandled rejection if it is not
  const reader = stream.getReader();
  const tracked = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done: end } = await reader.read();
        if (end) {
          controller.close();
          resolve();
        } else controller.enqueue(value);
      } catch (e) {
        reject(e);
        controller.error(e);
      }
    },
    cancel(reason) {
      reject(reason ?? new Error("cancelled"));
      return reader.cancel(reason);
    },
  });
  return { stream: tracked, done };
}
