/**
 * The live progress line of a save, fitted to the terminal's width: never wider than the
 * terminal (a line that wraps cannot be redrawn in place and leaves copies behind), the name cut
 * in the middle first, then the least useful figures dropped. Pure.
 */
import type { BackupProgress } from "../core/ports.ts";
import { formatBytes } from "./output.ts";

/** 75 -> "1:15", 3725 -> "1:02:05". */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Keeps both ends of `text` within `width` columns: "my-very-long-volume" -> "my-ve…olume". */
export function middleTruncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return chars.slice(0, width).join("");
  const head = Math.ceil((width - 1) / 2);
  const tail = width - 1 - head;
  return chars.slice(0, head).join("") + "…" + (tail > 0 ? chars.slice(-tail).join("") : "");
}

export interface ProgressView {
  unit: string;
  item: string;
  progress: BackupProgress;
  elapsedSeconds: number;
}

const MIN_NAME = 12;

/** The line to draw, at most `columns - 1` characters (the last column would wrap on some terminals). */
export function progressLine(v: ProgressView, columns: number): string {
  const width = Math.max(10, columns - 1);
  const p = v.progress;
  const pct = Math.min(100, Math.max(0, Math.floor((p.percentDone ?? 0) * 100)));
  const done = p.bytesDone ?? 0;
  const rate = v.elapsedSeconds > 0 ? done / v.elapsedSeconds : undefined;
  const left = p.totalBytes !== undefined ? p.totalBytes - done : undefined;
  const eta = rate && rate > 0 && left !== undefined && left >= 0 ? left / rate : undefined;
  // In order of importance: what is dropped first comes last.
  const figures: { text: string; drop: number }[] = [
    { text: `${pct}%`, drop: 9 },
    {
      text: p.totalBytes !== undefined
        ? `${formatBytes(done)}/${formatBytes(p.totalBytes)}`
        : formatBytes(done),
      drop: 8,
    },
    { text: eta !== undefined ? `ETA ${clock(eta)}` : "ETA ?", drop: 7 },
    { text: rate !== undefined ? `${formatBytes(rate)}/s` : "", drop: 5 },
    { text: `${clock(v.elapsedSeconds)} elapsed`, drop: 4 },
  ].filter((f) => f.text);
  const bar = (n: number) => `[${"#".repeat(Math.round((pct / 100) * n)).padEnd(n, ".")}]`;
  const name = `[${v.unit}] ${v.item}`;

  let shown = figures;
  const attempt = (withBar: boolean, nameWidth: number) => {
    const stats = shown.map((f) => f.text).join("  ");
    const label = middleTruncate(name, nameWidth);
    return [label, withBar ? bar(16) : "", stats].filter(Boolean).join("  ");
  };
  // 1. Everything, full name. 2. Without the bar. 3. The name cut in the middle.
  // 4. Dropping figures, least important first. 5. Whatever still does not fit is cut.
  for (const withBar of [true, false]) {
    const full = attempt(withBar, name.length);
    if (full.length <= width) return full;
  }
  while (true) {
    const stats = shown.map((f) => f.text).join("  ");
    const room = width - stats.length - 2;
    if (room >= MIN_NAME || shown.length <= 1) {
      return attempt(false, Math.max(1, Math.min(name.length, room))).slice(0, width);
    }
    const lowest = Math.min(...shown.map((f) => f.drop));
    shown = shown.filter((f) => f.drop !== lowest);
  }
}
