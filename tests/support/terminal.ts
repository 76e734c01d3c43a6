/**
 * Runs the CLI on a real pseudo-terminal (util-linux `script`), as an operator meets it: a
 * terminal of a chosen width, prompts answered when their text appears, keys such as Ctrl-C typed
 * into it. A run that does not end within `timeoutMs` is killed and reported as `timedOut`, so a
 * hang fails the test instead of the suite.
 */
const ROOT = new URL("../../", import.meta.url).pathname;

export interface TerminalRun {
  code: number;
  /** Everything the terminal showed (stdout and stderr of the CLI, echoed keys), raw. */
  output: string;
  timedOut: boolean;
  /** How many of the answers were typed (their prompt appeared). */
  answered: number;
  /** For each answer typed, how much of `output` had been shown then: what came after it. */
  typedAt: number[];
}

/** Keys as typed on a terminal. */
export const KEY = { enter: "\r", ctrlC: "\x03", down: "\x1b[B" } as const;

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export async function onTerminal(
  args: string[],
  opts: {
    env?: Record<string, string>;
    /**
     * [text the terminal shows, keys to type] in order; each waits for its text. Instead of keys,
     * an action to run at that moment (e.g. release something the CLI is waiting on).
     */
    answers?: [string | RegExp, string | (() => void | Promise<void>)][];
    columns?: number;
    timeoutMs?: number;
  } = {},
): Promise<TerminalRun> {
  const cli = [Deno.execPath(), "run", "-P=stowage", "--no-prompt", "--quiet", `${ROOT}main.ts`]
    .concat(args).map(quote).join(" ");
  // The width is set on the pty itself, as a real terminal of that size would report it.
  const cmd = `stty cols ${opts.columns ?? 120} rows 40; exec ${cli}`;
  const child = new Deno.Command("script", {
    args: ["-qec", cmd, "/dev/null"],
    cwd: ROOT,
    env: { NO_COLOR: "1", TERM: "xterm", ...opts.env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const answers = opts.answers ?? [];
  const writer = child.stdin.getWriter();
  const decoder = new TextDecoder();
  let output = "";
  let next = 0;
  let timedOut = false;
  const guard = setTimeout(() => {
    timedOut = true;
    try {
      // script's own child (the CLI) dies with the pty when script goes.
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, opts.timeoutMs ?? 60_000);
  const matches = (p: string | RegExp, from: string) =>
    typeof p === "string" ? from.includes(p) : p.test(from);
  // Each answer looks only at output after the previous answer was typed.
  let since = 0;
  const typedAt: number[] = [];
  const reader = child.stdout.getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    output += decoder.decode(value, { stream: true });
    while (next < answers.length && matches(answers[next][0], output.slice(since))) {
      since = output.length;
      typedAt.push(output.length);
      const answer = answers[next][1];
      if (typeof answer === "string") {
        await writer.write(new TextEncoder().encode(answer)).catch(() => {});
      } else await answer();
      next++;
    }
  }
  await writer.close().catch(() => {});
  const status = await child.status;
  clearTimeout(guard);
  await child.stderr.cancel();
  return { code: status.code, output, timedOut, answered: next, typedAt };
}

/**
 * What a terminal of `columns` columns shows after the output ran, line by line: a minimal
 * emulator for what the progress line uses (CR, LF, ESC[2K / ESC[K, ESC[nA / ESC[nF, autowrap).
 * Leftover copies of a redrawn line show up as extra lines here.
 */
export function screen(output: string, columns: number): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  let pendingWrap = false;
  const at = (r: number) => (lines[r] ??= []);
  for (let i = 0; i < output.length; i++) {
    const ch = output[i];
    if (ch === "\x1b" && output[i + 1] === "[") {
      // deno-lint-ignore no-control-regex -- terminal escape sequences are what it reads
      const m = output.slice(i).match(/^\x1b\[([0-9;?]*)([A-Za-z])/);
      if (m) {
        i += m[0].length - 1;
        const n = Number(m[1] || "0");
        if (m[2] === "K") {
          const l = at(row);
          if (n === 2) l.length = 0;
          else if (n === 0) l.length = Math.min(l.length, col);
        } else if (m[2] === "A" || m[2] === "F") {
          row = Math.max(0, row - (n || 1));
          if (m[2] === "F") col = 0;
        } else if (m[2] === "G") col = Math.max(0, (n || 1) - 1);
        pendingWrap = false;
        continue;
      }
    }
    if (ch === "\r") {
      col = 0;
      pendingWrap = false;
    } else if (ch === "\n") {
      row++;
      col = 0;
      pendingWrap = false;
      at(row);
    } else if (ch >= " ") {
      if (pendingWrap) {
        row++;
        col = 0;
        pendingWrap = false;
      }
      const l = at(row);
      while (l.length < col) l.push(" ");
      l[col] = ch;
      if (col === columns - 1) pendingWrap = true;
      else col++;
    }
  }
  return lines.map((l) => (l ?? []).join("").trimEnd());
}
