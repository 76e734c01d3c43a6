/**
 * `stowage verify`: restore drills. Parses the flags, drives the verify use case (app/verify.ts)
 * and renders one block per unit (or one JSON document). Exit code: the worst unit's.
 */
import { Option } from "@commander-js/extra-typings";
import type { Program } from "../mod.ts";
import { globals, setExitCode, usageError } from "../mod.ts";
import type { Runtime } from "../runtime.ts";
import { formatBytes, printJson } from "../output.ts";
import { eventRenderer } from "../render.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import type { ErrorCode } from "../../core/errors.ts";
import type { PointSelector } from "../../core/restore/points.ts";
import { parseBackupId, readEnvFile } from "../parse.ts";
import { cleanupSandboxes, prepareVerify, runVerify, type VerifyReport } from "../../app/verify.ts";

interface Flags {
  unit?: string[];
  latest?: boolean;
  backupId?: string;
  keep?: boolean;
  envFile?: string;
  cleanup?: boolean;
  allowPrivileged?: boolean;
  json?: boolean;
}

export function registerVerify(program: Program, rt: Runtime) {
  program
    .command("verify")
    .description(
      "Restore drill: bring a backup up in a sandbox beside the live unit, prove it healthy, measure the recovery time, remove the sandbox.",
    )
    .option(
      "-u, --unit <name...>",
      "the unit to verify (repeatable); default: every unit with backups",
    )
    .addOption(
      new Option("--latest", "the newest complete backup (the default)").conflicts(["backupId"]),
    )
    .option("--backup-id <id>", "a restore point by its backup id (e.g. 2025-01-31T23-59-59Z)")
    .option(
      "--keep",
      "leave the sandbox running to look at it; `stowage verify --cleanup` removes it",
    )
    .option("--env-file <file>", "KEY=VALUE file with values for redacted variables")
    .option(
      "--allow-privileged",
      "run services that ask for privileged mode, capabilities, devices or host namespaces",
    )
    .option("--cleanup", "remove every sandbox a drill left (--keep, or a killed run) and exit")
    .option("--json", "print one JSON document on stdout")
    .addHelpText(
      "after",
      `
The sandbox gets its own names (verify-<run>-<unit>), internal networks with free subnets, no
published ports, bind folders under <state_dir>/verify/<run>, CPU and memory caps (config
verify.*). Live containers, volumes and networks are never touched. It holds the host lock while
it runs. See docs/verify.md. Exit codes: docs/exit-codes.md.`,
    )
    .action(async (opts, cmd) => {
      await verifyAction(rt, opts as Flags, globals(cmd));
    });
}

