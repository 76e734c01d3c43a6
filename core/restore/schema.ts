/**
 * The recipe and networks documents as zod schemas. Both come from the repository, which anyone
 * holding its password can write, so restore reads them only through these: every field restore
 * uses is typed, and every field that becomes a path, a Docker object name or a permission is
 * checked (docs/format.md, docs/restore.md). Engine data restore copies through is kept loose but
 * shaped; container.ts decides which HostConfig fields reach the Engine.
 */
import { z } from "zod";
import { SCOPES } from "../model.ts";
import { VOLUME_NAME } from "../tags.ts";
import { normalizePath } from "../safe_paths.ts";

const str = z.string();
const strings = z.array(str);
const record = z.record(str, str);

/** A normalised absolute path without `..` or control characters (where it may be is decided later). */
export const ABSOLUTE_PATH = str.check((ctx) => {
  const p = ctx.value;
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(p) || normalizePath(p) !== p || p.split("/").includes("..")) {
    ctx.issues.push({
      code: "custom",
      input: p,
      message: `'${p.slice(0, 200)}' is not a normalised absolute path`,
    });
  }
});

/** Docker object names (containers, networks, compose projects). */
const DOCKER_NAME = str.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "not a Docker object name");

const containerInfo = z.object({
  id: str,
  name: DOCKER_NAME,
  service: str.optional(),
  image: str,
  imageId: str,
  state: str,
  running: z.boolean(),
  health: str.optional(),
  hasHealthcheck: z.boolean(),
  labels: record,
  mounts: z.array(
    z.object({
      type: z.enum(["volume", "bind", "tmpfs", "npipe"]),
      source: str,
      destination: str,
      readOnly: z.boolean(),
    }).loose(),
  ),
  networks: z.record(
    str,
    z.object({ ipv4: str.optional(), ipv6: str.optional(), aliases: strings }).loose(),
  ),
  networkMode: str,
}).loose();

const networkInfo = z.object({
  id: str,
  name: DOCKER_NAME,
  driver: str,
  scope: str,
  internal: z.boolean(),
  attachable: z.boolean(),
  enableIPv6: z.boolean(),
  ipam: z.object({
    driver: str,
    config: z.array(
      z.object({
        subnet: str.optional(),
        gateway: str.optional(),
        ipRange: str.optional(),
        auxAddresses: record.optional(),
      }).loose(),
    ),
    options: record,
  }).loose(),
  options: record,
  labels: record,
  containers: z.array(
    z.object({ name: str, ipv4: str.optional(), ipv6: str.optional() }).loose(),
  ),
}).loose();

const unit = z.object({
  name: DOCKER_NAME,
  kind: z.enum(["stack", "standalone"]),
  workingDir: ABSOLUTE_PATH.optional(),
  files: z.array(
    z.object({ path: ABSOLUTE_PATH, kind: z.enum(["compose", "env"]), exists: z.boolean() })
      .loose(),
  ),
  containers: z.array(containerInfo),
  dependsOn: z.record(str, strings),
  images: z.array(z.object({ reference: str, id: str, repoDigests: strings }).loose()),
  volumes: z.array(
    z.object({
      name: VOLUME_NAME,
      driver: str,
      mountpoint: str,
      labels: record,
      options: record,
      usedBy: strings,
      composeName: str.optional(),
      external: z.boolean(),
    }).loose(),
  ),
  binds: z.array(
    z.object({ source: str, usedBy: strings, destinations: strings, safe: z.boolean() }).loose(),
  ),
  networks: z.array(networkInfo),
  gaps: z.array(z.object({ kind: str, item: str, reason: str }).loose()),
  references: z.array(
    z.object({
      kind: z.enum(["env_file", "extends", "config", "build"]),
      service: str.optional(),
      written: str,
      path: ABSOLUTE_PATH,
      dockerfile: ABSOLUTE_PATH.optional(),
      optional: z.boolean().optional(),
    }).loose(),
  ).optional(),
  notes: strings.optional(),
}).loose();

const nullable = <T extends z.ZodType>(t: T) => t.nullable().optional();

const endpoint = z.object({
  IPAMConfig: nullable(
    z.object({ IPv4Address: str.optional(), IPv6Address: str.optional() }).loose(),
  ),
  Aliases: nullable(strings),
}).loose();

/** Saved `docker inspect` of a container: the fields restore reads, typed; the rest kept. */
export const ENGINE_CONTAINER = z.object({
  Id: str,
  Name: str.regex(/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "not a container name"),
  Image: str,
  State: z.object({ Status: str, Running: z.boolean() }).loose(),
  Config: z.object({
    // deno-lint-ignore no-control-regex
    Image: str.regex(/^[^\u0000-\u0020\u007f]+$/, "not an image reference"),
    Env: nullable(strings),
    Labels: nullable(record),
    Cmd: nullable(strings),
    Entrypoint: nullable(strings),
    Hostname: str.optional(),
    Domainname: str.optional(),
  }).loose(),
  HostConfig: z.object({
    NetworkMode: str.optional(),
    Binds: nullable(strings),
    Privileged: z.boolean().optional(),
    CapAdd: nullable(strings),
    Devices: nullable(z.array(z.object({ PathOnHost: str.optional() }).loose())),
  }).loose(),
  Mounts: nullable(z.array(z.object({ Type: str, Source: str }).loose())),
  NetworkSettings: z.object({ Networks: nullable(z.record(str, endpoint)) }).loose(),
}).loose();

export const RECIPE_SCHEMA = z.object({
  format: z.number().int().min(1),
  stowageVersion: str,
  backupId: str,
  scope: z.enum(SCOPES as unknown as ["minimal", "standard", "full"]),
  createdAt: str,
  host: str,
  unit,
  files: z.array(
    z.object({
      path: ABSOLUTE_PATH,
      kind: z.enum(["compose", "env", "env_file", "extends", "config", "build"]),
      mode: z.number().int().min(0).max(0o7777),
      content: str,
      encoding: z.literal("base64").optional(),
    }).loose(),
  ),
  containers: z.array(ENGINE_CONTAINER),
  images: z.array(
    z.object({
      // deno-lint-ignore no-control-regex
      reference: str.regex(/^[^\u0000-\u0020\u007f]+$/, "not an image reference"),
      id: str.regex(/^sha256:[0-9a-f]{64}$/, "not an image id"),
      snapshotId: str.regex(/^[0-9a-f]{8,64}$/, "not a snapshot id"),
      file: str.regex(/^\/[0-9a-f]{64}\.tar$/, "not an image file name"),
      size: z.number().int().min(0).optional(),
    }).loose(),
  ).optional(),
}).loose();

export const NETWORKS_SCHEMA = z.object({
  format: z.number().int().min(1),
  backupId: str,
  unit: str,
  networks: z.array(networkInfo),
}).loose();

/** Schema problems as `path: message` lines, at most `max` of them. */
export function schemaProblems(error: z.ZodError, max = 5): string[] {
  const lines = error.issues.map((i) =>
    `${i.path.map(String).join(".") || "(document)"}: ${i.message}`
  );
  return lines.length > max
    ? [...lines.slice(0, max), `... and ${lines.length - max} more`]
    : lines;
}
