/**
 * Filesystem snapshots on this host (issue 18): facts from findmnt, btrfs-progs and lvm2, btrfs
 * read-only snapshots created and deleted with `btrfs subvolume`, and the snapshot journal: one
 * JSON file beside the restart journal, replaced atomically and fsynced before each snapshot is
 * created, so the next stowage command deletes what a killed run left (core/fs_snapshot/run.ts).
 */
import { StowageError } from "../core/errors.ts";
import type { ProcessRunner } from "../core/ports.ts";
import type { FsSnapshotJournalEntry, FsSnapshots } from "../core/fs_snapshot/ports.ts";
import {
  isOwnSnapshot,
  type MountInfo,
  type PathProbe,
  type SnapshotSpec,
} from "../core/fs_snapshot/plan.ts";
import { RecordFile } from "./record_file.ts";

const TIMEOUT_MS = 60_000;

/** The snapshot journal's file: beside the restart journal, in the state directory. */
export function fsSnapshotJournal(journalFile: string): string {
  return `${journalFile.substring(0, journalFile.lastIndexOf("/")) || "."}/fs-snapshots.json`;
}

export class HostFsSnapshots implements FsSnapshots {
  // Unreadable: fail loudly rather than forget snapshots a crashed run left.
  readonly #journal: RecordFile<FsSnapshotJournalEntry>;
  constructor(readonly runner: ProcessRunner, readonly journalPath: string) {
    this.#journal = new RecordFile(journalPath, "entries", (e) => e.unit, "throw");
  }

