/** HostFiles on the local file system; sizes through `du` (faster than walking in JS). */
import type { HostFiles, ProcessRunner } from "../core/ports.ts";
import { exists } from "./files.ts";

export class LocalHostFiles implements HostFiles {
  constructor(private runner: ProcessRunner) {}

  async canReadDir(path: string): Promise<boolean> {
    try {
      for await (const _ of Deno.readDir(path)) break;
      return true;
    } catch {
      return false;
    }
  }

  async mode(path: string): Promise<number | undefined> {
    try {
      return ((await Deno.stat(path)).mode ?? 0o644) & 0o7777;
    } catch {
      return undefined;
    }
  }

  async existing(paths: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const p of paths) if (await exists(p)) out.push(p);
    return out;
  }

  async size(path: string): Promise<number | undefined> {
    try {
      const r = await this.runner.run("du", ["-sb", "--", path]);
      if (r.code !== 0) return undefined;
      const n = Number(r.stdout.split(/\s/)[0]);
      return Number.isFinite(n) ? n : undefined;
    } catch {
      return undefined;
    }
  }
}
