/**
 * journald's native protocol: when stderr is connected to the journal (JOURNAL_STREAM names
 * stderr's device:inode), log records go as datagrams to /run/systemd/journal/socket with
 * structured fields (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=stowage, UNIT, OPERATION, BACKUP_ID),
 * so `journalctl -u stowage.service UNIT=wordpress OPERATION=backup` works. Otherwise stowage keeps
 * writing plain lines to stderr. A record that cannot be sent is written to stderr instead.
 */
import type { LogRecord } from "@logtape/logtape";
import { acquireSender, DatagramSender } from "./datagram.ts";
import { concatBytes } from "../../core/bytes.ts";

export const JOURNAL_SOCKET = "/run/systemd/journal/socket";
/** Overrides the socket path (tests). */
export const JOURNAL_SOCKET_ENV = "STOWAGE_JOURNAL_SOCKET";
/** journald rejects bigger datagrams without memfd passing; our messages are lines, not blobs. */
const MAX_VALUE_BYTES = 48 * 1024;

export type JournalFields = Record<string, string>;

export function validFieldName(name: string): boolean {
  return /^[A-Z0-9][A-Z0-9_]{0,63}$/.test(name);
}

/**
 * Encodes one entry: `NAME=value\n`, or for values holding a newline the binary form
 * `NAME\n<64-bit little-endian length><value>\n`. Invalid names and empty values are dropped.
 */
export function encodeJournalEntry(fields: JournalFields): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const [name, raw] of Object.entries(fields)) {
    if (!validFieldName(name) || raw === undefined || raw === "") continue;
    let value = enc.encode(raw);
    if (value.length > MAX_VALUE_BYTES) {
      value = enc.encode(truncateUtf8(raw, MAX_VALUE_BYTES - 16) + " [truncated]");
    }
    if (value.includes(0x0a)) {
      const len = new Uint8Array(8);
      new DataView(len.buffer).setBigUint64(0, BigInt(value.length), true);
      parts.push(enc.encode(name + "\n"), len, value, enc.encode("\n"));
    } else {
      parts.push(enc.encode(name + "="), value, enc.encode("\n"));
    }
  }
  return concatBytes(parts);
}

function truncateUtf8(s: string, maxBytes: number): string {
  const enc = new TextEncoder();
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (enc.encode(s.slice(0, mid)).length <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  return s.slice(0, lo);
}

const PRIORITY: Record<string, string> = {
  trace: "7",
  debug: "7",
  info: "6",
  warning: "4",
  error: "3",
  fatal: "2",
};

/** Journal fields of a log record; `unit`, `operation` and `backupId` properties become fields. */
export function fieldsFromRecord(r: LogRecord): JournalFields {
  const message = r.message.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join("");
  const p = r.properties as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const fields: JournalFields = {
    MESSAGE: message,
    PRIORITY: PRIORITY[r.level] ?? "6",
    SYSLOG_IDENTIFIER: "stowage",
  };
  const unit = str(p.unit);
  const operation = str(p.operation);
  const backupId = str(p.backupId) ?? str(p.backup_id);
  if (unit) fields.UNIT = unit;
  if (operation) fields.OPERATION = operation;
  if (backupId) fields.BACKUP_ID = backupId;
  return fields;
}

/**
 * Whether stderr is the journal stream systemd set up: JOURNAL_STREAM is `DEV:INODE` of that
 * stream. When stderr's identity cannot be read, the variable's presence decides.
 */
export function journalStreamMatches(
  journalStream: string | undefined,
  stderr: { dev: number; ino: number | null } | undefined,
): boolean {
  if (!journalStream) return false;
  const m = /^(\d+):(\d+)$/.exec(journalStream.trim());
  if (!m) return false;
  if (!stderr || stderr.ino === null) return true;
  return Number(m[1]) === stderr.dev && Number(m[2]) === stderr.ino;
}

export class JournaldSink {
  #sender: ReturnType<typeof acquireSender>;
  #failed = false;
  constructor(
    readonly socket: string,
    env: (name: string) => string | undefined,
    private fallback: (line: string) => void,
  ) {
    this.#sender = acquireSender(env);
  }

  /** Queues one entry; on failure the message goes to stderr (and later entries too). */
  write(fields: JournalFields): void {
    if (this.#failed) {
      this.fallback(fields.MESSAGE ?? "");
      return;
    }
    this.#sender.sender.send(this.socket, encodeJournalEntry(fields)).catch((e) => {
      if (!this.#failed) {
        this.#failed = true;
        this.fallback(
          `cannot write to the journal at '${this.socket}' (${
            e instanceof Error ? e.message : e
          }); logging to stderr`,
        );
      }
      this.fallback(fields.MESSAGE ?? "");
    });
  }

  readonly logSink = (r: LogRecord) => this.write(fieldsFromRecord(r));

  flush(): Promise<void> {
    return this.#sender.sender.flush();
  }

  close(): Promise<void> {
    return this.#sender.release();
  }
}

/**
 * Device and inode of our stderr. Deno asks for --allow-all to stat /proc/self/fd/2, so a shell
 * does it for us on an inherited copy of the descriptor (fd 3; its own errors go nowhere).
 */
function stderrIdentity(): { dev: number; ino: number | null } | undefined {
  try {
    return Deno.statSync("/proc/self/fd/2");
  } catch { /* not allowed: ask a child that inherits it */ }
  try {
    const out = new Deno.Command("sh", {
      args: ["-c", "exec 3>&2 2>/dev/null; exec stat -L -c %d:%i /proc/self/fd/3"],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).outputSync();
    const m = /^(\d+):(\d+)$/.exec(new TextDecoder().decode(out.stdout).trim());
    return out.success && m ? { dev: Number(m[1]), ino: Number(m[2]) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A journald sink when stderr is the journal and the socket exists, else undefined (plain stderr).
 * `fallback` receives lines that could not be sent.
 */
export function journaldFromEnv(
  env: (name: string) => string | undefined,
  fallback: (line: string) => void,
): JournaldSink | undefined {
  if (!DatagramSender.available()) return undefined;
  if (!env("JOURNAL_STREAM")) return undefined;
  if (!journalStreamMatches(env("JOURNAL_STREAM"), stderrIdentity())) return undefined;
  const socket = env(JOURNAL_SOCKET_ENV) || JOURNAL_SOCKET;
  try {
    if (!Deno.statSync(socket).isSocket) return undefined;
  } catch {
    return undefined;
  }
  try {
    return new JournaldSink(
      socket,
      env,
      (line) => fallback(line.endsWith("\n") ? line : line + "\n"),
    );
  } catch {
    // No socket of our own to send from (no RuntimeDirectory, or the permission set): plain stderr.
    return undefined;
  }
}
