/**
 * Secret redaction for `docker inspect` data stored in recipes. A name is secret when it contains
 * one of SECRET_NAME_PARTS (case-insensitive) or one of the configured extra names.
 */
import type { EngineContainer } from "../engine_types.ts";
import { REDACTED, SECRET_NAME_PARTS } from "../recipe.ts";

export function isSecretName(name: string, extra: readonly string[] = []): boolean {
  const upper = name.toUpperCase();
  return [...SECRET_NAME_PARTS, ...extra.map((e) => e.toUpperCase())].some((part) =>
    upper.includes(part)
  );
}

/** `NAME=value` entries with secret names get their value replaced; others pass through. */
export function redactEnv(env: readonly string[], extra: readonly string[] = []): string[] {
  return env.map((entry) => {
    const eq = entry.indexOf("=");
    if (eq < 0) return entry;
    return isSecretName(entry.slice(0, eq), extra) ? `${entry.slice(0, eq + 1)}${REDACTED}` : entry;
  });
}

export function redactLabels(
  labels: Record<string, string>,
  extra: readonly string[] = [],
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(labels).map(([k, v]) => [k, isSecretName(k, extra) ? REDACTED : v]),
  );
}

/**
 * A deep copy of the container with env and labels redacted. Values of secret variables are also
 * scrubbed wherever else they appear verbatim (Cmd, Entrypoint, Args, healthcheck), since a secret
 * passed on to a command line is still a secret.
 */
export function redactContainer(
  c: EngineContainer,
  extra: readonly string[] = [],
): EngineContainer {
  const copy: EngineContainer = structuredClone(c);
  const env = copy.Config.Env ?? [];
  const secretValues = env
    .map((e) => [e.slice(0, Math.max(0, e.indexOf("="))), e.slice(e.indexOf("=") + 1)] as const)
    .filter(([k, v]) => k && isSecretName(k, extra) && v.length >= 4)
    .map(([, v]) => v);
  copy.Config.Env = redactEnv(env, extra);
  if (copy.Config.Labels) copy.Config.Labels = redactLabels(copy.Config.Labels, extra);
  if (secretValues.length === 0) return copy;
  // Scrub leftovers anywhere in the document (command lines, healthchecks, Args).
  const text = JSON.stringify(copy);
  let scrubbed = text;
  for (const v of secretValues) {
    scrubbed = scrubbed.split(JSON.stringify(v).slice(1, -1)).join(REDACTED);
  }
  return scrubbed === text ? copy : JSON.parse(scrubbed);
}
