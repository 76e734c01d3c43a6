/**
 * The results of past runs, in `<state>/results.json` (mode 0600, replaced atomically). Every run
 * is recorded here, whoever started it, so the daemon's /status and /metrics also show runs the
 * systemd timer or a person started. A sidecar flock serialises concurrent writers; recording
 * the same run twice is harmless (see core/service/results.ts).
 */
import { StowageError } from "../core/errors.ts";
import type { NotifyResult, RunReport } from "../core/report.ts";
import {
  applyNotifications,
  applyRun,
  emptyResults,
  forgetUnit,
  parseResults,
  type ResultsDoc,
} from "../core/service/results.ts";
import { applyVerify, type VerifyResult } from "../core/service/verify_results.ts";
import { ioError, readTextIfExists, writeFileAtomic } from "./files.ts";

export async function readResults(path: string): Promise<ResultsDoc> {
  let text: string | undefined;
  try {
    text = await readTextIfExists(path);
  } catch (e) {
    throw ioError(`read run results '${path}'`, e);
  }
  if (text === undefined || text.trim() === "") return emptyResults();
  const doc = parseResults(text);
  if (!doc) {
    throw new StowageError(
      "io",
      `Cannot read run results '${path}': not a stowage results file`,
      "Move the file away; the next backup run starts a new one.",
    );
  }
  return doc;
}

/** Folds a run report into the store. */
export async function recordRun(path: string, report: RunReport): Promise<void> {
  await updateResults(path, (doc) => applyRun(doc, report));
}

/** Folds notification results of a run that ended without a report. */
export async function recordNotifications(path: string, results: NotifyResult[]): Promise<void> {
  await updateResults(path, (doc) => applyNotifications(doc, results));
}

/** Folds a restore drill's result into the store. */
export async function recordVerify(path: string, result: VerifyResult): Promise<void> {
  await updateResults(path, (doc) => applyVerify(doc, result));
}

/** Removes a unit that no longer exists from the store. Returns false when it was not there. */
export async function forgetResultsUnit(path: string, unit: string): Promise<boolean> {
  // An unknown unit is an answer, not a change: no lock file, no rewrite.
  if (!(unit in (await readResults(path)).units)) return false;
  let found = false;
  await updateResults(path, (doc) => {
    found = unit in doc.units;
    return found ? forgetUnit(doc, unit) : doc;
  });
  return found;
}

async function updateResults(path: string, change: (doc: ResultsDoc) => ResultsDoc): Promise<void> {
  const dir = path.substring(0, path.lastIndexOf("/")) || ".";
  let lock: Deno.FsFile;
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    lock = await Deno.open(`${path}.lock`, { read: true, write: true, create: true, mode: 0o600 });
  } catch (e) {
    throw ioError(`lock run results '${path}'`, e);
  }
  try {
    await lock.lock(true);
    let doc: ResultsDoc;
    try {
      doc = await readResults(path);
    } catch (e) {
      if (
        !(e instanceof StowageError) || e.code !== "io" ||
        !e.message.includes("not a stowage results file")
      ) throw e;
      // A damaged file must not stop every later run from being recorded: keep it aside.
      await Deno.rename(path, `${path}.damaged-${Date.now()}`).catch(() => {});
      doc = emptyResults();
    }
    const next = change(doc);
    if (next !== doc) await writeFileAtomic(path, JSON.stringify(next, null, 2) + "\n", 0o600);
  } finally {
    lock.close();
  }
}
