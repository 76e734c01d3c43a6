/** Doctor's verdict as data: each check with a status and, when not ok, a hint. Pure rendering aid. */

export type CheckStatus = "ok" | "warn" | "fail";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  hint?: string;
}

export interface DoctorReport {
  healthy: boolean;
  checks: Check[];
}

export function verdict(checks: Check[]): DoctorReport {
  return { healthy: checks.every((c) => c.status !== "fail"), checks };
}

/** A secret file must be owned by us and closed to group and others. */
export function secretFileCheck(
  name: string,
  path: string,
  stat: { mode: number | null } | undefined,
  required: boolean,
): Check {
  if (!stat) {
    return required
      ? {
        name,
        status: "fail",
        detail: `${path} is missing`,
        hint:
          "Restore it from your disaster-recovery bundle, or point the config at the right file.",
      }
      : {
        name,
        status: "warn",
        detail: `${path} does not exist yet`,
        hint: "It is created (0600) by `stowage admin repo init` or the first backup.",
      };
  }
  const mode = (stat.mode ?? 0) & 0o777;
  if (mode & 0o077) {
    return {
      name,
      status: "fail",
      detail: `${path} has mode ${mode.toString(8).padStart(4, "0")}: readable by others`,
      hint: `chmod 600 ${path}`,
    };
  }
  return { name, status: "ok", detail: `${path} (mode ${mode.toString(8).padStart(4, "0")})` };
}
