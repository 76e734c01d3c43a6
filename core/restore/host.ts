/**
 * `restore --host NAME`: restore points made by one host of a shared repository (the new-server
 * case: this machine restores the unit another host backed up). Pure.
 */
import { StowageError } from "../errors.ts";

export function pointsOfHost<P extends { host: string }>(
  points: P[],
  unit: string,
  host: string | undefined,
): P[] {
  if (host === undefined) return points;
  const mine = points.filter((p) => p.host === host);
  if (mine.length > 0) return mine;
  const hosts = [...new Set(points.map((p) => p.host))].sort();
  throw new StowageError(
    "snapshot.notfound",
    `Cannot restore unit '${unit}': host '${host}' made no restore point of it`,
    hosts.length
      ? `Hosts with restore points of '${unit}': ${hosts.join(", ")}.`
      : `Unit '${unit}' has no restore points; \`stowage admin snapshot list --all-hosts\` lists the fleet.`,
  );
}
