/** The repository contract (tests/support/repository_contract.ts) on a real `rclone serve restic`, no auth. */
import { repositoryContract, restTarget } from "./support/repository_contract.ts";

repositoryContract("REST on a real rclone serve restic", restTarget({ auth: false }));
