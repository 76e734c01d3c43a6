/**
 * The config schema as JSON Schema (for editors, `admin config schema`) and as a Markdown
 * reference (docs/config.md, written by `deno task docs`). Both come from the zod schema. Pure.
 */
import { z } from "zod";
import { configSchema } from "./schema.ts";

export type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  [k: string]: unknown;
};

/** JSON Schema of what a person may write in the file (io "input": defaults are optional). */
export function configJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(configSchema, { io: "input" }) as JsonSchema;
  return {
    $schema: schema.$schema,
    $id: "https://stowage.invalid/config.schema.json",
    title: "stowage configuration",
    ...schema,
  };
}

export interface ConfigKeyDoc {
  key: string;
  type: string;
  default?: string;
  description: string;
}

/** Every key, depth first, with its type, default and description. */
export function configKeys(schema: JsonSchema = configJsonSchema()): ConfigKeyDoc[] {
  const out: ConfigKeyDoc[] = [];
  const seen = new Set<string>();
  // Subtrees documented once (retention, hooks) are referenced, not repeated, further down.
  const documented = new Map<string, string>();
  const shapeOf = (node: JsonSchema) => JSON.stringify(node.properties ?? node.items ?? null);
  const structured = (node: JsonSchema) =>
    typeName(node) === "mapping" || !!node.items?.properties || !!node.items?.anyOf;
  // Top-level keys are the canonical place for a shape that recurs deeper (retention, hooks).
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    if (structured(child) && !documented.has(shapeOf(child))) documented.set(shapeOf(child), name);
  }
  const walk = (node: JsonSchema, path: string) => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const key = path ? `${path}.${name}` : name;
      if (seen.has(key)) continue;
      seen.add(key);
      const isMapping = typeName(child) === "mapping";
      const canonical = structured(child) ? documented.get(shapeOf(child)) : undefined;
      const same = canonical !== key ? canonical : undefined;
      out.push({
        key,
        type: typeName(child),
        default: child.default === undefined
          ? undefined
          : isMapping
          ? "see its keys"
          : JSON.stringify(child.default),
        description: describe(child) + alternatives(child) +
          (same
            ? (child.items ? ` Entries as in \`${same}\`.` : ` Same keys as \`${same}\`.`)
            : ""),
      });
      if (same) continue;
      if (structured(child) && !canonical) documented.set(shapeOf(child), key);
      descend(child, key);
    }
  };
  const descend = (node: JsonSchema, key: string) => {
    if (node.properties) walk(node, key);
    if (typeof node.additionalProperties === "object" && node.additionalProperties.properties) {
      walk(node.additionalProperties, `${key}.<name>`);
    }
    const items = node.items;
    if (items) {
      for (const variant of items.anyOf ?? items.oneOf ?? [items]) {
        if (variant.properties) walk(variant, `${key}[]`);
      }
    }
  };
  walk(schema, "");
  return out;
}

/** For a list of alternatives (hook specs): which key picks which form. */
function alternatives(node: JsonSchema): string {
  const variants = node.items?.anyOf;
  if (!variants || !variants.every((v) => v.properties)) return "";
  const forms = variants.map((v) => `\`{ ${((v.required as string[]) ?? []).join(", ")}, ... }\``);
  return ` Each entry is ${forms.join(" or ")}.`;
}

function describe(node: JsonSchema): string {
  if (node.description) return node.description;
  const inner = node.anyOf?.find((n) => n.description) ?? node.items;
  return inner?.description ?? "";
}

export function typeName(node: JsonSchema): string {
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  const variants = node.anyOf ?? node.oneOf;
  if (variants) {
    const names = [...new Set(variants.map(typeName))];
    return names.join(" or ");
  }
  const t = Array.isArray(node.type) ? node.type.join(" or ") : node.type;
  switch (t) {
    case "integer":
    case "number": {
      const bounded = node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER;
      const range = node.minimum !== undefined && bounded
        ? ` (${node.minimum}–${node.maximum})`
        : node.minimum !== undefined
        ? ` (≥ ${node.minimum})`
        : "";
      return `${t === "integer" ? "integer" : "number"}${range}`;
    }
    case "array":
      return node.items ? `list of ${plural(typeName(node.items))}` : "list";
    case "object":
      if (typeof node.additionalProperties === "object" && !node.properties) {
        const v = node.additionalProperties;
        return v.properties ? "map of name → settings" : `map of name → ${typeName(v)}`;
      }
      return "mapping";
    default:
      return t ?? "any";
  }
}

