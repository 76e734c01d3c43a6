/**
 * `admin system show-deps` and `install-deps`: what stowage needs on this host, and apt-get
 * for what is missing on Debian/Ubuntu. The requirements and the install plan are pure
 * (core/deps.ts); the report is app/deps.ts; this file parses, runs apt-get when asked, and
 * renders (cli/deps_view.ts).
 */
import { promptContext } from "../prompt_output.ts";
import type { AdminCommand } from "./admin.ts";
import type { Runtime } from "../runtime.ts";
import { globals, setExitCode } from "../mod.ts";
import { printJson, tableWidth } from "../output.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { StowageError } from "../../core/errors.ts";
import { recoverLeftovers } from "../../app/host_lock.ts";
import { type DepsReport, gatherDeps } from "../../app/deps.ts";
import { renderDeps } from "../deps_view.ts";
import { nullSink } from "../../core/events.ts";

function commandLine(argv: string[]): string {
  return argv.join(" ");
}

type SystemCommand = ReturnType<AdminCommand["command"]>;

export function registerAdminSystem(admin: AdminCommand, rt: Runtime) {
  const system = admin
    .command("system")
    .description(
      "Check and install the programs stowage needs on this host; recover after a crash.",
    );
  registerSystemRecoverJournal(system, rt);
  registerSystemShowDeps(system, rt);
  registerSystemInstallDeps(system, rt);
}

function registerSystemRecoverJournal(system: SystemCommand, rt: Runtime) {
  system
    .command("recover-journal")
    .description(
      "Start the containers a crashed or killed backup left stopped (the restart journal). Run by the systemd units' ExecStopPost; safe to run any time.",
    )
    .option("--json", "print a JSON document")
    .action(async (opts, cmd) => {
      const loaded = await rt.loadConfig(globals(cmd));
      const engine = rt.engine(loaded);
      const result = await recoverLeftovers(rt.app, loaded, engine, nullSink, "recover-journal");
      if (result === "busy") {
        // A live backup owns the journal: it starts its own containers.
        if (opts.json) return printJson(rt, { busy: true, started: [], failed: [] });
        return rt.write("A backup is running; it will start the containers it stopped.\n");
      }
      if (opts.json) printJson(rt, { busy: false, ...result });
      else if (result.units.length === 0) {
        rt.write("Nothing to recover: no containers were left stopped.\n");
      } else {
        rt.write(
          `Started ${result.started.join(", ") || "nothing"} (left stopped by a crashed run of ${
            result.units.join(", ")
          }).\n`,
        );
        for (const f of result.failed) rt.writeErr(`could not start ${f.container}: ${f.error}\n`);
      }
      if (result.failed.length > 0) setExitCode(EXIT_CODES["engine.error"]);
    });
}

function registerSystemShowDeps(system: SystemCommand, rt: Runtime) {
  system
    .command("show-deps")
    .description(
      "Report each dependency (Docker Engine API, restic, compose tool, tar, openssl, ssh) as ok, missing, too old or not running. Exit code 4 when a required one is not ok.",
    )
    .option("--json", "print a JSON document")
    .action(async (opts, cmd) => {
      const report = await gatherDeps(rt.app, globals(cmd).config);
      if (opts.json) printJson(rt, report);
      else renderShowDeps(rt, report);
      if (!report.ok) setExitCode(EXIT_CODES["dependency.missing"]);
    });
}

function renderShowDeps(rt: Runtime, report: DepsReport) {
  rt.write(renderDeps(report, tableWidth(rt)));
  if (!report.ok) {
    rt.write(
      report.install.command
        ? `To install what is missing: stowage admin system install-deps (runs ${
          commandLine(report.install.command)
        })\n`
        : "Install what is missing with your system's package manager.\n",
    );
  }
  for (const n of report.install.notes) rt.write(`note: ${n}\n`);
}

interface InstallDepsOptions {
  yes?: true;
  dryRun?: true;
  json?: true;
}

type InstallPlan = DepsReport["install"];

function registerSystemInstallDeps(system: SystemCommand, rt: Runtime) {
  system
    .command("install-deps")
    .description(
      "Install what is missing with apt-get on Debian/Ubuntu (never replaces an installed Docker Engine); elsewhere print what to install.",
    )
    .option("--yes", "do not ask; required when stdin is not a terminal")
    .option("--dry-run", "print what would be installed and change nothing")
    .option("--json", "print a JSON document")
    .action(async (opts, cmd) => await installDeps(rt, opts, globals(cmd).config));
}

