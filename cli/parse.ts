/** Flag values shared by several commands, parsed once (usage errors on bad input). */
import { usageError } from "./mod.ts";
import type { Scope } from "../core/model.ts";
import { SCOPES } from "../core/model.ts";

export function parseScope(value: string | undefined): Scope | undefined {
  if (value === undefined) return undefined;
  if (!SCOPES.includes(value as Scope)) {
    throw usageError(`Unknown scope '${value}'`, "Use minimal, standard or full.");
  }
  return value as Scope;
}

export function parseSeconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw usageError(
      `${flag} expects a whole number of seconds, got '${value}'`,
      `e.g. ${flag} 600`,
    );
  }
  return n;
}
