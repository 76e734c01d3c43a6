/** The repository contract (tests/support/repository_contract.ts) through an rclone remote. */
import { repositoryContract } from "./support/repository_contract.ts";

repositoryContract("rclone: a local remote (type = local)", async () => {
  const root = await Deno.makeTempDir({ prefix: "stowage-repo-rclone-" });
  const config = `${root}/rclone.conf`;
  await Deno.writeTextFile(config, "[stowagetest]\ntype = local\n", { mode: 0o600 });
  let n = 0;
  return {
    newLocation: () => Promise.resolve(`rclone:stowagetest:${root}/repo-${++n}`),
    storageDir: (location) => location.slice("rclone:stowagetest:".length),
    extraArgs: [],
    env: { RCLONE_CONFIG: config },
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
});