async function installDeps(
  rt: Runtime,
  opts: InstallDepsOptions,
  configFlag: string | undefined,
) {
  const report = await gatherDeps(rt.app, configFlag);
  const plan = report.install;
  const say = (s: string) => {
    if (!opts.json) rt.write(s);
  };
  for (const n of plan.notes) say(`note: ${n}\n`);
  if (plan.packages.length === 0) {
    if (opts.json) printJson(rt, { ok: true, installed: [], plan, dryRun: !!opts.dryRun });
    else say("Nothing to install: every required dependency is present.\n");
    return;
  }
  const steps = plan.family === "debian"
    ? [["apt-get", "update"], plan.command!]
    : plan.command
    ? [plan.command]
    : [];
  if (opts.dryRun || plan.family !== "debian") {
    return showInstallPlan(rt, opts, report, steps, say);
  }
  if (rt.uid !== 0) {
    throw new StowageError(
      "dependency.missing",
      `Cannot install ${plan.packages.join(", ")}: apt-get needs root`,
      "Run `sudo stowage admin system install-deps`.",
    );
  }
  if (!opts.yes && !await confirmInstall(rt, plan)) {
    say("Nothing installed.\n");
    return;
  }
  await runInstallSteps(rt, plan, steps, say);
  const after = await gatherDeps(rt.app, configFlag);
  if (opts.json) {
    printJson(rt, { ok: after.ok, installed: plan.packages, plan, dryRun: false, after });
  } else {
    say(`Installed ${plan.packages.join(", ")}.\n`);
    say(renderDeps(after, tableWidth(rt)));
  }
  if (!after.ok) setExitCode(EXIT_CODES["dependency.missing"]);
}

/** --dry-run, or a system apt-get does not serve: print the commands; only Debian is no error. */
function showInstallPlan(
  rt: Runtime,
  opts: InstallDepsOptions,
  report: DepsReport,
  steps: string[][],
  say: (s: string) => void,
) {
  const plan = report.install;
  if (opts.json) {
    printJson(rt, { ok: plan.family === "debian", installed: [], plan, dryRun: true });
  } else {
    say(`Missing: ${plan.packages.join(", ")} (on ${report.system.name})\n`);
    say(
      steps.length
        ? `${opts.dryRun && plan.family === "debian" ? "Would run" : "Run"}:\n${
          steps.map((s) => `  ${commandLine(s)}\n`).join("")
        }`
        : "Install them with your system's package manager.\n",
    );
  }
  if (plan.family === "debian") return;
  if (opts.json) return setExitCode(EXIT_CODES["dependency.missing"]);
  throw new StowageError(
    "dependency.missing",
    `Cannot install dependencies on ${report.system.name}: stowage installs only with apt-get (Debian, Ubuntu)`,
    steps.length
      ? `Run it yourself as root: ${commandLine(steps[0])}`
      : `Install ${plan.packages.join(", ")} with your system's package manager.`,
  );
}

/** Without --yes: a yes on the terminal, or an error when there is no terminal to ask. */
async function confirmInstall(rt: Runtime, plan: InstallPlan): Promise<boolean> {
  if (!rt.stdinIsTerminal) {
    throw new StowageError(
      "not.terminal",
      `Cannot install ${plan.packages.join(", ")} without confirmation: stdin is not a terminal`,
      "Add --yes to install them, or --dry-run to see the commands.",
    );
  }
  const { confirm } = await import("@inquirer/prompts");
  return await confirm({
    message: `Install ${plan.packages.join(", ")} with apt-get?`,
    default: true,
  }, promptContext(rt));
}

async function runInstallSteps(
  rt: Runtime,
  plan: InstallPlan,
  steps: string[][],
  say: (s: string) => void,
) {
  for (const step of steps) {
    say(`Running: ${commandLine(step)}\n`);
    const r = await rt.runner.run(step[0], step.slice(1), {
      env: { DEBIAN_FRONTEND: "noninteractive" },
      signal: rt.signal,
    });
    if (r.code !== 0) {
      const tail = (r.stderr || r.stdout).trim().split("\n").slice(-3).join(" / ");
      throw new StowageError(
        "dependency.missing",
        `Cannot install ${plan.packages.join(", ")}: '${
          commandLine(step)
        }' exited with ${r.code}: ${tail}`,
        "Check the apt sources and network, then run it again (`apt-get update` first).",
      );
    }
  }
}
