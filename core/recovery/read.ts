/**
 * Reading a bundle's archive (already decrypted and decompressed): the manifest first, then every
 * file hashed as it streams past and handed to a sink. The verdict (every file present, sizes and
 * SHA-256 as listed, nothing extra) comes only after the whole stream was read, so callers that
 * write must stage and commit afterwards. No I/O here: the sink decides where bytes go.
 */
import { createHash } from "node:crypto";
import { StowageError } from "../errors.ts";
import type { BundleManifest, ManifestFile, SeenFile } from "./manifest.ts";
import {
  invalidBundleError,
  MANIFEST_NAME,
  manifestMismatches,
  mismatchError,
  parseManifest,
} from "./manifest.ts";
import { BUNDLE_PREFIX, bundleRoot } from "./names.ts";
import { readTar, TarFormatError } from "./tar.ts";
import { concatBytes } from "../bytes.ts";

export interface BundleSink {
  /** Called once with the manifest (parsed, and its bytes as stored), before any other file. */
  begin?(manifest: BundleManifest, raw: Uint8Array): Promise<void> | void;
  /** One file's content; the sink must read `body` to the end. */
  file?(file: ManifestFile, body: AsyncIterable<Uint8Array>): Promise<void>;
}

export interface ReadResult {
  manifest: BundleManifest;
  root: string;
  files: SeenFile[];
}

const MAX_MANIFEST = 4 * 1024 * 1024;

async function collect(
  body: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<Uint8Array | undefined> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > limit) return undefined;
    parts.push(c);
  }
  return concatBytes(parts);
}

export async function readBundleArchive(
  source: AsyncIterable<Uint8Array>,
  bundle: string,
  sink: BundleSink = {},
): Promise<ReadResult> {
  let root: string | undefined;
  let manifest: BundleManifest | undefined;
  let listed = new Map<string, ManifestFile>();
  const seen: SeenFile[] = [];
  const bad = (why: string) => invalidBundleError(bundle, why);
  try {
    for await (const { header, body } of readTar(source)) {
      const [first, ...rest] = header.name.split("/");
      const rel = rest.join("/");
      if (root === undefined) {
        if (!first.startsWith(BUNDLE_PREFIX)) {
          throw bad(`it holds '${header.name}', not a stowage recovery bundle directory`);
        }
        root = first;
      }
      if (first !== root || rel.split("/").some((p) => p === ".." || p === ".")) {
        throw bad(`it holds '${header.name}' outside its bundle directory`);
      }
      if (header.type === "dir") {
        if (rel !== "" && rel !== "files") {
          throw bad(`it holds an unexpected directory '${header.name}'`);
        }
        continue;
      }
      if (!manifest) {
        if (rel !== MANIFEST_NAME) {
          throw bad(`its first file is '${header.name}', not ${MANIFEST_NAME}`);
        }
        const bytes = await collect(body, MAX_MANIFEST);
        if (!bytes) throw bad(`its ${MANIFEST_NAME} is larger than ${MAX_MANIFEST} bytes`);
        manifest = parseManifest(new TextDecoder().decode(bytes), bundle);
        if (root !== bundleRoot(manifest.bundle_id)) {
          throw bad(
            `its directory '${root}' does not match the manifest's bundle id '${manifest.bundle_id}'`,
          );
        }
        listed = new Map(manifest.files.map((f) => [f.name, f]));
        await sink.begin?.(manifest, bytes);
        continue;
      }
      const file = listed.get(rel);
      if (!file) throw mismatchError(bundle, [`${rel} is not in the manifest`]);
      if (seen.some((s) => s.name === rel)) throw mismatchError(bundle, [`${rel} appears twice`]);
      if (header.size !== file.size) {
        throw mismatchError(bundle, [
          `${rel} has ${header.size} bytes, the manifest says ${file.size}`,
        ]);
      }
      const hash = createHash("sha256");
      let size = 0;
      const hashed = (async function* () {
        for await (const c of body) {
          hash.update(c);
          size += c.length;
          yield c;
        }
      })();
      if (sink.file) await sink.file(file, hashed);
      // A sink that stopped early must not let an unhashed remainder through.
      for await (const _ of hashed) { /* drain */ }
      seen.push({ name: rel, size, sha256: hash.digest("hex") });
    }
  } catch (e) {
    if (e instanceof TarFormatError) throw bad(`the archive inside is damaged (${e.message})`);
    throw e;
  }
  if (!manifest || !root) throw bad(`it holds no ${MANIFEST_NAME}`);
  const problems = manifestMismatches(manifest, seen);
  if (problems.length) throw mismatchError(bundle, problems);
  return { manifest, root, files: seen };
}

export function isBundleError(e: unknown): e is StowageError {
  return e instanceof StowageError && (e.code === "bundle.invalid" || e.code === "bundle.password");
}
