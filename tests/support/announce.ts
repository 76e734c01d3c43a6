/**
 * Test servers that say on one of their pipes when they listen (rclone serve restic, s3rver,
 * Azurite): read that pipe's lines until one matches, keep draining it (and the other pipe, when it
 * is piped) so the server never blocks on a full pipe, and stop it with SIGTERM.
 */
export interface Announced {
  /** The announcing line's match; undefined when the pipe ended first. */
  match?: RegExpExecArray;
  /** The lines read up to the match, for the error when there is none. */
  seen: string[];
  /** What the other pipe said so far (the first 8 KiB), for the error when there is no match. */
  other(): string;
  /** SIGTERM, then waits for the exit and the drained pipes; safe to call twice. */
  stop(): Promise<void>;
}

export async function readAnnouncement(
  child: Deno.ChildProcess,
  announce: ReadableStream<Uint8Array>,
  re: RegExp,
  other?: ReadableStream<Uint8Array>,
): Promise<Announced> {
  const reader = announce.pipeThrough(new TextDecoderStream()).getReader();
  const seen: string[] = [];
  let match: RegExpExecArray | undefined;
  let buf = "";
  while (!match) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const l of lines) {
      seen.push(l);
      match ??= re.exec(l) ?? undefined;
    }
  }
  let otherText = "";
  const drained = Promise.all([
    (async () => {
      try {
        while (!(await reader.read()).done) { /* discard */ }
      } catch { /* killed */ }
    })(),
    (async () => {
      if (!other) return;
      try {
        for await (const chunk of other.pipeThrough(new TextDecoderStream())) {
          if (otherText.length < 8192) otherText += chunk;
        }
      } catch { /* killed */ }
    })(),
  ]);
  let stopped = false;
  return {
    match,
    seen,
    other: () => otherText,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await drained;
    },
  };
}
