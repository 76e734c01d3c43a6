/**
 * The backends the config wizard offers, each with a one-line description, the questions only it
 * needs, and how the answers become a repository: the location, the credentials (restic's
 * environment, written to a 0600 env file, never into the location when restic can read them
 * elsewhere), an SSH key or an rclone config. Pure: the wizard asks, this decides.
 */
import { checkRepositoryLocation } from "./location.ts";

export type BackendId =
  | "local"
  | "sftp"
  | "tailscale"
  | "rest"
  | "s3"
  | "b2"
  | "azure"
  | "gcs"
  | "rclone";

export interface Question {
  key: string;
  message: string;
  /** `secret`: read without echo, never printed; `path`: an absolute file or folder path. */
  kind: "text" | "secret" | "path";
  default?: string;
  /** May be left empty. */
  optional?: boolean;
  /** Asked only when this returns true for the answers so far. */
  when?: (answers: Answers) => boolean;
  /** `true`, or why the answer cannot be used (shown under the question). */
  validate?: (value: string) => true | string;
}

export type Answers = Record<string, string>;

export interface BackendChoice {
  location: string;
  /** restic's environment for this backend: credentials and settings, for the 0600 env file. */
  env: Record<string, string>;
  sshKey?: string;
  rcloneConfig?: string;
}

export interface Backend {
  id: BackendId;
  /** The menu line: name and what it is for, in one line. */
  title: string;
  questions: Question[];
  build(a: Answers): BackendChoice;
}

/** A name restic puts into a location between separators: no spaces, no ':' or '/'. */
const plainName = (what: string) => (v: string): true | string =>
  /^[^\s:/]+$/.test(v.trim()) ? true : `${what} without spaces, ':' or '/'`;

const absolute = (v: string): true | string =>
  v.trim().startsWith("/")
    ? true
    : "an absolute path, starting with / (relative paths are refused)";

/** `[user@]host`, as ssh takes it. */
const sshHost = (v: string): true | string =>
  /^([^\s@:/]+@)?[^\s@:/]+$/.test(v.trim()) ? true : "host or user@host, without spaces or ':'";

/** An env file holds one KEY=VALUE per line: a value may not break a line. */
const oneLine = (v: string): true | string =>
  /[\r\n]/.test(v) ? "one line" : v.trim() === "" ? "required" : true;

const port = (v: string): true | string =>
  v.trim() === "" || (/^\d+$/.test(v.trim()) && Number(v) > 0 && Number(v) < 65536)
    ? true
    : "a port number (1-65535), or empty for 22";

const trimSlashes = (p: string) => p.trim().replace(/^\/+|\/+$/g, "");

/** Empty answers are left out of the environment. */
function env(pairs: [string, string | undefined][]): Record<string, string> {
  return Object.fromEntries(
    pairs.filter((p): p is [string, string] => !!p[1]?.trim()).map(([k, v]) => [k, v.trim()]),
  );
}

const sshQuestions = (hostMessage: string, hostValidate: Question["validate"]): Question[] => [
  { key: "host", message: hostMessage, kind: "text", validate: hostValidate },
  { key: "path", message: "Repository path on the server", kind: "path", validate: absolute },
  {
    key: "sshKey",
    message: "SSH private key (empty: ssh's own keys)",
    kind: "path",
    optional: true,
    validate: (v) => v.trim() === "" || absolute(v),
  },
];

