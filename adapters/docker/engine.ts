/**
 * DockerEngine over the Engine API on a unix socket: `fetch` through a Deno HttpClient whose
 * proxy is the socket. The API version is negotiated once (GET /version, unversioned): the
 * engine's own version, capped at the newest this adapter knows (1.43) and refused below 1.41.
 * Errors are classified here, once: unavailable / permission / notfound / error.
 */
import { StowageError } from "../../core/errors.ts";
import type {
  EngineContainer,
  EngineImage,
  EngineNetwork,
  EngineState,
  EngineVersion,
  EngineVolume,
} from "../../core/engine_types.ts";
import type {
  DockerEngine,
  EngineEvent,
  ExecResult,
  ExecStream,
  NetworkSpec,
  VolumeSpec,
} from "../../core/ports.ts";
import { COMPOSE_LABELS, projectFilePaths } from "../../core/compose_labels.ts";
import { demuxDockerStream, FrameDecoder, splitDockerStream } from "./stream.ts";
import { readTextIfExists } from "../files.ts";
import { concatBytes } from "../../core/bytes.ts";

export const DEFAULT_SOCKET = "/var/run/docker.sock";
export const MIN_API = "1.41";
export const MAX_API = "1.43";

/** How many inspect calls run at once while gathering state. */
const INSPECT_CONCURRENCY = 8;

/** What a request does, for messages: `stop container 'web'` reads "Cannot stop container 'web': ...". */
type Action = string;

interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Raw body (tar); sent as application/x-tar. */
  raw?: ReadableStream<Uint8Array> | Uint8Array;
  signal?: AbortSignal;
  /** Statuses that count as success besides 2xx (304 for start/stop). */
  okStatuses?: number[];
  /** Skip version negotiation (for /version itself). */
  unversioned?: boolean;
}

/** Compares dotted API versions numerically ("1.9" < "1.41"). */
export function compareApiVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The API version to speak with an engine that offers `engineApi`; throws below MIN_API. */
export function negotiateApiVersion(engineApi: string, socket = DEFAULT_SOCKET): string {
  if (!/^\d+\.\d+$/.test(engineApi)) {
    throw new StowageError(
      "engine.error",
      `Cannot use the Docker Engine at ${socket}: it reports an unreadable API version '${engineApi}'`,
      "check that the socket belongs to a Docker Engine (`docker version`)",
    );
  }
  if (compareApiVersions(engineApi, MIN_API) < 0) {
    throw new StowageError(
      "engine.error",
      `Cannot use the Docker Engine at ${socket}: its API version ${engineApi} is older than ${MIN_API}`,
      "upgrade Docker to 20.10 or later",
    );
  }
  return compareApiVersions(engineApi, MAX_API) > 0 ? MAX_API : engineApi;
}

/** Socket path from a DOCKER_HOST-style address; only unix sockets are supported. */
export function socketPathFromHost(host: string | undefined): string {
  if (host === undefined || host.trim() === "") return DEFAULT_SOCKET;
  const h = host.trim();
  if (h.startsWith("unix://")) {
    const path = h.slice("unix://".length);
    if (!path.startsWith("/")) {
      throw new StowageError(
        "usage",
        `Cannot use Docker host '${h}': the socket path must be absolute`,
        "write it as unix:///var/run/docker.sock (three slashes)",
      );
    }
    return path;
  }
  if (h.startsWith("/")) return h;
  throw new StowageError(
    "usage",
    `Cannot use Docker host '${h}': only unix sockets are supported`,
    "set docker.host (or DOCKER_HOST) to unix:///var/run/docker.sock, or run stowage on the Docker host itself",
  );
}

/** Turns a failed connection into engine.unavailable / engine.permission. */
export function connectionError(socket: string, e: unknown): StowageError | undefined {
  const text = [e, (e as { cause?: unknown })?.cause]
    .map((x) => (x instanceof Error ? x.message : x === undefined ? "" : String(x)))
    .join(" ");
  const os = /os error (\d+)/.exec(text)?.[1];
  if (os === "13" || os === "1") {
    return new StowageError(
      "engine.permission",
      `Cannot reach the Docker Engine at ${socket}: permission denied`,
      "run stowage as root, or add this user to the docker group (`usermod -aG docker USER`, then log in again)",
      { cause: e },
    );
  }
  if (os !== undefined || /fetch failed|connect|connection/i.test(text)) {
    const why = os === "2"
      ? "the socket does not exist"
      : os === "111"
      ? "connection refused"
      : (/\(Connect\): (.*?)( \(os error \d+\))?$/.exec(text)?.[1] ?? "connection failed");
    return new StowageError(
      "engine.unavailable",
      `Cannot reach the Docker Engine at ${socket}: ${why}`,
      "start dockerd (`systemctl start docker`), or point docker.host / DOCKER_HOST at the right socket",
      { cause: e },
    );
  }
  return undefined;
}

