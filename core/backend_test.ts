import assert from "node:assert/strict";
import { backendName } from "./backend.ts";

Deno.test("each location names its backend", () => {
  assert.equal(backendName("/srv/restic"), "local directory");
  assert.equal(backendName("rest:http://u:p@127.0.0.1:8000/r/"), "REST server");
  assert.equal(backendName("sftp:b@nas:/srv/r"), "SFTP server");
  assert.equal(backendName("s3:s3.amazonaws.com/bucket/x"), "S3 bucket");
  assert.equal(backendName("b2:bucket:x"), "Backblaze B2 bucket");
  assert.equal(backendName("azure:c:/x"), "Azure Blob container");
  assert.equal(backendName("gs:b:/x"), "Google Cloud Storage bucket");
  assert.equal(backendName("rclone:remote:x"), "rclone remote");
  assert.equal(backendName("tailscale:nas:/x"), "Tailscale peer (SFTP)");
});
