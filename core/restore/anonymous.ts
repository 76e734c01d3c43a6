/**
 * Anonymous volumes (`volumes: ["/anon"]`): Docker names them by a random hash, and a container
 * that compose creates on a new host gets a new, empty one. Restoring the data under the old hash
 * would leave it attached to nothing. So when compose brings the stack up (`--start`) and the old
 * volume is gone, the data step waits: after `up`, it is restored into the anonymous volume the
 * new container of the same service mounts at the same destination (docs/restore.md). Pure.
 */
import type { Recipe } from "../recipe.ts";
import { COMPOSE_LABELS } from "../compose_labels.ts";
import type { RestorePlan } from "./plan.ts";

/** Where an anonymous volume was mounted at backup time. */
export interface AnonymousMount {
  service: string;
  destination: string;
  /** compose's container number of the container that mounted it ("1" for most). */
  number: string;
}

const ANONYMOUS_NAME = /^[0-9a-f]{64}$/;

/** The mount of a saved anonymous volume, or undefined when it is a named (or unknown) volume. */
export function anonymousMount(
  recipe: Recipe | undefined,
  volume: string,
): AnonymousMount | undefined {
  if (!recipe || !ANONYMOUS_NAME.test(volume)) return undefined;
  const meta = recipe.unit.volumes.find((v) => v.name === volume);
  if (meta?.composeName && meta.composeName !== volume) return undefined;
  for (const c of recipe.unit.containers) {
    const m = c.mounts.find((m) => m.type === "volume" && m.source === volume);
    if (!m || !c.service) continue;
    return {
      service: c.service,
      destination: m.destination,
      number: c.labels[COMPOSE_LABELS.containerNumber] ?? "1",
    };
  }
  return undefined;
}

/**
 * Marks data steps of anonymous volumes that do not exist on the host: with compose starting the
 * stack they are restored after `up` into the new container's volume; without it, a warning says
 * the data will not be attached.
 */
export function deferAnonymousVolumes(plan: RestorePlan, recipe: Recipe | undefined) {
  if (plan.toDir || plan.kind !== "stack") return;
  for (const step of plan.data) {
    if (step.kind !== "volume" || !step.create) continue;
    const mount = anonymousMount(recipe, step.name);
    if (!mount) continue;
    if (plan.compose) {
      step.create = undefined;
      step.target = undefined;
      step.anonymous = mount;
    } else {
      plan.warnings.push(
        `volume ${step.name} is the anonymous volume of service ${mount.service} at ${mount.destination}: it is restored under its old name, and a container compose creates gets a new empty one; restore with --start to attach the data`,
      );
    }
  }
}