  async #run(program: string, args: string[]): Promise<string> {
    const r = await this.runner.run(program, args, { timeoutMs: TIMEOUT_MS });
    if (r.code !== 0 || r.signal) {
      const why = (r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`).split("\n").slice(-3)
        .join(" ");
      throw new StowageError("io", `${program} ${args.join(" ")} failed: ${why}`);
    }
    return r.stdout;
  }

  async probe(paths: string[]): Promise<Map<string, PathProbe>> {
    const out = new Map<string, PathProbe>();
    let mounts: MountInfo[] = [];
    try {
      mounts = parseFindmnt(await this.#run("findmnt", ["-J", "-l", "-o", COLUMNS]));
    } catch (e) {
      for (const p of paths) out.set(p, { path: p, mounts: [], error: reason(e, "findmnt") });
      return out;
    }
    const subvolumeLists = new Map<string, { id: number; path: string }[]>();
    for (const path of paths) {
      const probe: PathProbe = { path, mounts };
      out.set(path, probe);
      try {
        // From the one listing above (findmnt -T per path cost one process each: dry-run of 50
        // stacks spent most of its time there); findmnt itself only when the path cannot be
        // resolved, so a missing path fails with findmnt's own message as before.
        const real = await Deno.realPath(path).catch(() => undefined);
        const m = real !== undefined ? mountOf(real, mounts) : parseFindmnt(
          await this.#run("findmnt", ["-J", "-T", path, "-o", COLUMNS]),
        )[0];
        if (!m) throw new Error(`no mount found for ${path}`);
        probe.mount = m;
        if (m.fstype === "btrfs") {
          const id = Number(
            (await this.#run("btrfs", ["inspect-internal", "rootid", path])).trim(),
          );
          let list = subvolumeLists.get(m.source);
          if (!list) {
            list = parseSubvolumeList(await this.#run("btrfs", ["subvolume", "list", m.target]));
            subvolumeLists.set(m.source, list);
          }
          probe.btrfs = { subvolumeId: id, subvolumes: list };
        } else if (/^\/dev\/(mapper\/|dm-)/.test(m.source)) {
          probe.lvm = await this.#lvm(m.source);
        }
      } catch (e) {
        probe.error = reason(e, probe.mount?.fstype === "btrfs" ? "btrfs" : "findmnt");
      }
    }
    return out;
  }

  /** The LVM logical volume behind a device-mapper device; undefined when it is not one. */
  async #lvm(device: string): Promise<PathProbe["lvm"]> {
    const r = await this.runner.run("lvs", [
      "--reportformat",
      "json",
      "--units",
      "b",
      "--nosuffix",
      "-o",
      "vg_name,lv_name,lv_attr,vg_free",
      device,
    ], { timeoutMs: TIMEOUT_MS, env: { LVM_SUPPRESS_FD_WARNINGS: "1" } }).catch(() => undefined);
    if (!r || r.code !== 0) return undefined;
    try {
      const lv = JSON.parse(r.stdout).report?.[0]?.lv?.[0];
      if (!lv) return undefined;
      return {
        vg: String(lv.vg_name),
        lv: String(lv.lv_name),
        attr: String(lv.lv_attr),
        vgFreeBytes: Number(lv.vg_free),
      };
    } catch {
      return undefined;
    }
  }

  async create(spec: SnapshotSpec): Promise<void> {
    if (!isOwnSnapshot(spec)) throw new Error(`refusing to create ${JSON.stringify(spec)}`);
    if (spec.method === "btrfs") {
      const dir = spec.dest.slice(0, spec.dest.lastIndexOf("/"));
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      await this.#run("btrfs", ["subvolume", "snapshot", "-r", spec.source, spec.dest]);
      return;
    }
    throw new StowageError("io", "LVM snapshots are not implemented yet");
  }

  async remove(spec: SnapshotSpec): Promise<void> {
    if (!isOwnSnapshot(spec)) throw new Error(`refusing to delete ${JSON.stringify(spec)}`);
    if (spec.method === "btrfs") {
      try {
        await Deno.lstat(spec.dest);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return;
        throw e;
      }
      await this.#run("btrfs", ["subvolume", "delete", spec.dest]);
      // The folder that holds snapshots goes too once empty (left only while one exists).
      await Deno.remove(spec.dest.slice(0, spec.dest.lastIndexOf("/"))).catch(() => {});
      return;
    }
    throw new StowageError("io", "LVM snapshots are not implemented yet");
  }

  entries(): Promise<FsSnapshotJournalEntry[]> {
    return this.#journal.read();
  }

  record(entry: FsSnapshotJournalEntry): Promise<void> {
    return this.#journal.put(entry);
  }

  clear(unit: string): Promise<void> {
    return this.#journal.remove(unit);
  }
}

const COLUMNS = "TARGET,SOURCE,FSROOT,FSTYPE";

function reason(e: unknown, program: string): string {
  if (e instanceof StowageError && e.code === "dependency.missing") {
    return `${program} is not installed`;
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * The mount a resolved (symlink-free) path lives on, from the full mount list in mount order: the
 * longest target that is the path or one of its parents, the last mounted when several share it
 * (what `findmnt -T` answers for an existing path).
 */
export function mountOf(realPath: string, mounts: MountInfo[]): MountInfo | undefined {
  let best: MountInfo | undefined;
  for (const m of mounts) {
    const t = m.target;
    const inside = t === "/" || realPath === t || realPath.startsWith(`${t}/`);
    if (inside && (!best || t.length >= best.target.length)) best = m;
  }
  return best;
}

/** findmnt -J output; btrfs sources lose their `[/subvolume]` suffix (that is FSROOT). */
export function parseFindmnt(text: string): MountInfo[] {
  const doc = JSON.parse(text) as { filesystems?: Record<string, string | null>[] };
  return (doc.filesystems ?? []).map((f) => ({
    target: f.target ?? "",
    source: (f.source ?? "").replace(/\[[^\]]*\]$/, ""),
    fsroot: f.fsroot ?? "/",
    fstype: f.fstype ?? "",
  }));
}

/** `btrfs subvolume list` lines: `ID 256 gen 7 top level 5 path vol1`. */
export function parseSubvolumeList(text: string): { id: number; path: string }[] {
  const out: { id: number; path: string }[] = [];
  for (const line of text.split("\n")) {
    const m = /^ID (\d+) .*? path (.+)$/.exec(line);
    if (m) out.push({ id: Number(m[1]), path: m[2].replace(/^<FS_TREE>\//, "") });
  }
  return out;
}
