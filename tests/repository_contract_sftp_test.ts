/** The repository contract (tests/support/repository_contract.ts) over SFTP to a real sshd on loopback. */
import { sftpCommand } from "../adapters/restic/open.ts";
import { repositoryContract } from "./support/repository_contract.ts";
import { startSshd } from "./support/sshd.ts";

repositoryContract("sftp on a real sshd (loopback)", async () => {
  const sshd = await startSshd();
  const root = await Deno.makeTempDir({ prefix: "stowage-repo-sftp-" });
  let n = 0;
  const first = sshd.sftpLocation(`${root}/repo-0`);
  return {
    newLocation: () => Promise.resolve(sshd.sftpLocation(`${root}/repo-${++n}`)),
    storageDir: (location) => `${root}/${location.split("/").pop()}`,
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
