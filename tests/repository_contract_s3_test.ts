/**
 * The BackupRepository contract (tests/support/repository_contract.ts) on S3: npm's s3rver over
 * TLS (tests/support/s3_server.ts).
 */
import { repositoryContract } from "./support/repository_contract.ts";
import { startS3Server } from "./support/s3_server.ts";

repositoryContract("S3 on a real S3 server (s3rver 3.7.1 over TLS)", async () => {
  const root = await Deno.makeTempDir({ prefix: "stowage-repo-s3-" });
  const server = await startS3Server(root);
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