function plural(t: string): string {
  if (t === "mapping") return "mappings";
  if (t === "string") return "strings";
  if (t.includes(" or ")) return `(${t})`;
  return t;
}

const INTRO = `# Configuration reference

<!-- Generated by \`deno task docs\` (tools/gen_config_docs.ts) from core/config/schema.ts. Do not edit by hand. -->

stowage reads one YAML file: \`/etc/stowage/config.yaml\` as root, \`~/.config/stowage/config.yaml\`
(or \`$XDG_CONFIG_HOME/stowage/config.yaml\`) otherwise. \`--config PATH\` and \`STOWAGE_CONFIG\`
name another file, which must then exist. Without any file, the **embedded default** is in use:
a local restic repository at \`<state_dir>/repository\` with a generated password file
\`<state_dir>/repository.password\` (48 random characters, mode 0600). Every key is optional.

Validation reports every problem at once, each with its path, for example
\`At 'backup.stop_timeout': expected a number of seconds from 1 to 3600, got "abc"\`;
unknown keys are errors with a did-you-mean. Echoed values are cut to 80 characters.

The file must be a regular file (not a FIFO or device) of UTF-8 text, at most 8 MiB; one YAML
anchor may be used at most 100 times (an alias bomb is a parse error). Paths (\`state_dir\`,
password, key, env and token files, the bundle directory, a local repository location) must be
absolute and free of control characters: a relative path would depend on the directory stowage is
started from. \`status.listen\` follows the daemon's rule: a non-loopback address needs
\`status.token_file\` (and \`admin service write-units\` then passes \`--allow-remote-status\`).

## Commands

| command | what it does |
| --- | --- |
| \`stowage admin config show [--json]\` | the effective config, secrets masked as \`**REDACTED**\`, and which file it came from |
| \`stowage admin config new [--repository LOC] [--password-file PATH] [--scope S] [--force]\` | writes a new file (0600, parent directory 0700); creates the password file (48 random characters, 0600) when it is absent and never prints it; a wizard asks for what is missing only when stdin is a terminal; without a terminal and without \`--repository\` it keeps the embedded-default repository and says so |
| \`stowage admin config edit\` | opens \`$VISUAL\`/\`$EDITOR\` (default \`vi\`) on a private temp copy; saves atomically only when the result is valid, otherwise keeps the old file and lists every problem (on a terminal it offers to edit again) |
| \`stowage admin config reset [--yes]\` | replaces the file with the defaults (the old one is kept as \`<file>.bak\`, 0600); refuses without a terminal unless \`--yes\` |
| \`stowage admin config schema\` | JSON Schema of the file for editors (e.g. the YAML language server: \`# yaml-language-server: $schema=./config.schema.json\`) |
| \`stowage admin config validate [FILE] [--json]\` | checks a file and lists every problem; exit code 3 when it is invalid |

Reading config (\`show\`, \`validate\`, \`version\`, \`doctor\`, \`--help\`) never writes a file.

### Editors

\`EDITOR\`/\`VISUAL\` is run through \`sh -c\` the way git runs it: it may carry arguments
(\`EDITOR="code --wait"\`, \`EDITOR="nano -w"\`) and the file path is appended. stowage's permission
set allows \`sh\`, so any editor on \`PATH\` works. The editor edits a copy in a private temp
directory (0700), never the live file.

### Secrets

\`repository.env\` values are always masked by \`config show\`, and so is anything inside other
values that looks like a credential: passwords in URLs (\`rest:https://user:**REDACTED**@host/\`),
\`--password=...\`, \`-pSecret\` (mysqldump), \`PGPASSWORD=...\`, \`Authorization: Bearer ...\`,
\`API_TOKEN=...\`, and the word after \`-u\` or a \`--...password\`/\`--...token\` flag in a hook's argv.
The rules are core/secrets.ts's, the same that redact the backup recipe. Prefer \`repository.env_file\` and
\`password_file\` over inline values: files can be 0600, the config is read by more tools.

## First run and system dependencies

| command | what it does |
| --- | --- |
| \`bash scripts/setup.sh\` | on a fresh Debian/Ubuntu machine (root, Node/npm): installs what is missing (Deno 2.9.6 through npm, restic, docker-compose, busybox-static, acl, openssl; docker.io only when no Docker Engine is installed), starts dockerd when none answers (log: \`/var/log/stowage-dockerd.log\`), then runs \`scripts/demo.sh\`; safe to run twice; \`--no-demo\` installs only |
| \`bash scripts/demo.sh\` | builds a busybox image with \`docker import\`, starts the \`stowage-demo\` stack (two services, one named volume) from \`/var/lib/stowage-demo\`, backs it up into the default repository and lists the snapshots; \`--down\` removes the stack (the backups stay) |
| \`stowage setup [--repository LOC] [--password-file PATH] [--scope S] [--yes] [--json]\` | checks dependencies (restic is required to go on), writes a config when there is none (flags, a wizard on a terminal, or the embedded default), creates the repository unless it already opens, and prints where the config, repository and password file are and what to run next; an existing config is kept |
| \`stowage admin system show-deps [--json]\` | each dependency as \`ok\`, \`missing\`, \`too-old\` or \`not-running\`: Docker Engine API >= 1.41, restic >= 0.14, \`docker compose\` v2 or \`docker-compose\` >= 1.29 (or \`docker.compose_command\`), tar, OpenSSL >= 1.1.1, and the OpenSSH client (required only for \`sftp:\`/\`tailscale:\` repositories); exit code 4 when a required one is not ok |
| \`stowage admin system install-deps [--yes] [--dry-run] [--json]\` | on Debian/Ubuntu runs \`apt-get update\` and \`apt-get install -y --no-install-recommends\` for what is missing (asks on a terminal; without one it needs \`--yes\`); never installs or upgrades a Docker Engine that is already there (it says how to start one that is stopped); elsewhere it prints the command for your package manager and exits 4 |

## Keys
`;

