/** Rendering helpers shared by commands: JSON documents, tables, sizes and durations. */
import type { Runtime } from "./runtime.ts";

export function printJson(rt: Runtime, value: unknown) {
  rt.write(JSON.stringify(value, null, 2) + "\n");
}

export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return "?";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/**
 * The width tables are fitted to: the terminal's, when stdout is one; otherwise none (piped or
 * redirected, each row stays on one line for grep and scripts; --json has every detail anyway).
 */
export function tableWidth(rt: Pick<Runtime, "stdoutIsTerminal" | "terminalColumns">) {
  return rt.stdoutIsTerminal ? rt.terminalColumns?.() : undefined;
}

/** A paragraph for the terminal: wrapped at word boundaries to its width; one line in a pipe. */
export function fitted(
  rt: Pick<Runtime, "stdoutIsTerminal" | "terminalColumns">,
  text: string,
): string {
  const width = tableWidth(rt);
  return width ? wrapWords(text, width).join("\n") : text;
}

/** Where a cell may be broken: after a space, a comma or a slash. */
function words(text: string): string[] {
  return text.split(/(?<=[ ,/])/).filter((w) => w !== "");
}

/** `text` in lines of at most `width` characters, broken at word boundaries where possible. */
export function wrapWords(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  // An indented cell keeps its indent on every line.
  const indent = text.match(/^ */)![0];
  if (indent && indent.length < width - 1) {
    return wrapWords(text.slice(indent.length), width - indent.length).map((l) => indent + l);
  }
  const lines: string[] = [];
  let line = "";
  for (let w of words(text)) {
    if (line !== "" && (line + w).trimEnd().length > width) {
      lines.push(line.trimEnd());
      line = "";
    }
    // A word longer than the column is cut where it must be.
    while (w.length > width) {
      lines.push(w.slice(0, width));
      w = w.slice(width);
    }
    line += w;
  }
  if (line.trim() !== "" || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}

const GAP = 2;

/**
 * Column widths that fit `width`: the widest column gives first, down to its longest word
 * (so words stay whole), then below that only if nothing else fits.
 */
function fitWidths(rows: string[][], width: number): number[] {
  const cols = rows[0].length;
  const natural = [...Array(cols).keys()].map((c) =>
    Math.max(...rows.map((r) => (r[c] ?? "").length))
  );
  // The longest word of each column, plus the indent its cell keeps on every line.
  const longestWord = [...Array(cols).keys()].map((c) =>
    Math.max(
      1,
      ...rows.map((r) => {
        const cell = r[c] ?? "";
        const indent = cell.match(/^ */)![0].length;
        return indent + Math.max(0, ...words(cell.slice(indent)).map((w) => w.trimEnd().length));
      }),
    )
  );
  const widths = [...natural];
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP * (cols - 1);
  // Then the other columns to 4, and only last the first one (the unit or item it names).
  const floors = [
    longestWord,
    widths.map((_, c) => (c === 0 ? longestWord[0] : 4)),
    widths.map(() => 4),
  ];
  for (const floor of floors) {
    while (total() > width) {
      let widest = -1;
      for (let c = 0; c < cols; c++) {
        if (widths[c] > floor[c] && (widest < 0 || widths[c] > widths[widest])) widest = c;
      }
      if (widest < 0) break;
      widths[widest]--;
    }
  }
  return widths;
}

/**
 * Left-aligned columns; the last column is not padded. With `width`, cells wrap at word
 * boundaries (a row may take several lines) so that no line is wider than `width`.
 */
export function table(rows: string[][], width?: number): string {
  if (rows.length === 0) return "";
  const natural = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const widths = width === undefined ? natural : fitWidths(rows, width);
  const out: string[] = [];
  for (const r of rows) {
    const cells = r.map((cell, c) => wrapWords(cell ?? "", widths[c]));
    const height = Math.max(...cells.map((l) => l.length));
    for (let i = 0; i < height; i++) {
      out.push(
        cells.map((l, c) => (c === r.length - 1 ? l[i] ?? "" : (l[i] ?? "").padEnd(widths[c])))
          .join(" ".repeat(GAP)).trimEnd(),
      );
    }
  }
  return out.join("\n") + "\n";
}
