import assert from "node:assert/strict";
import { checkRepositoryLocation } from "./location.ts";
import { isStowageError } from "../errors.ts";

Deno.test("checkRepositoryLocation accepts restic's location forms", () => {
  const ok: [string, string][] = [
    ["/srv/restic", "local"],
    ["local:/srv/restic", "local"],
    ["sftp:backup@nas:/srv/restic", "sftp"],
    ["sftp:nas:restic", "sftp"],
    ["sftp://backup@nas:2222//srv/restic", "sftp"],
    ["rest:https://user:pw@host:8000/", "rest"],
    ["rest:http://localhost:8000/web1", "rest"],
    ["s3:s3.amazonaws.com/bucket/web1", "s3"],
    ["b2:bucket:web1", "b2"],
    ["azure:container:/web1", "azure"],
    ["gs:bucket:/web1", "gs"],
    ["swift:container:/web1", "swift"],
    ["rclone:remote:web1", "rclone"],
    ["tailscale:nas:/srv/restic", "tailscale"],
  ];
  for (const [loc, kind] of ok) assert.equal(checkRepositoryLocation(loc), kind, loc);
});

Deno.test("checkRepositoryLocation rejects typos with the accepted forms as hint", () => {
  for (
    const loc of [
      "",
      "relative/path",
      "sfpt:nas:/x",
      "sftp:nas",
      "rest:ftp://x",
      "s3:bucket",
      "tailscale:nas",
    ]
  ) {
    assert.throws(
      () => checkRepositoryLocation(loc),
      (e) =>
        isStowageError(e, "usage") && e.message.includes(`'${loc}'`) &&
        /sftp:user@host/.test(e.hint ?? ""),
      loc,
    );
  }
});
