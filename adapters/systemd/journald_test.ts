import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { decodeJournalEntry } from "../../tests/support/journal.ts";
import {
  encodeJournalEntry,
  fieldsFromRecord,
  journalStreamMatches,
  validFieldName,
} from "./journald.ts";

Deno.test("simple values use NAME=value lines", () => {
  const bytes = encodeJournalEntry({
    MESSAGE: "saved volume wp_db",
    PRIORITY: "6",
    SYSLOG_IDENTIFIER: "stowage",
  });
  assert.equal(
    new TextDecoder().decode(bytes),
    "MESSAGE=saved volume wp_db\nPRIORITY=6\nSYSLOG_IDENTIFIER=stowage\n",
  );
});

Deno.test("multi-line values use the binary length-prefixed form", () => {
  const bytes = encodeJournalEntry({ MESSAGE: "line one\nline two", UNIT: "wp" });
  const enc = new TextEncoder();
  const expected = new Uint8Array([
    ...enc.encode("MESSAGE\n"),
    17,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...enc.encode("line one\nline two\n"),
    ...enc.encode("UNIT=wp\n"),
  ]);
  assert.deepEqual(bytes, expected);
  assert.deepEqual(decodeJournalEntry(bytes), { MESSAGE: "line one\nline two", UNIT: "wp" });
});

Deno.test("UTF-8 lengths count bytes, not characters", () => {
  const bytes = encodeJournalEntry({ MESSAGE: "ü\n€" });
  assert.equal(new DataView(bytes.buffer).getBigUint64("MESSAGE\n".length, true), 6n);
  assert.deepEqual(decodeJournalEntry(bytes), { MESSAGE: "ü\n€" });
});

Deno.test("invalid field names and empty values are dropped", () => {
  assert.equal(validFieldName("BACKUP_ID"), true);
  assert.equal(validFieldName("_PID"), false);
  assert.equal(validFieldName("lower"), false);
  assert.equal(validFieldName("A".repeat(65)), false);
  assert.deepEqual(
    decodeJournalEntry(encodeJournalEntry({ MESSAGE: "m", _PID: "1", bad: "x", UNIT: "" })),
    { MESSAGE: "m" },
  );
});

Deno.test("log record properties become UNIT, OPERATION and BACKUP_ID", () => {
  const record = {
    category: ["stowage"],
    level: "warning",
    message: ["stopped ", "wp-db-1"],
    rawMessage: "stopped {c}",
    timestamp: Date.now(),
    properties: { unit: "wp", operation: "backup", backupId: "2025-01-01T02-00-00Z" },
  } as unknown as LogRecord;
  assert.deepEqual(fieldsFromRecord(record), {
    MESSAGE: "stopped wp-db-1",
    PRIORITY: "4",
    SYSLOG_IDENTIFIER: "stowage",
    UNIT: "wp",
    OPERATION: "backup",
    BACKUP_ID: "2025-01-01T02-00-00Z",
  });
});

Deno.test("JOURNAL_STREAM must name stderr's device and inode", () => {
  assert.equal(journalStreamMatches(undefined, { dev: 1, ino: 2 }), false);
  assert.equal(journalStreamMatches("1:2", { dev: 1, ino: 2 }), true);
  assert.equal(journalStreamMatches("1:3", { dev: 1, ino: 2 }), false);
  assert.equal(journalStreamMatches("junk", { dev: 1, ino: 2 }), false);
  assert.equal(journalStreamMatches("1:2", undefined), true);
});
