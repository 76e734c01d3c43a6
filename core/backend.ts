/** The repository's backend named the way a user reads it (doctor, errors). Pure. */
import { checkRepositoryLocation, type LocationKind } from "./config/location.ts";

const NAMES: Record<LocationKind, string> = {
  local: "local directory",
  sftp: "SFTP server",
  rest: "REST server",
  s3: "S3 bucket",
  b2: "Backblaze B2 bucket",
  azure: "Azure Blob container",
  gs: "Google Cloud Storage bucket",
  swift: "OpenStack Swift container",
  rclone: "rclone remote",
  tailscale: "Tailscale peer (SFTP)",
};

export function backendName(location: string): string {
  try {
    return NAMES[checkRepositoryLocation(location)];
  } catch {
    return "repository";
  }
}