export function renderConfigDocs(schema: JsonSchema = configJsonSchema()): string {
  const keys = configKeys(schema);
  const sections = new Map<string, ConfigKeyDoc[]>();
  const hasChildren = (top: string) => keys.some((k) => k.key.startsWith(`${top}.`));
  for (const k of keys) {
    const name = k.key.split(/[.[]/)[0];
    const top = hasChildren(name) ? name : "";
    if (!sections.has(top)) sections.set(top, []);
    sections.get(top)!.push(k);
  }
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  let md = INTRO;
  for (const [top, rows] of sections) {
    md += top ? `\n### \`${top}\`\n\n` : "\n### Other top-level keys\n\n";
    const head = rows[0];
    if (head.key === top && head.description) md += `${head.description}\n\n`;
    md += "| key | type | default | description |\n| --- | --- | --- | --- |\n";
    for (const r of rows) {
      md += `| \`${r.key}\` | ${r.type.replace(/(?<!\\)\|/g, "\\|")} | ${
        r.default === undefined
          ? "—"
          : r.default === "see its keys"
          ? "see its keys"
          : `\`${cell(r.default)}\``
      } | ${cell(r.description)} |\n`;
    }
  }
  md += `
## Example

\`\`\`yaml
repository:
  location: sftp:backup@nas.example:/srv/restic/web1
  password_file: /etc/stowage/repository.password
  known_hosts: /etc/stowage/known_hosts
backup:
  scope: standard
  stop_timeout: 30
retention:
  latest: 3
  daily: 7
  weekly: 4
  monthly: 6
units:
  wordpress:
    volumes:
      wordpress_cache:
        skip: true
    hooks:
      pre_backup:
        - run: ["/usr/local/bin/wp-maintenance", "on"]
      post_backup:
        - run: ["/usr/local/bin/wp-maintenance", "off"]
          mode: optional
\`\`\`
`;
  return md;
}