async function verifyAction(rt: Runtime, flags: Flags, g: { config?: string; logLevel?: string }) {
  if (flags.cleanup && (flags.keep || flags.backupId || flags.latest || flags.unit)) {
    throw usageError(
      "--cleanup removes sandboxes and takes no other flag but --json",
      "Run `stowage verify --cleanup` on its own.",
    );
  }
  const secrets = flags.envFile !== undefined ? await readEnvFile(flags.envFile) : {};
  const selector = parseSelector(flags);
  const loaded = await rt.loadConfig(g);
  const sink = eventRenderer(rt, { json: !!flags.json });

  if (flags.cleanup) {
    const removed = await cleanupSandboxes(rt.app, loaded, { sink, signal: rt.signal });
    if (flags.json) printJson(rt, { ok: removed.every((r) => r.problems.length === 0), removed });
    else if (removed.length === 0) rt.write("No restore drill sandbox is left.\n");
    else {
      for (const r of removed) {
        rt.write(
          `sandbox ${r.runId} of ${r.unit}: removed ${r.removed.length} object(s)${
            r.problems.length ? `; could not remove: ${r.problems.join("; ")}` : ""
          }\n`,
        );
      }
    }
    if (removed.some((r) => r.problems.length > 0)) setExitCode(EXIT_CODES["engine.error"]);
    return;
  }

  const request = {
    units: flags.unit ?? [],
    selector,
    keep: !!flags.keep,
    secrets,
    allowPrivileged: !!flags.allowPrivileged,
  };
  const { repo, points } = await prepareVerify(rt.app, loaded, request);
  const { repositoryCheck, reports } = await runVerify(rt.app, loaded, repo, points, request, {
    sink,
    signal: rt.signal,
    runId: () => crypto.randomUUID().replaceAll("-", "").slice(0, 8),
  });
  const ok = reports.length > 0 && reports.every((r) => r.ok);
  if (flags.json) printJson(rt, { ok, repositoryCheck, reports });
  else {
    rt.write(
      `repository checked${
        repositoryCheck.readDataPercent > 0
          ? ` with ${repositoryCheck.readDataPercent}% of its data read`
          : ""
      }: no errors (${repositoryCheck.seconds.toFixed(1)} s)\n`,
    );
    rt.write(reports.map(renderReport).join("\n"));
  }
  if (!ok) {
    if (!flags.json) {
      for (const r of reports.filter((r) => r.error)) {
        rt.writeErr(`stowage: ${r.error!.message}\n`);
        for (const d of r.error!.details ?? []) rt.writeErr(`  ${d}\n`);
        if (r.error!.hint) rt.writeErr(`hint: ${r.error!.hint}\n`);
      }
    }
    setExitCode(worstExit(reports, rt.signal.aborted));
  }
}

function worstExit(reports: VerifyReport[], interrupted: boolean): number {
  if (interrupted) return EXIT_CODES.interrupted;
  const codes = reports.filter((r) => !r.ok).map((r) => r.error?.code ?? "verify.failed");
  for (const c of ["verify.failed", "verify.refused", "verify.unverifiable"]) {
    if (codes.includes(c)) return EXIT_CODES[c as ErrorCode];
  }
  return EXIT_CODES[codes[0] as ErrorCode] ?? EXIT_CODES["verify.failed"];
}

export function renderReport(r: VerifyReport): string {
  const lines: string[] = [];
  const head = `verify ${r.unit}${r.backupId ? ` (backup ${r.backupId})` : ""}`;
  if (r.status === "healthy") {
    lines.push(
      `${head}: healthy; recovery time ${r.recoverySeconds?.toFixed(1)} s (restore ${
        r.restoreSeconds?.toFixed(1)
      } s, start to ready ${r.startSeconds?.toFixed(1)} s)`,
    );
  } else lines.push(`${head}: ${r.status.toUpperCase()}`);
  if (r.sandbox) lines.push(`  sandbox ${r.sandbox} (run ${r.runId})`);
  for (const s of r.services) {
    lines.push(
      `  service ${s.service}: ${s.status}${s.healthcheck ? "" : " (no healthcheck)"}${
        s.detail ? ` - ${s.detail}` : ""
      }`,
    );
  }
  for (const v of r.volumes) {
    const counted = v.found
      ? `${v.found.entries} entries, ${formatBytes(v.found.bytes)}`
      : "not counted";
    const verdict = !v.ok
      ? `DIFFERS - ${v.detail}`
      : v.found
      ? `as restic recorded (${counted})`
      : v.detail ?? counted;
    lines.push(`  ${v.kind} ${v.name}: ${verdict}`);
  }
  for (const n of r.notes) lines.push(`  note: ${n}`);
  if (r.kept) {
    lines.push(`  kept for you: ${r.kept.objects.join(", ")}`);
    lines.push(`  remove it with: ${r.kept.remove}`);
  } else if (r.removed.length) lines.push(`  removed ${r.removed.length} sandbox object(s)`);
  for (const p of r.cleanupProblems) lines.push(`  not removed: ${p}`);
  return lines.join("\n") + "\n";
}

function parseSelector(flags: Flags): PointSelector {
  if (flags.backupId !== undefined) return { backupId: parseBackupId(flags.backupId) };
  return { latest: true };
}
