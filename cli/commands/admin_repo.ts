import { isInternalUnit } from "../../core/backup/plan.ts";
import type { AdminCommand } from "./admin.ts";
import type { Runtime } from "../runtime.ts";
import { globals } from "../mod.ts";
import { formatBytes, printJson } from "../output.ts";
import { parseSnapshot } from "../../core/tags.ts";
import { redactLocation } from "../../core/secrets.ts";

type RepoCommand = ReturnType<AdminCommand["command"]>;

export function registerAdminRepo(admin: AdminCommand, rt: Runtime) {
  const repoCmd = admin.command("repo").description("Create and inspect the restic repository.");
  registerRepoInit(repoCmd, rt);
  registerRepoStatus(repoCmd, rt);
  registerRepoUnlock(repoCmd, rt);
  registerRepoCheck(repoCmd, rt);
}

function registerRepoInit(repoCmd: RepoCommand, rt: Runtime) {
  repoCmd
    .command("init")
    .description(
      "Create the configured repository (the default one gets a generated 0600 password file).",
    )
    .option("--json", "print a JSON document")
    .action(async (opts, cmd) => {
      const loaded = await rt.loadConfig(globals(cmd));
      const repo = await rt.repository(loaded, { prepare: true });
      const location = redactLocation(loaded.config.repository.location ?? loaded.paths.repository);
      const passwordFile = loaded.config.repository.password_file ?? loaded.paths.passwordFile;
      const existed = await repo.exists();
      if (!existed) await repo.init();
      if (opts.json) printJson(rt, { location, passwordFile, created: !existed });
      else {
        rt.write(
          existed
            ? `A repository already exists at ${location}; nothing to do.\n`
            : `Created the repository at ${location}.\n`,
        );
        rt.write(
          `Its password is in ${passwordFile}. Without it the backups cannot be read: keep a copy off this host (\`stowage disaster-recovery\`).\n`,
        );
      }
    });
}

function registerRepoStatus(repoCmd: RepoCommand, rt: Runtime) {
  repoCmd
    .command("status")
    .description("Show where the repository is, whether it opens, its snapshots, size and locks.")
    .option("--json", "print a JSON document")
    .action(async (opts, cmd) => {
      const loaded = await rt.loadConfig(globals(cmd));
      const repo = await rt.repository(loaded, { prepare: false });
      const location = redactLocation(loaded.config.repository.location ?? loaded.paths.repository);
      const version = await repo.version();
      const exists = await repo.exists();
      const snaps = exists ? (await repo.snapshots()).map(parseSnapshot) : [];
      const stowageSnaps = snaps.filter((s) => s.tags.includes("stowage"));
      const stats = exists ? await repo.stats({ mode: "raw-data" }) : undefined;
      const locks = exists ? await repo.locks() : [];
      const doc = {
        location,
        passwordFile: loaded.config.repository.password_file ?? loaded.paths.passwordFile,
        restic: version,
        exists,
        snapshots: snaps.length,
        stowageSnapshots: stowageSnaps.length,
        units: [
          ...new Set(stowageSnaps.map((s) => s.unit).filter((u) => u && !isInternalUnit(u))),
        ].sort(),
        latest: stowageSnaps.map((s) => s.time).sort().at(-1) ?? null,
        rawDataBytes: stats?.totalSize ?? null,
        locks: locks.length,
      };
      if (opts.json) return printJson(rt, doc);
      renderRepoStatus(rt, doc);
    });
}

function registerRepoUnlock(repoCmd: RepoCommand, rt: Runtime) {
  repoCmd
    .command("unlock")
    .description(
      "Remove stale repository locks (left by a killed restic). Locks of live processes stay.",
    )
    .option("--json", "print a JSON document")
    .action(async (opts, cmd) => {
      const loaded = await rt.loadConfig(globals(cmd));
      const repo = await rt.repository(loaded, { prepare: false });
      const before = (await repo.locks()).length;
      await repo.unlock();
      const after = (await repo.locks()).length;
      if (opts.json) return printJson(rt, { removed: before - after, remaining: after });
      rt.write(
        `Removed ${before - after} stale lock(s); ${after} held by live processes remain.\n`,
      );
    });
}

function registerRepoCheck(repoCmd: RepoCommand, rt: Runtime) {
  repoCmd
    .command("check")
    .description("Verify the repository's structure (and with --read-data, every data blob: slow).")
    .option("--read-data", "read and verify all data")
    .option("--json", "print a JSON document")
    .action(async (opts, cmd) => {
      const loaded = await rt.loadConfig(globals(cmd));
      const repo = await rt.repository(loaded, { prepare: false });
      await repo.check({ readData: !!opts.readData });
      if (opts.json) return printJson(rt, { ok: true, readData: !!opts.readData });
      rt.write("The repository is consistent.\n");
    });
}

interface RepoStatus {
  location: string;
  restic: string;
  exists: boolean;
  snapshots: number;
  stowageSnapshots: number;
  units: (string | undefined)[];
  latest: string | null;
  rawDataBytes: number | null;
  locks: number;
}

function renderRepoStatus(rt: Runtime, doc: RepoStatus) {
  rt.write(`repository: ${doc.location}\nrestic:     ${doc.restic}\n`);
  if (!doc.exists) return rt.write("status:     not initialised (run `stowage admin repo init`)\n");
  rt.write(
    `snapshots:  ${doc.snapshots} (${doc.stowageSnapshots} by stowage) of ${doc.units.length} unit(s)\n`,
  );
  rt.write(
    `latest:     ${doc.latest ?? "-"}\nstored:     ${
      formatBytes(doc.rawDataBytes ?? undefined)
    } (deduplicated, compressed as restic stores it)\nlocks:      ${doc.locks}\n`,
  );
}