const q = encodeURIComponent;

export class EngineClient implements DockerEngine {
  #client: Deno.HttpClient | undefined;
  #api: Promise<{ api: string; version: EngineVersion }> | undefined;

  constructor(readonly socketPath: string = DEFAULT_SOCKET) {}

  /** From `docker.host` / DOCKER_HOST (`unix:///path`); undefined means /var/run/docker.sock. */
  static fromConfig(host: string | undefined): EngineClient {
    return new EngineClient(socketPathFromHost(host));
  }

  /** Releases the HTTP client (open connections to the socket). Safe to call twice. */
  close(): void {
    this.#client?.close();
    this.#client = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  get #http(): Deno.HttpClient {
    try {
      this.#client ??= Deno.createHttpClient({
        proxy: { transport: "unix", path: this.socketPath },
      });
    } catch (e) {
      // Deno asks for net permission on `unix:PATH`; deno.json grants only the standard sockets.
      if (e instanceof Deno.errors.NotCapable) {
        // A mistyped path is more useful reported as missing than as not permitted.
        if (!socketExists(this.socketPath)) {
          throw connectionError(
            this.socketPath,
            new Error("No such file or directory (os error 2)"),
          )!;
        }
        throw new StowageError(
          "engine.permission",
          `Cannot reach the Docker Engine at ${this.socketPath}: not permitted (${
            e.message.split(",")[0]
          })`,
          "stowage's permission set allows only /var/run/docker.sock and /run/docker.sock; use one of them, or run it under deno with --allow-net=unix:PATH and read/write access to PATH",
          { cause: e },
        );
      }
      throw e;
    }
    return this.#client;
  }

  // -------------------------------------------------------------------------------------------
  // Plumbing

  #negotiate(): Promise<{ api: string; version: EngineVersion }> {
    this.#api ??= (async () => {
      const res = await this.#fetch("GET", "/version", "read the engine version", {
        unversioned: true,
      });
      const version = (await res.json()) as EngineVersion;
      return { api: negotiateApiVersion(version.ApiVersion, this.socketPath), version };
    })();
    // A failed negotiation is retried by the next call rather than cached.
    this.#api.catch(() => (this.#api = undefined));
    return this.#api;
  }

  async #fetch(
    method: string,
    path: string,
    action: Action,
    opts: RequestOptions = {},
  ): Promise<Response> {
    const prefix = opts.unversioned ? "" : `/v${(await this.#negotiate()).api}`;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v !== undefined) params.set(k, String(v));
    }
    const qs = params.size ? `?${params}` : "";
    const headers: Record<string, string> = { "accept-encoding": "identity" };
    let body: BodyInit | undefined;
    if (opts.raw !== undefined) {
      headers["content-type"] = "application/x-tar";
      body = opts.raw as BodyInit;
    } else if (opts.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    const client = this.#http;
    let res: Response;
    try {
      res = await fetch(`http://localhost${prefix}${path}${qs}`, {
        method,
        headers,
        body,
        client,
        signal: opts.signal,
      });
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      throw connectionError(this.socketPath, e) ?? e;
    }
    if (res.ok || opts.okStatuses?.includes(res.status)) return res;
    throw await this.#httpError(res, action);
  }

  async #httpError(res: Response, action: Action): Promise<StowageError> {
    let message = "";
    try {
      const text = await res.text();
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        message = text;
      }
    } catch { /* body unreadable: keep the status */ }
    message = message.trim() || `HTTP ${res.status}`;
    if (res.status === 404) {
      return new StowageError(
        "engine.notfound",
        `Cannot ${action}: ${message}`,
        notFoundHint(action),
      );
    }
    return new StowageError("engine.error", `Cannot ${action}: ${message}`, errorHint(res.status));
  }

  async #json<T>(
    method: string,
    path: string,
    action: Action,
    opts: RequestOptions = {},
  ): Promise<T> {
    const res = await this.#fetch(method, path, action, opts);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async #void(
    method: string,
    path: string,
    action: Action,
    opts: RequestOptions = {},
  ): Promise<void> {
    const res = await this.#fetch(method, path, action, opts);
    await res.body?.cancel();
  }

  // -------------------------------------------------------------------------------------------
  // DockerEngine

  async version(): Promise<EngineVersion> {
    return (await this.#negotiate()).version;
  }

  /** The API version in use, e.g. "1.41". */
  async apiVersion(): Promise<string> {
    return (await this.#negotiate()).api;
  }

  async listContainers(filters?: { label?: string[] }): Promise<EngineContainer[]> {
    const query: Record<string, string> = { all: "1" };
    if (filters?.label?.length) query.filters = JSON.stringify({ label: filters.label });
    const list = await this.#json<{ Id: string }[]>("GET", "/containers/json", "list containers", {
      query,
    });
    // Containers removed between the list and the inspect are simply gone.
    const inspected = await mapLimit(list, INSPECT_CONCURRENCY, (c) => this.#inspectOrSkip(c.Id));
    return inspected.filter((c): c is EngineContainer => c !== undefined);
  }

  async #inspectOrSkip(id: string): Promise<EngineContainer | undefined> {
    try {
      return await this.inspectContainer(id);
    } catch (e) {
      if (e instanceof StowageError && e.code === "engine.notfound") return undefined;
      throw e;
    }
  }

  async containerChanges(idOrName: string): Promise<{ Path: string; Kind: number }[]> {
    const changes = await this.#json<{ Path: string; Kind: number }[] | null>(
      "GET",
      `/containers/${q(idOrName)}/changes`,
      `list the changes of container '${idOrName}'`,
    );
    return Array.isArray(changes) ? changes : [];
  }

  inspectContainer(idOrName: string): Promise<EngineContainer> {
    return this.#json("GET", `/containers/${q(idOrName)}/json`, `inspect container '${idOrName}'`);
  }

  stopContainer(idOrName: string, timeoutSeconds: number): Promise<void> {
    return this.#void("POST", `/containers/${q(idOrName)}/stop`, `stop container '${idOrName}'`, {
      query: { t: Math.max(0, Math.round(timeoutSeconds)) },
      okStatuses: [304],
    });
  }

  startContainer(idOrName: string): Promise<void> {
    return this.#void("POST", `/containers/${q(idOrName)}/start`, `start container '${idOrName}'`, {
      okStatuses: [304],
    });
  }

  removeContainer(
    idOrName: string,
    opts: { force?: boolean; volumes?: boolean } = {},
  ): Promise<void> {
    return this.#void("DELETE", `/containers/${q(idOrName)}`, `remove container '${idOrName}'`, {
      query: { force: opts.force ? 1 : undefined, v: opts.volumes ? 1 : undefined },
    });
  }

  async createContainer(name: string, body: Record<string, unknown>): Promise<string> {
    const res = await this.#json<{ Id: string }>(
      "POST",
      "/containers/create",
      `create container '${name}'`,
      {
        query: { name },
        body,
      },
    );
    return res.Id;
  }

  async listVolumes(): Promise<EngineVolume[]> {
    const res = await this.#json<{ Volumes?: EngineVolume[] | null }>(
      "GET",
      "/volumes",
      "list volumes",
    );
    return res.Volumes ?? [];
  }

  inspectVolume(name: string): Promise<EngineVolume> {
    return this.#json("GET", `/volumes/${q(name)}`, `inspect volume '${name}'`);
  }

  createVolume(spec: VolumeSpec): Promise<EngineVolume> {
    return this.#json("POST", "/volumes/create", `create volume '${spec.Name}'`, { body: spec });
  }

  removeVolume(name: string, force?: boolean): Promise<void> {
    return this.#void("DELETE", `/volumes/${q(name)}`, `remove volume '${name}'`, {
      query: { force: force ? 1 : undefined },
    });
  }

  async listNetworks(): Promise<EngineNetwork[]> {
    return await this.#json<EngineNetwork[] | null>("GET", "/networks", "list networks") ?? [];
  }

  inspectNetwork(idOrName: string): Promise<EngineNetwork> {
    return this.#json("GET", `/networks/${q(idOrName)}`, `inspect network '${idOrName}'`);
  }

  async createNetwork(spec: NetworkSpec): Promise<string> {
    const res = await this.#json<{ Id: string }>(
      "POST",
      "/networks/create",
      `create network '${spec.Name}'`,
      {
        body: { CheckDuplicate: true, ...spec },
      },
    );
    return res.Id;
  }

  removeNetwork(idOrName: string): Promise<void> {
    return this.#void("DELETE", `/networks/${q(idOrName)}`, `remove network '${idOrName}'`);
  }

  connectNetwork(
    network: string,
    container: string,
    endpoint?: { IPAMConfig?: { IPv4Address?: string; IPv6Address?: string }; Aliases?: string[] },
  ): Promise<void> {
    return this.#void(
      "POST",
      `/networks/${q(network)}/connect`,
      `connect container '${container}' to network '${network}'`,
      { body: { Container: container, EndpointConfig: endpoint ?? {} } },
    );
  }

  async listImages(): Promise<EngineImage[]> {
    return await this.#json<EngineImage[] | null>("GET", "/images/json", "list images") ?? [];
  }

  /** GET /images/{name}/get: the image in `docker save` format, as a stream. */
  async exportImage(name: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const res = await this.#fetch("GET", `/images/${q(name)}/get`, `export image '${name}'`, {
      signal,
    });
    if (!res.body) return new ReadableStream({ start: (c) => c.close() });
    return res.body;
  }

  /**
   * POST /images/load with a `docker save` tar stream. The engine answers 200 and reports a
   * broken archive inside its JSON progress stream, so that stream is read for an error.
   */
  async loadImage(tar: ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<string[]> {
    const action = "load an image";
    const res = await this.#fetch("POST", "/images/load", action, {
      query: { quiet: "1" },
      raw: tar,
      signal,
    });
    const text = await res.text();
    const loaded: string[] = [];
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      let m: { stream?: string; error?: string; errorDetail?: { message?: string } };
      try {
        m = JSON.parse(line);
      } catch {
        continue;
      }
      if (m.error || m.errorDetail?.message) {
        throw new StowageError(
          "engine.error",
          `Cannot ${action}: ${m.errorDetail?.message ?? m.error}`,
          "The saved image may be damaged; check the repository with `stowage admin repo check`.",
        );
      }
      const got = /Loaded image(?: ID)?: (\S+)/.exec(m.stream ?? "");
      if (got) loaded.push(got[1]);
    }
    return loaded;
  }

  /** POST /images/{name}/tag. */
  tagImage(name: string, repo: string, tag: string): Promise<void> {
    return this.#void("POST", `/images/${q(name)}/tag`, `tag image '${name}' as ${repo}:${tag}`, {
      query: { repo, tag },
    });
  }

  async getArchive(
    idOrName: string,
    path: string,
    signal?: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const res = await this.#fetch(
      "GET",
      `/containers/${q(idOrName)}/archive`,
      `read '${path}' from container '${idOrName}'`,
      {
        query: { path },
        signal,
      },
    );
    if (!res.body) return new ReadableStream({ start: (c) => c.close() });
    return res.body;
  }

  putArchive(
    idOrName: string,
    path: string,
    tar: ReadableStream<Uint8Array> | Uint8Array,
  ): Promise<void> {
    return this.#void(
      "PUT",
      `/containers/${q(idOrName)}/archive`,
      `write '${path}' into container '${idOrName}'`,
      {
        query: { path },
        raw: tar,
      },
    );
  }

  /** Creates an exec instance (never a TTY: a TTY turns \n into \r\n and mixes stderr in). */
  async #createExec(
    idOrName: string,
    argv: string[],
    opts: { user?: string; env?: string[]; signal?: AbortSignal },
    attachStdin: boolean,
  ): Promise<{ created: { Id: string }; action: string }> {
    const action = `run ${JSON.stringify(argv[0] ?? "")} in container '${idOrName}'`;
    const created = await this.#json<{ Id: string }>(
      "POST",
      `/containers/${q(idOrName)}/exec`,
      action,
      {
        body: {
          Cmd: argv,
          AttachStdin: attachStdin,
          AttachStdout: true,
          AttachStderr: true,
          Tty: false,
          User: opts.user,
          Env: opts.env,
        },
        signal: opts.signal,
      },
    );
    return { created, action };
  }

  async exec(
    idOrName: string,
    argv: string[],
    opts: { user?: string; env?: string[]; signal?: AbortSignal } = {},
  ): Promise<ExecResult> {
    const { created, action } = await this.#createExec(idOrName, argv, opts, false);
    const res = await this.#fetch("POST", `/exec/${q(created.Id)}/start`, action, {
      body: { Detach: false, Tty: false },
      signal: opts.signal,
    });
    const { stdout, stderr } = await demuxDockerStream(res.body, { signal: opts.signal });
    const exitCode = await this.#execExitCode(created.Id, action, opts.signal);
    return { exitCode, stdout, stderr };
  }

  async execStream(
    idOrName: string,
    argv: string[],
    opts: { user?: string; env?: string[]; signal?: AbortSignal } = {},
  ): Promise<ExecStream> {
    const { created, action } = await this.#createExec(idOrName, argv, opts, false);
    const res = await this.#fetch("POST", `/exec/${q(created.Id)}/start`, action, {
      body: { Detach: false, Tty: false },
      signal: opts.signal,
    });
    const split = splitDockerStream(res.body);
    const finished = split.ended.then(async (stderr) => ({
      exitCode: await this.#execExitCode(created.Id, action, opts.signal),
      stderr,
    }));
    finished.catch(() => {}); // observed by the caller; no unhandled rejection when it is not
    return { stdout: split.stdout, finished };
  }

  async execWithStdin(
    idOrName: string,
    argv: string[],
    stdin: ReadableStream<Uint8Array>,
    opts: { user?: string; env?: string[]; signal?: AbortSignal } = {},
  ): Promise<ExecResult> {
    const { created, action } = await this.#createExec(idOrName, argv, opts, true);
    // fetch cannot send and receive on one hijacked connection: speak HTTP/1.1 on the socket
    // ourselves, upgrade it to the raw stream, send stdin, half-close, read the framed output.
    const api = (await this.#negotiate()).api;
    let conn: Deno.UnixConn;
    try {
      conn = await Deno.connect({ transport: "unix", path: this.socketPath });
    } catch (e) {
      throw connectionError(this.socketPath, e) ?? e;
    }
    const onAbort = () => conn.close();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const body = JSON.stringify({ Detach: false, Tty: false });
      await writeAll(
        conn,
        new TextEncoder().encode(
          `POST /v${api}/exec/${q(created.Id)}/start HTTP/1.1\r\nHost: localhost\r\n` +
            `Content-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
            `Content-Length: ${body.length}\r\n\r\n${body}`,
        ),
      );
      const dec = new FrameDecoder();
      // stdin waits for the engine's answer: dockerd hijacks the connection after reading the
      // request and drops whatever it had already buffered past it, so bytes sent early are lost.
      let headerDone = false;
      const answered = Promise.withResolvers<void>();
      const reading = (async () => {
        let head: Uint8Array = new Uint8Array(0);
        const buf = new Uint8Array(64 * 1024);
        while (true) {
          const n = await conn.read(buf);
          if (n === null) break;
          const chunk = buf.slice(0, n);
          if (headerDone) {
            dec.push(chunk);
            continue;
          }
          head = concatBytes([head, chunk]);
          const text = new TextDecoder().decode(head);
          const end = text.indexOf("\r\n\r\n");
          if (end < 0) continue;
          const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
          if (status !== "101" && status !== "200") {
            throw new StowageError(
              "engine.error",
              `Cannot ${action}: the engine answered ${text.split("\r\n")[0]}`,
              "check the container with `docker inspect`",
            );
          }
          headerDone = true;
          answered.resolve();
          const headerBytes = new TextEncoder().encode(text.slice(0, end + 4)).length;
          if (head.length > headerBytes) dec.push(head.slice(headerBytes));
        }
      })();
      const writing = (async () => {
        // The answer, or the end of the response without one.
        await Promise.race([answered.promise, reading.catch(() => {})]);
        if (!headerDone) {
          // Refused or closed (reading says why): release the producer, e.g. a restic dump.
          await stdin.cancel().catch(() => {});
          return;
        }
        const reader = stdin.getReader();
        try {
          while (true) {
            const { done, value } = await reader.read();
            if (done) break;
            await writeAll(conn, value);
          }
        } finally {
          reader.releaseLock();
        }
        await conn.closeWrite();
      })();
      // A failed write (the program exited early) still leaves its output and exit code to read.
      const [w] = await Promise.allSettled([writing, reading]).then((r) => {
        if (r[1].status === "rejected") throw r[1].reason;
        return r;
      });
      opts.signal?.throwIfAborted();
      const exitCode = await this.#execExitCode(created.Id, action, opts.signal);
      if (w.status === "rejected" && exitCode === 0) throw w.reason;
      const { stdout, stderr } = dec.result();
      return { exitCode, stdout, stderr };
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      try {
        conn.close();
      } catch {
        // closed by the abort already
      }
    }
  }

  /** The stream ends a moment before the engine records the exit code: poll briefly. */
  async #execExitCode(id: string, action: Action, signal?: AbortSignal): Promise<number> {
    for (let i = 0;; i++) {
      const info = await this.#json<{ Running: boolean; ExitCode: number | null }>(
        "GET",
        `/exec/${q(id)}/json`,
        action,
        { signal },
      );
      if (!info.Running && info.ExitCode !== null) return info.ExitCode;
      if (i >= 200) {
        throw new StowageError(
          "engine.error",
          `Cannot ${action}: the engine never reported an exit code`,
          "check the container with `docker inspect`",
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async *events(
    opts: { since: Date; filters?: Record<string, string[]> },
    signal: AbortSignal,
  ): AsyncIterable<EngineEvent> {
    const ms = opts.since.getTime();
    const since = `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1e6).padStart(9, "0")}`;
    const query: Record<string, string> = { since };
    if (opts.filters) query.filters = JSON.stringify(opts.filters);
    const res = await this.#fetch("GET", "/events", "read the engine's events", { query, signal });
    if (!res.body) return;
    const lines = res.body.pipeThrough(new TextDecoderStream());
    let buf = "";
    try {
      for await (const chunk of lines) {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) yield JSON.parse(line) as EngineEvent;
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    }
  }

  async gatherState(): Promise<EngineState> {
    const [containers, volumes, networkList, images] = await Promise.all([
      this.listContainers(),
      this.listVolumes(),
      this.listNetworks(),
      this.listImages(),
    ]);
    // The network list omits attached containers; inspect each (skipping ones removed meanwhile).
    const networks = (await mapLimit(networkList, INSPECT_CONCURRENCY, async (n) => {
      try {
        return await this.inspectNetwork(n.Id);
      } catch (e) {
        if (e instanceof StowageError && e.code === "engine.notfound") return undefined;
        throw e;
      }
    })).filter((n): n is EngineNetwork => n !== undefined);
    const paths = new Set<string>();
    for (const c of containers) {
      const labels = c.Config.Labels ?? {};
      if (!labels[COMPOSE_LABELS.project]) continue;
      const p = projectFilePaths(labels);
      for (const f of [...p.compose, ...p.env]) if (f.startsWith("/")) paths.add(f);
    }
    const files: Record<string, string | null> = {};
    await Promise.all([...paths].sort().map(async (p) => (files[p] = await readIfPresent(p))));
    return { containers, volumes, networks, images, files };
  }
}

function socketExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    // Only a definite "not found" counts; when we may not even look, the permission message speaks.
    return !(e instanceof Deno.errors.NotFound);
  }
}

/** A file's text, or null when it is absent (or not a readable file) on this host. */
async function readIfPresent(path: string): Promise<string | null> {
  try {
    return (await readTextIfExists(path)) ?? null;
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied) return null;
    throw e;
  }
}

function notFoundHint(action: Action): string {
  if (action.includes("container")) return "check the name with `docker ps -a`";
  if (action.includes("volume")) return "check the name with `docker volume ls`";
  if (action.includes("network")) return "check the name with `docker network ls`";
  return "check the name with the docker CLI";
}

function errorHint(status: number): string {
  if (status === 409) {
    return "the object is in use or already exists; see the Engine's message above";
  }
  if (status >= 500) return "see the Docker Engine's log (`journalctl -u docker`) for details";
  return "see the Docker Engine's message above";
}

/** Maps with at most `limit` calls in flight, keeping order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array) {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}
