/**
 * The BackupRepository contract (tests/support/repository_contract.ts) against a local directory,
 * SFTP on a real sshd started on loopback, and an rclone remote. REST runs in
 * repository_contract_rest_test.ts, S3 and Azure in repository_contract_cloud_test.ts. Each
 * target gets its own temp dirs and repositories and removes them.
 */
import { sftpCommand } from "../adapters/restic/open.ts";
import { repositoryContract } from "./support/repository_contract.ts";
import { startSshd } from "./support/sshd.ts";

repositoryContract("local directory", async () => {
  const root = await Deno.makeTempDir({ prefix: "stowage-repo-local-" });
  let n = 0;
  return {
    newLocation: () => Promise.resolve(`${root}/repo-${++n}`),
    extraArgs: [],
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
});

repositoryContract("sftp on a real sshd (loopback)", async () => {
  const sshd = await startSshd();
  const root = await Deno.makeTempDir({ prefix: "stowage-repo-sftp-" });
  let n = 0;
  const first = sshd.sftpLocation(`${root}/repo-0`);
  return {
    newLocation: () => Promise.resolve(sshd.sftpLocation(`${root}/repo-${++n}`)),
    extraArgs: [
      "-o",
      `sftp.command=${sftpCommand(first, { key: sshd.clientKey, knownHosts: sshd.knownHosts })}`,
    ],
    async cleanup() {
      await sshd.stop();
      await Deno.remove(root, { recursive: true });
    },
  };
});

repositoryContract("rclone: a local remote (type = local)", async () => {
  const root = await Deno.makeTempDir({ prefix: "stowage-repo-rclone-" });
  const config = `${root}/rclone.conf`;
  await Deno.writeTextFile(config, "[stowagetest]\ntype = local\n", { mode: 0o600 });
  let n = 0;
  return {
    newLocation: () => Promise.resolve(`rclone:stowagetest:${root}/repo-${++n}`),
    extraArgs: [],
    env: { RCLONE_CONFIG: config },
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
});
