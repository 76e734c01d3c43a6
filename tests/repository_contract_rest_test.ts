/**
 * The BackupRepository contract (tests/support/repository_contract.ts) against REST on a real
 * `rclone serve restic`: no auth, basic auth (htpasswd) and --append-only.
 */
import { type ContractTarget, repositoryContract } from "./support/repository_contract.ts";
import { startRestServer } from "./support/rest_server.ts";

/** A REST target on a real `rclone serve restic` (no auth, basic auth, or append-only). */
function restTarget(opts: { auth: boolean; appendOnly?: boolean }) {
  return async (): Promise<ContractTarget> => {
    const root = await Deno.makeTempDir({ prefix: "stowage-repo-rest-" });
    const server = await startRestServer(root, opts);
    let n = 0;
    return {
      newLocation: () => Promise.resolve(server.location(`repo-${++n}`)),
      extraArgs: [],
      appendOnly: opts.appendOnly,
      async cleanup() {
        await server.stop();
        await Deno.remove(root, { recursive: true });
      },
    };
  };
}

repositoryContract("REST on a real rclone serve restic", restTarget({ auth: false }));
repositoryContract(
  "REST with basic auth (--htpasswd) on a real rclone serve restic",
  restTarget({ auth: true }),
);
repositoryContract(
  "REST --append-only on a real rclone serve restic",
  restTarget({ auth: true, appendOnly: true }),
);
