/**
 * The archive of a bundle as a byte stream: the bundle directory, then each entry in order.
 * Files are read a second time here (the first pass measured them for the manifest); a file that
 * changed in between fails the bundle instead of contradicting its own manifest.
 */
import { createHash } from "node:crypto";
import { StowageError } from "../errors.ts";
import type { AssembledBundle } from "./plan.ts";
import { type TarEntry, writeTar } from "./tar.ts";

/** Opens a payload file for reading; supplied by the adapter. */
export type OpenFile = (path: string) => AsyncIterable<Uint8Array>;

export function archiveStream(
  bundle: AssembledBundle,
  openFile: OpenFile,
  mtime: number,
): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder();
  async function* checked(name: string, path: string, sha256: string): AsyncGenerator<Uint8Array> {
    const hash = createHash("sha256");
    for await (const c of openFile(path)) {
      hash.update(c);
      yield c;
    }
    if (hash.digest("hex") !== sha256) {
      throw new StowageError(
        "io",
        `Cannot write the recovery bundle: '${path}' (${name}) changed while the bundle was being written`,
        "Run the command again.",
      );
    }
  }
  function* entries(): Generator<TarEntry> {
    yield { header: { name: bundle.root, type: "dir", mode: 0o700, size: 0, mtime } };
    let filesDir = false;
    for (const e of bundle.entries) {
      if (e.name.startsWith("files/") && !filesDir) {
        filesDir = true;
        yield {
          header: { name: `${bundle.root}/files`, type: "dir", mode: 0o700, size: 0, mtime },
        };
      }
      const header = {
        name: `${bundle.root}/${e.name}`,
        type: "file" as const,
        mode: e.mode,
        size: e.size,
        mtime,
      };
      const body = "text" in e.source
        ? enc.encode(e.source.text)
        : checked(e.name, e.source.file, e.sha256);
      yield { header, body };
    }
  }
  return writeTar(entries());
}
