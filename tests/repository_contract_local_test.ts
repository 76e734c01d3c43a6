/** The repository contract (tests/support/repository_contract.ts) on a local directory. */
import { repositoryContract } from "./support/repository_contract.ts";

repositoryContract("local directory", async () => {
  const root = await Deno.makeTempDir({ prefix: "stowage-repo-local-" });
  let n = 0;
  return {
    newLocation: () => Promise.resolve(`${root}/repo-${++n}`),
    storageDir: (location) => location,
    extraArgs: [],
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
});
