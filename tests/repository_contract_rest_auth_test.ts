/**
 * The repository contract (tests/support/repository_contract.ts) on a real `rclone serve restic`
 * with basic auth, and append-only.
 */
import { repositoryContract, restTarget } from "./support/repository_contract.ts";

repositoryContract(
  "REST with basic auth (--htpasswd) on a real rclone serve restic",
  restTarget({ auth: true }),
);
repositoryContract(
  "REST --append-only on a real rclone serve restic",
  restTarget({ auth: true, appendOnly: true }),
);
