/**
 * restic's --json output, typed and parsed. Pure: strings in, data out. Shapes are restic 0.14's
 * (later versions add fields, which are ignored).
 */
import { z } from "zod";
import { StowageError } from "../../core/errors.ts";
import type { BackupProgress, BackupSummary, ResticSnapshot } from "../../core/ports.ts";

const num = z.number().optional();

const statusSchema = z.object({
  message_type: z.literal("status"),
  percent_done: z.number().default(0),
  total_files: num,
  files_done: num,
  total_bytes: num,
  bytes_done: num,
  seconds_elapsed: num,
});

const summarySchema = z.object({
  message_type: z.literal("summary"),
  files_new: z.number(),
  files_changed: z.number(),
  files_unmodified: z.number(),
  data_added: z.number(),
  total_files_processed: z.number(),
  total_bytes_processed: z.number(),
  total_duration: z.number(),
  /** restic 0.14 gives the short id here; 0.17+ the full one. */
  snapshot_id: z.string(),
});

const errorSchema = z.object({
  message_type: z.literal("error"),
  error: z.unknown().optional(),
  during: z.string().optional(),
  item: z.string().optional(),
});

export type BackupStatusMessage = z.infer<typeof statusSchema>;
export type BackupSummaryMessage = z.infer<typeof summarySchema>;
export type BackupErrorMessage = z.infer<typeof errorSchema>;
export type BackupMessage = BackupStatusMessage | BackupSummaryMessage | BackupErrorMessage;

/** One line of `restic backup --json`; undefined for lines that are not a known message. */
export function parseBackupLine(line: string): BackupMessage | undefined {
  const t = line.trim();
  if (!t.startsWith("{")) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  const type = (v as { message_type?: unknown })?.message_type;
  const schema = type === "status"
    ? statusSchema
    : type === "summary"
    ? summarySchema
    : type === "error"
    ? errorSchema
    : undefined;
  if (!schema) return undefined;
  const r = schema.safeParse(v);
  return r.success ? r.data : undefined;
}

export function toProgress(m: BackupStatusMessage): BackupProgress {
  return {
    percentDone: m.percent_done,
    totalFiles: m.total_files,
    filesDone: m.files_done,
    totalBytes: m.total_bytes,
    bytesDone: m.bytes_done,
  };
}

export function toSummary(m: BackupSummaryMessage, fullId: string): BackupSummary {
  return {
    snapshotId: fullId,
    filesNew: m.files_new,
    filesChanged: m.files_changed,
    filesUnmodified: m.files_unmodified,
    dataAdded: m.data_added,
    totalFilesProcessed: m.total_files_processed,
    totalBytesProcessed: m.total_bytes_processed,
    durationSeconds: m.total_duration,
  };
}

/** What an error message is about: its item, or the Path restic put in the error. */
export function errorItem(m: BackupErrorMessage): string {
  const path = (m.error as { Path?: unknown } | undefined)?.Path;
  return m.item || (typeof path === "string" ? path : "") || "unknown item";
}

const snapshotSchema = z.object({
  id: z.string(),
  short_id: z.string(),
  time: z.string(),
  hostname: z.string(),
  paths: z.array(z.string()).default([]),
  tags: z.array(z.string()).nullish().transform((t) => t ?? undefined),
  parent: z.string().optional(),
  tree: z.string().optional(),
  original: z.string().optional(),
});

function unexpected(what: string, text: string): StowageError {
  return new StowageError(
    "repo.error",
    `Cannot read restic's ${what}: unexpected output '${text.trim().slice(0, 120)}'`,
    "Check that repository.restic_binary is restic 0.14 or newer.",
  );
}

function parseJson(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw unexpected(what, text);
  }
}

/** `restic snapshots --json`. restic 0.14 prints `null`-free arrays; tags may be absent. */
export function parseSnapshots(text: string): ResticSnapshot[] {
  const v = parseJson("snapshot list", text.trim() || "[]");
  const r = z.array(snapshotSchema).safeParse(v ?? []);
  if (!r.success) throw unexpected("snapshot list", text);
  return r.data.map((s) => {
    const out: ResticSnapshot = {
      id: s.id,
      short_id: s.short_id,
      time: s.time,
      hostname: s.hostname,
      paths: s.paths,
    };
    if (s.tags !== undefined) out.tags = s.tags;
    if (s.parent !== undefined) out.parent = s.parent;
    if (s.tree !== undefined) out.tree = s.tree;
    if (s.original !== undefined) out.original = s.original;
    return out;
  });
}

/** `restic stats --json`. */
export function parseStats(text: string): { totalSize: number; totalFileCount?: number } {
  const r = z.object({ total_size: z.number(), total_file_count: z.number().optional() }).safeParse(
    parseJson("statistics", text),
  );
  if (!r.success) throw unexpected("statistics", text);
  return { totalSize: r.data.total_size, totalFileCount: r.data.total_file_count };
}

/** `restic version`: "restic 0.14.0 compiled with go1.19.8 on linux/amd64" -> "0.14.0". */
export function parseVersion(text: string): string {
  const m = text.match(/restic (\d+\.\d+\.\d+\S*)/);
  if (!m) throw unexpected("version", text);
  return m[1];
}

/** `restic list locks`: one 64-hex id per line. */
export function parseLockIds(text: string): string[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => /^[0-9a-f]{64}$/.test(l));
}

/** The ids restic skipped with `Ignoring "x": no matching ID found` (forget, stats). */
export function ignoredIds(stderrLines: string[]): string[] {
  const out: string[] = [];
  for (const l of stderrLines) {
    const m = l.match(/^Ignoring "([^"]*)": no matching ID found/);
    if (m) out.push(m[1]);
  }
  return out;
}

/**
 * restic's `--time` takes "2006-01-02 15:04:05" in its local zone; we run it with TZ=UTC and
 * write the instant in UTC, so the snapshot lands at exactly that second (sub-seconds dropped).
 */
export function resticTime(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new Error("resticTime: invalid date");
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/** Splits a byte stream into text lines (the last line may lack a newline). */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
  }
  buf += decoder.decode();
  if (buf) yield buf;
}
