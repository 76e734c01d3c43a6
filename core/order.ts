/**
 * Start and stop order of a unit's containers: dependencies start first (topologically by
 * service, ties broken by service name; a service's containers by their compose container
 * number), and stop is the exact reverse. A dependency cycle never hangs: it is broken at a
 * deterministic place and a note says where.
 */
import type { ContainerInfo, Unit } from "./model.ts";
import { COMPOSE_LABELS } from "./compose_labels.ts";

export interface OrderPlan {
  /** Container names, dependencies first. */
  start: string[];
  /** Container names, dependents first (the reverse of start). */
  stop: string[];
  /** Services in start order. */
  services: string[];
  /** Cycles that had to be broken, in words. */
  notes: string[];
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Every container of the unit (running or not); callers pick the ones they act on. */
export function startOrder(unit: Pick<Unit, "containers" | "dependsOn">): string[] {
  return orderPlan(unit).start;
}

export function stopOrder(unit: Pick<Unit, "containers" | "dependsOn">): string[] {
  return orderPlan(unit).stop;
}

export function orderPlan(unit: Pick<Unit, "containers" | "dependsOn">): OrderPlan {
  // Containers without a service (standalone units) form a group of their own.
  const groups = new Map<string, ContainerInfo[]>();
  for (const c of unit.containers) {
    const key = c.service ?? c.name;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(c);
  }
  const deps = new Map<string, Set<string>>();
  for (const svc of groups.keys()) {
    deps.set(svc, new Set((unit.dependsOn[svc] ?? []).filter((d) => d !== svc && groups.has(d))));
  }

  const done = new Set<string>();
  const services: string[] = [];
  const notes: string[] = [];
  const remaining = new Set([...groups.keys()].sort(byName));
  const unmet = (svc: string) => [...deps.get(svc)!].filter((d) => !done.has(d));
  while (remaining.size > 0) {
    let next = [...remaining].find((svc) => unmet(svc).length === 0);
    if (next === undefined) {
      // A cycle: among the services on one, start the one with the fewest unmet dependencies
      // (then by name) first. Services that merely depend on a cycle wait for it as usual.
      const onCycle = [...remaining].filter((s) => reachable(s, unmet).has(s));
      next = onCycle.sort((a, b) => unmet(a).length - unmet(b).length || byName(a, b))[0];
      const cycle = stronglyConnected(next, unmet);
      notes.push(
        `dependency cycle between services ${cycle.join(", ")}: started '${next}' before ${
          unmet(next).map((d) => `'${d}'`).join(", ")
        }`,
      );
    }
    remaining.delete(next);
    done.add(next);
    services.push(next);
  }

  const start = services.flatMap((svc) =>
    [...groups.get(svc)!].sort(byContainerNumber).map((c) => c.name)
  );
  return { start, stop: [...start].reverse(), services, notes };
}

function containerNumber(c: ContainerInfo): number {
  const n = Number.parseInt(c.labels[COMPOSE_LABELS.containerNumber] ?? "", 10);
  return Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER;
}

function byContainerNumber(a: ContainerInfo, b: ContainerInfo): number {
  return containerNumber(a) - containerNumber(b) || byName(a.name, b.name);
}

/** Nodes reachable from `from` by one or more edges. */
function reachable(from: string, edges: (n: string) => string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    for (const m of edges(stack.pop()!)) {
      if (!seen.has(m)) {
        seen.add(m);
        stack.push(m);
      }
    }
  }
  return seen;
}

/** Nodes on a cycle through `start` (which is on one): reachable from it and reaching back. */
function stronglyConnected(start: string, edges: (n: string) => string[]): string[] {
  return [...reachable(start, edges)].filter((n) => n === start || reachable(n, edges).has(start))
    .sort(byName);
}
