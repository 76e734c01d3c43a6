import assert from "node:assert/strict";
import {
  mergeComposeFiles,
  parseComposeFile,
  resolveReferences,
  serviceDependencies,
} from "./compose_file.ts";
import { projectFilePaths } from "./compose_labels.ts";

Deno.test("depends_on in list and map form, links, network_mode and volumes_from", () => {
  const info = parseComposeFile(`
version: "2.4"
services:
  db:
    image: postgres:16
  cache:
    image: redis
  app:
    image: app
    depends_on:
      db:
        condition: service_healthy
      cache:
        condition: service_started
    links: ["db:database"]
  web:
    image: nginx
    depends_on: [app]
    volumes_from: ["app:ro", "container:other"]
  sidecar:
    image: busybox
    network_mode: "service:web"
  plain:
`);
  assert.deepEqual(info.notes, []);
  assert.deepEqual(info.services.app.dependsOn, ["db", "cache"]);
  assert.deepEqual(info.services.app.links, ["db"]);
  assert.deepEqual(serviceDependencies(info.services.app), ["db", "cache"]);
  assert.deepEqual(serviceDependencies(info.services.web), ["app"]);
  assert.deepEqual(serviceDependencies(info.services.sidecar), ["web"]);
  assert.deepEqual(serviceDependencies(info.services.plain), []);
  assert.equal(info.services.db.networkMode, undefined);
});

Deno.test("YAML merge keys and extension fields work as compose reads them", () => {
  const info = parseComposeFile(`
version: "3.8"
x-common: &common
  depends_on: [db]
services:
  db: { image: db }
  worker:
    <<: *common
    image: w
`);
  assert.deepEqual(info.services.worker.dependsOn, ["db"]);
  assert.equal(info.services["x-common"], undefined);
});

Deno.test("file, external and environment secrets", () => {
  const info = parseComposeFile(`
version: "3.8"
services:
  db:
    image: db
    secrets: [db_password, { source: api_key, target: key }]
secrets:
  db_password:
    file: ./secrets/db_password.txt
  api_key:
    external: true
  token:
    environment: TOKEN
`);
  assert.deepEqual(info.services.db.secrets, ["db_password", "api_key"]);
  assert.deepEqual(info.secrets.db_password, {
    name: "db_password",
    file: "./secrets/db_password.txt",
    external: false,
    environment: undefined,
  });
  assert.equal(info.secrets.api_key.external, true);
  assert.equal(info.secrets.token.environment, "TOKEN");
});

Deno.test("legacy v1 files (no version, no services key) list services at the top level", () => {
  const info = parseComposeFile(`
web:
  image: nginx
  links: [db]
db:
  image: postgres
`);
  assert.deepEqual(Object.keys(info.services).sort(), ["db", "web"]);
  assert.deepEqual(info.services.web.links, ["db"]);
});

Deno.test("garbage never throws: empty result and a note", () => {
  for (
    const [text, note] of [
      ["services: [unclosed", /not valid YAML/],
      ["", /is empty/],
      ["- a\n- b\n", /not a mapping/],
      ["just a string", /not a mapping/],
      ['version: "2"\nservices: 7\n', /'services' is not a mapping/],
      ['version: "2"\nservices:\n  web: 5\n', /service 'web' is not a mapping/],
    ] as const
  ) {
    const info = parseComposeFile(text, "f.yml");
    assert.deepEqual(info.services, {}, text);
    assert.match(info.notes.join("\n"), note, text);
    assert.match(info.notes[0], /f\.yml/);
  }
});

Deno.test("odd value types inside a service are ignored, not fatal", () => {
  const info = parseComposeFile(`
version: "2.4"
services:
  app:
    depends_on: 42
    links: [1, "db"]
    network_mode: [x]
`);
  assert.deepEqual(serviceDependencies(info.services.app), ["db"]);
});

Deno.test("merging several files unites dependencies per service", () => {
  const a = parseComposeFile(
    'version: "2.4"\nservices:\n  app: { image: a, depends_on: [db] }\n  db: { image: d }\n',
  );
  const b = parseComposeFile(
    'version: "2.4"\nservices:\n  app: { depends_on: [cache] }\n  cache: { image: c }\n',
  );
  const m = mergeComposeFiles([a, b]);
  assert.deepEqual(m.services.app.dependsOn, ["db", "cache"]);
  assert.deepEqual(Object.keys(m.services).sort(), ["app", "cache", "db"]);
});

Deno.test("project files: docker-compose 1.29 relative config_files, Compose v2 absolute ones", () => {
  assert.deepEqual(
    projectFilePaths({
      "com.docker.compose.project.working_dir": "/srv/wp",
      "com.docker.compose.project.config_files": "docker-compose.yml,docker-compose.override.yml",
    }),
    {
      workingDir: "/srv/wp",
      compose: ["/srv/wp/docker-compose.yml", "/srv/wp/docker-compose.override.yml"],
      env: ["/srv/wp/.env"],
    },
  );
  assert.deepEqual(
    projectFilePaths({
      "com.docker.compose.project.working_dir": "/srv/wp",
      "com.docker.compose.project.config_files":
        "/srv/wp/compose.yaml, /etc/../srv/shared/base.yaml",
      "com.docker.compose.project.environment_file": "/srv/wp/.env,/srv/wp/prod.env",
    }),
    {
      workingDir: "/srv/wp",
      compose: ["/srv/wp/compose.yaml", "/srv/shared/base.yaml"],
      env: ["/srv/wp/.env", "/srv/wp/prod.env"],
    },
  );
  assert.deepEqual(projectFilePaths({}), { workingDir: undefined, compose: [], env: [] });
});

Deno.test("references: env_file (string, list, map form), extends, build (string and map), configs", () => {
  const info = parseComposeFile(`
version: "3.8"
services:
  web:
    image: w
    env_file: ./app.env
    extends: { file: common.yml, service: base }
  api:
    env_file: [a.env, { path: ./opt.env, required: false }]
    build: ./api
  worker:
    build: { context: ./w, dockerfile: docker/Dockerfile.prod }
  remote:
    build: https://github.com/x/y.git
configs:
  nginx: { file: ./nginx.conf }
  ext: { external: true }
`);
  assert.deepEqual(info.references, [
    { kind: "env_file", service: "web", path: "./app.env" },
    { kind: "extends", service: "web", path: "common.yml" },
    { kind: "env_file", service: "api", path: "a.env" },
    { kind: "env_file", service: "api", path: "./opt.env", optional: true },
    { kind: "build", service: "api", path: "./api" },
    { kind: "build", service: "worker", path: "./w", dockerfile: "docker/Dockerfile.prod" },
    { kind: "build", service: "remote", path: "https://github.com/x/y.git" },
    { kind: "config", path: "./nginx.conf" },
  ]);
  const resolved = resolveReferences(info.references!, "/srv/app");
  assert.equal(resolved[0].hostPath, "/srv/app/app.env");
  assert.equal(resolved[5].dockerfilePath, "/srv/app/w/docker/Dockerfile.prod");
  assert.equal(resolved[4].dockerfilePath, "/srv/app/api/Dockerfile");
  assert.equal(resolved[6].remote, true);
  assert.equal(resolved[6].hostPath, undefined);
  assert.equal(
    resolveReferences([{ kind: "env_file", path: "~/x.env" }], "/srv/app")[0].hostPath,
    undefined,
  );
  assert.deepEqual(parseComposeFile("services: [").references, []);
});