export const BACKENDS: Backend[] = [
  {
    id: "local",
    title: "Local folder: a second disk or a mounted share on this host",
    questions: [{ key: "path", message: "Repository folder", kind: "path", validate: absolute }],
    build: (a) => ({ location: a.path.trim(), env: {} }),
  },
  {
    id: "sftp",
    title: "SFTP: any server you can ssh into (a NAS, another host)",
    questions: [
      ...sshQuestions("Server (host or user@host)", sshHost),
      {
        key: "port",
        message: "SSH port (empty: 22)",
        kind: "text",
        optional: true,
        validate: port,
      },
    ],
    build: (a) => ({
      location: a.port?.trim() && a.port.trim() !== "22"
        ? `sftp://${a.host.trim()}:${a.port.trim()}//${trimSlashes(a.path)}`
        : `sftp:${a.host.trim()}:${a.path.trim()}`,
      env: {},
      sshKey: a.sshKey?.trim() || undefined,
    }),
  },
  {
    id: "tailscale",
    title: "Tailscale peer: SFTP to a machine on your tailnet, by its name",
    questions: sshQuestions("Peer (name or user@name)", sshHost),
    build: (a) => ({
      location: `tailscale:${a.host.trim()}:${a.path.trim()}`,
      env: {},
      sshKey: a.sshKey?.trim() || undefined,
    }),
  },
  {
    id: "rest",
    title: "REST server: restic's rest-server or `rclone serve restic`",
    questions: [
      {
        key: "url",
        message: "Server URL (http(s)://host:port/path, without user or password)",
        kind: "text",
        validate: (v) =>
          /^https?:\/\/[^/\s@]+(\/\S*)?$/.test(v.trim())
            ? true
            : "http://host:port/ or https://host/path, without user:password@",
      },
      { key: "user", message: "User (empty: none)", kind: "text", optional: true },
      {
        key: "password",
        message: "Password",
        kind: "secret",
        when: (a) => !!a.user?.trim(),
        validate: oneLine,
      },
    ],
    // restic 0.14 reads REST credentials only from the URL: they live in the config (0600), and
    // every location stowage prints has the password hidden.
    build: (a) => {
      const url = new URL(a.url.trim());
      if (a.user?.trim()) {
        url.username = encodeURIComponent(a.user.trim());
        url.password = encodeURIComponent(a.password ?? "");
      }
      return { location: `rest:${url.href}`, env: {} };
    },
  },
  {
    id: "s3",
    title: "S3-compatible: Amazon S3, MinIO, Wasabi, Backblaze S3, ...",
    questions: [
      {
        key: "endpoint",
        message: "Endpoint (host, or https://host:port)",
        kind: "text",
        default: "s3.amazonaws.com",
        validate: (v) => /^(https?:\/\/)?[^\s/]+$/.test(v.trim()) ? true : "a host name or URL",
      },
      { key: "bucket", message: "Bucket", kind: "text", validate: plainName("a bucket name") },
      {
        key: "path",
        message: "Folder in the bucket (empty: the top)",
        kind: "text",
        optional: true,
      },
      { key: "region", message: "Region (empty: the default)", kind: "text", optional: true },
      { key: "keyId", message: "Access key ID", kind: "text", validate: oneLine },
      { key: "secret", message: "Secret access key", kind: "secret", validate: oneLine },
    ],
    build: (a) => ({
      location: `s3:${a.endpoint.trim()}/${a.bucket.trim()}${
        trimSlashes(a.path ?? "") ? "/" + trimSlashes(a.path) : ""
      }`,
      env: env([
        ["AWS_ACCESS_KEY_ID", a.keyId],
        ["AWS_SECRET_ACCESS_KEY", a.secret],
        ["AWS_DEFAULT_REGION", a.region],
      ]),
    }),
  },
  {
    id: "b2",
    title: "Backblaze B2 (native API)",
    questions: [
      { key: "bucket", message: "Bucket", kind: "text", validate: plainName("a bucket name") },
      {
        key: "path",
        message: "Folder in the bucket (empty: the top)",
        kind: "text",
        optional: true,
      },
      {
        key: "accountId",
        message: "Account ID or application key ID",
        kind: "text",
        validate: oneLine,
      },
      { key: "accountKey", message: "Application key", kind: "secret", validate: oneLine },
    ],
    build: (a) => ({
      location: `b2:${a.bucket.trim()}:${trimSlashes(a.path ?? "")}`,
      env: env([["B2_ACCOUNT_ID", a.accountId], ["B2_ACCOUNT_KEY", a.accountKey]]),
    }),
  },
  {
    id: "azure",
    title: "Azure Blob Storage",
    questions: [
      {
        key: "account",
        message: "Storage account name",
        kind: "text",
        validate: plainName("a name"),
      },
      { key: "accountKey", message: "Storage account key", kind: "secret", validate: oneLine },
      { key: "container", message: "Container", kind: "text", validate: plainName("a name") },
      {
        key: "path",
        message: "Folder in the container (empty: the top)",
        kind: "text",
        optional: true,
      },
    ],
    build: (a) => ({
      location: `azure:${a.container.trim()}:/${trimSlashes(a.path ?? "")}`,
      env: env([["AZURE_ACCOUNT_NAME", a.account], ["AZURE_ACCOUNT_KEY", a.accountKey]]),
    }),
  },
  {
    id: "gcs",
    title: "Google Cloud Storage",
    questions: [
      { key: "project", message: "Project ID", kind: "text", validate: plainName("a project ID") },
      {
        key: "credentials",
        message: "Service account key file (JSON; keep it mode 0600)",
        kind: "path",
        validate: absolute,
      },
      { key: "bucket", message: "Bucket", kind: "text", validate: plainName("a bucket name") },
      {
        key: "path",
        message: "Folder in the bucket (empty: the top)",
        kind: "text",
        optional: true,
      },
    ],
    build: (a) => ({
      location: `gs:${a.bucket.trim()}:/${trimSlashes(a.path ?? "")}`,
      env: env([
        ["GOOGLE_PROJECT_ID", a.project],
        ["GOOGLE_APPLICATION_CREDENTIALS", a.credentials],
      ]),
    }),
  },
  {
    id: "rclone",
    title: "rclone: any of rclone's remotes (Dropbox, OneDrive, WebDAV, ...)",
    questions: [
      { key: "remote", message: "rclone remote name", kind: "text", validate: plainName("a name") },
      { key: "path", message: "Path on the remote", kind: "text", validate: oneLine },
      {
        key: "config",
        message: "rclone config file (empty: rclone's own, ~/.config/rclone/rclone.conf)",
        kind: "path",
        optional: true,
        validate: (v) => v.trim() === "" || absolute(v),
      },
    ],
    build: (a) => ({
      location: `rclone:${a.remote.trim()}:${a.path.trim()}`,
      env: {},
      rcloneConfig: a.config?.trim() || undefined,
    }),
  },
];

export function backend(id: BackendId): Backend {
  return BACKENDS.find((b) => b.id === id)!;
}

/** Whether the question is asked, given the answers so far. */
export function asked(q: Question, answers: Answers): boolean {
  return q.when ? q.when(answers) : true;
}

/** Validates one answer as the wizard would (required unless optional, then `validate`). */
export function checkAnswer(q: Question, value: string): true | string {
  if (value.trim() === "") return q.optional ? true : "required";
  return q.validate ? q.validate(value) : true;
}

/**
 * The repository the answers describe; throws a usage error when the location would not be valid
 * (every answer was already checked, so only a combination can fail here).
 */
export function buildBackend(id: BackendId, answers: Answers): BackendChoice {
  const choice = backend(id).build(answers);
  checkRepositoryLocation(choice.location);
  return choice;
}

/**
 * The env file's text: one KEY='VALUE' line each. Values were checked to be one line; the reader
 * takes off exactly one pair of surrounding quotes, so any value (quotes in it too) reads back.
 */
export function envFileText(vars: Record<string, string>): string {
  return "# restic's environment for the repository (written by stowage; mode 0600)\n" +
    Object.entries(vars).map(([k, v]) => `${k}='${v}'`).join("\n") + "\n";
}
