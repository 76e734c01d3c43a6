/**
 * The fixture compose stack: three services with depends_on, two named volumes, a bind mount, a
 * custom network with an IPAM subnet and environment variables holding secrets. Each call makes a
 * fresh project (unique name) in a temp dir; `down()` removes it with its volumes and networks
 * (removeComposeProject: the docker CLI by label, not a docker-compose process).
 */
import {
  cleanupDocker,
  ensureTestImage,
  removeComposeProject,
  sh,
  TEST_LABEL,
  testName,
  testSubnet,
} from "./docker.ts";

export interface FixtureStack {
  project: string;
  dir: string;
  composeFile: string;
  subnet: string;
  /** Secret values given to containers through env vars; none may appear in any snapshot or output. */
  secrets: string[];
  compose(...args: string[]): Promise<string>;
  up(): Promise<void>;
  down(): Promise<void>;
  /** Container name of a service (`<project>_<service>_1`). */
  container(service: string): string;
  volume(name: "db_data" | "app_data"): string;
}

/**
 * `healthcheck`: the app service is healthy once its volume holds a non-empty /data/greeting
 * (restore drills: a backup of an emptied volume comes up unhealthy).
 */
export async function createFixtureStack(
  opts: { name?: string; healthcheck?: boolean } = {},
): Promise<FixtureStack> {
  const image = await ensureTestImage();
  const project = testName(opts.name ?? "stack");
  const dir = await Deno.makeTempDir({ prefix: `stowage-${project}-` });
  const net = testSubnet();
  const secrets = [
    `pw-${crypto.randomUUID()}`,
    `tok-${crypto.randomUUID()}`,
    `key-${crypto.randomUUID()}`,
  ];
  const [label, value] = TEST_LABEL.split("=");
  await Deno.mkdir(`${dir}/html`);
  await Deno.writeTextFile(`${dir}/html/index.html`, "<h1>hello from the fixture</h1>\n");
  // Secrets reach the containers from the environment of `docker-compose up`, never from a file,
  // so any copy of them in a snapshot can only come from redaction failing.
  await Deno.writeTextFile(`${dir}/.env`, "APP_MODE=production\nAPP_PORT=8080\n");
  const compose = `version: "2.4"
services:
  db:
    image: ${image}
    init: true
    command: ["sh", "-c", "mkdir -p /data && echo db-ready > /data/ready && exec sleep 1000000"]
    environment:
      POSTGRES_PASSWORD: \${DB_PASSWORD}
      POSTGRES_USER: app
    volumes:
      - db_data:/data
    networks:
      backend:
        ipv4_address: ${net.prefix}.10
    labels:
      ${label}: "${value}"
  app:
    image: ${image}
    init: true
    command: ["sleep", "1000000"]
    depends_on:
      - db
${
    opts.healthcheck
      ? `    healthcheck:
      test: ["CMD", "test", "-s", "/data/greeting"]
      interval: 1s
      timeout: 2s
      retries: 2
`
      : ""
  }    environment:
      API_TOKEN: \${API_TOKEN}
      APP_SECRET_KEY: \${APP_SECRET_KEY}
      APP_MODE: \${APP_MODE}
    volumes:
      - app_data:/data
      - ./html:/var/www
    networks:
      - backend
    labels:
      ${label}: "${value}"
  web:
    image: ${image}
    init: true
    command: ["sleep", "1000000"]
    depends_on:
      - app
    volumes:
      - ./html:/var/www:ro
    networks:
      - backend
    labels:
      ${label}: "${value}"
volumes:
  db_data:
    labels:
      ${label}: "${value}"
  app_data:
    labels:
      ${label}: "${value}"
networks:
  backend:
    ipam:
      config:
        - subnet: ${net.subnet}
          gateway: ${net.gateway}
    labels:
      ${label}: "${value}"
`;
  const composeFile = `${dir}/docker-compose.yml`;
  await Deno.writeTextFile(composeFile, compose);
  const env = { DB_PASSWORD: secrets[0], API_TOKEN: secrets[1], APP_SECRET_KEY: secrets[2] };
  const run = async (...args: string[]) =>
    (await sh("docker-compose", ["-p", project, ...args], { cwd: dir, env })).stdout;
  return {
    project,
    dir,
    composeFile,
    subnet: net.subnet,
    secrets,
    compose: run,
    async up() {
      await run("up", "-d");
    },
    async down() {
      await removeComposeProject(project);
    },
    container: (service) => `${project}_${service}_1`,
    volume: (name) => `${project}_${name}`,
  };
}

/**
 * A fixture stack for `fn`, up and running; afterwards, whatever happened, the stack, every other
 * Docker object this test process made (cleanupDocker) and the stack's folder are removed.
 */
export async function withFixtureStack(
  opts: { name?: string; healthcheck?: boolean },
  fn: (s: FixtureStack) => Promise<void>,
): Promise<void> {
  const s = await createFixtureStack(opts);
  try {
    await s.up();
    await fn(s);
  } finally {
    await s.down();
    await cleanupDocker();
    await Deno.remove(s.dir, { recursive: true }).catch(() => {});
  }
}
