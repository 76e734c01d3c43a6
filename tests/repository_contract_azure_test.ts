/**
 * The BackupRepository contract (tests/support/repository_contract.ts) on Azure Blob Storage:
 * Microsoft's emulator Azurite (tests/support/azure_server.ts).
 */
import { repositoryContract } from "./support/repository_contract.ts";
import { startAzureServer } from "./support/azure_server.ts";

repositoryContract("Azure Blob Storage on Azurite 3.34 (the emulator account)", async () => {
  const root = await Deno.makeTempDir({ prefix: "stowage-repo-azure-" });
  const server = await startAzureServer(root);
  let n = 0;
  return {
    newLocation: () => Promise.resolve(server.location(`repo-${++n}`)),
    extraArgs: [],
    env: server.env,
    async cleanup() {
      await server.stop();
      await Deno.remove(root, { recursive: true });
    },
  };
});
