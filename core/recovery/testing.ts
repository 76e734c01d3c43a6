/** Test helpers: a bundle input and an in-memory archive, no file system. */
import type { BundleInput } from "./plan.ts";
import { assembleBundle, type AssembledBundle, payloadFiles } from "./plan.ts";
import { measureText } from "./plan.ts";
import { archiveStream } from "./write.ts";
import { concatBytes } from "../bytes.ts";

export function sampleInput(over: Partial<BundleInput> = {}): BundleInput {
  return {
    bundleId: "2025-01-31T23-59-59Z",
    host: "old-host",
    created: new Date("2025-01-31T23:59:59Z"),
    stowageVersion: "0.1.0",
    repositoryFormat: 1,
    config: {
      path: "/etc/stowage/config.yaml",
      source: { file: "/etc/stowage/config.yaml" },
      embeddedDefault: false,
    },
    stateDir: "/var/lib/stowage",
    repository: {
      location: "sftp:backup@nas:/srv/restic",
      displayLocation: "sftp:backup@nas:/srv/restic",
      passwordFile: "/etc/stowage/repo pass'word",
      resticBinary: "restic",
      resticArgs: [
        "-o",
        "sftp.command=ssh -i /root/.ssh/stowage -o IdentitiesOnly=yes nas -s sftp",
      ],
      env: { AWS_ACCESS_KEY_ID: "AKIA1", AWS_SECRET_ACCESS_KEY: "s3cr3t value" },
      envFile: "/etc/stowage/backend.env",
      sshKey: "/root/.ssh/stowage",
      knownHosts: "/root/.ssh/known_hosts",
    },
    stowageCommand: "stowage",
    units: [{
      name: "wordpress",
      latest_backup_id: "2025-01-31T02-00-00Z",
      latest_time: "2025-01-31T02:00:00Z",
      snapshots: 5,
    }],
    problems: [],
    ...over,
  };
}

/** Host files by path, for `archiveStream`'s openFile. */
export const sampleFiles: Record<string, string> = {
  "/etc/stowage/config.yaml": "repository:\n  location: sftp:backup@nas:/srv/restic\n",
  "/etc/stowage/repo pass'word": "repository-password\n",
  "/etc/stowage/backend.env": "AWS_ACCESS_KEY_ID=AKIA1\n",
  "/root/.ssh/stowage":
    "-----BEGIN OPENSSH PRIVATE KEY-----\nxxx\n-----END OPENSSH PRIVATE KEY-----\n",
  "/root/.ssh/known_hosts": "nas ssh-ed25519 AAAA\n",
};

export function sampleBundle(input = sampleInput(), files = sampleFiles): AssembledBundle {
  const problems = [...input.problems];
  const payload = payloadFiles(input, problems);
  const measured = payload.flatMap((p) => {
    const text = "text" in p.source ? p.source.text : files[p.source.file];
    return text === undefined ? [] : [measureText(p.name, text)];
  });
  return assembleBundle({ ...input, problems }, payload, measured);
}

export function openFrom(files: Record<string, string>) {
  return async function* (path: string): AsyncGenerator<Uint8Array> {
    const text = files[path];
    if (text === undefined) throw new Error(`no such file ${path}`);
    yield new TextEncoder().encode(text);
  };
}

export async function archiveBytes(
  bundle: AssembledBundle,
  files = sampleFiles,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of archiveStream(bundle, openFrom(files), 1738367999)) parts.push(c.slice());
  return concatBytes(parts);
}

export async function* once(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}
