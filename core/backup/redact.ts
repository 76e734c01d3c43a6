/**
 * Secret redaction for what the recipe stores: `docker inspect` data and the unit's description
 * (container labels, volume labels and driver options). The rules themselves live in
 * core/secrets.ts; `extra` is the config's `backup.redact` list of more secret names.
 */
import type { EngineContainer } from "../engine_types.ts";
import type { Unit } from "../model.ts";
import { isSecretName, REDACTED, redactEnv, redactLabels, redactOptions } from "../secrets.ts";

export { isSecretName, redactEnv, redactLabels };

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

/**
 * A deep copy of the unit as the recipe stores it: container labels and volume labels redacted
 * like inspect data, volume driver options through redactOptions (a CIFS `password=` inside `o`).
 * Networks are kept as they are: restore recreates them from these options.
 */
export function redactUnit(unit: Unit, extra: readonly string[] = []): Unit {
  const copy: Unit = structuredClone(unit);
  for (const c of copy.containers) c.labels = redactLabels(c.labels, extra);
  for (const v of copy.volumes) {
    v.labels = redactLabels(v.labels, extra);
    v.options = redactOptions(v.options, extra);
  }
  return copy;
}
