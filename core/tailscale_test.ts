import assert from "node:assert/strict";
import { isStowageError } from "./errors.ts";
import {
  checkPeerPath,
  checkSshUser,
  findPeer,
  parseTailscaleStatus,
  peerLocation,
  peerName,
  sortPeers,
  type TailscalePeer,
} from "./tailscale.ts";

/** Trimmed from a real `tailscale status --json` (1.76), addresses and keys changed. */
const STATUS = JSON.stringify({
  Version: "1.76.6-t8e3d7c6a3-g2b6b8e1a9",
  BackendState: "Running",
  Self: {
    ID: "n1",
    HostName: "docker-host",
    DNSName: "docker-host.tail4e2f1.ts.net.",
    OS: "linux",
    TailscaleIPs: ["100.64.0.1", "fd7a:115c:a1e0::1"],
    Online: true,
  },
  Peer: {
    "nodekey:01": {
      HostName: "NAS-Box",
      DNSName: "nas.tail4e2f1.ts.net.",
      OS: "linux",
      TailscaleIPs: ["fd7a:115c:a1e0::2", "100.64.0.2"],
      Online: true,
      LastSeen: "0001-01-01T00:00:00Z",
    },
    "nodekey:02": {
      HostName: "laptop",
      DNSName: "laptop.tail4e2f1.ts.net.",
      OS: "macOS",
      TailscaleIPs: ["100.64.0.3"],
      Online: false,
      LastSeen: "2026-11-20T18:04:11Z",
    },
    "nodekey:03": {
      HostName: "evil\u001b[2Jname",
      DNSName: "",
      TailscaleIPs: ["100.64.0.4; rm -rf /", "100.64.0.5"],
      Online: true,
    },
    "nodekey:04": { HostName: "no-address", TailscaleIPs: ["not-an-ip"], Online: true },
  },
});

Deno.test("tailscale status --json: peers with checked addresses (IPv4 first), names stripped of control characters", () => {
  const s = parseTailscaleStatus(STATUS);
  assert.equal(s.backendState, "Running");
  assert.equal(s.self?.hostName, "docker-host");
  assert.deepEqual(s.peers.map((p) => [peerName(p), p.ips, p.online]), [
    ["nas", ["100.64.0.2", "fd7a:115c:a1e0::2"], true],
    ["laptop", ["100.64.0.3"], false],
    ["evil[2Jname", ["100.64.0.5"], true],
  ]);
  assert.equal(s.peers[0].lastSeen, undefined, "the zero time is no time");
  assert.equal(s.peers[1].lastSeen, "2026-11-20T18:04:11Z");
  for (const bad of ["not json", "[]", "null"]) {
    assert.throws(() => parseTailscaleStatus(bad), (e) => isStowageError(e));
  }
});

Deno.test("peers sort online first by latency (unmeasured after measured), offline last", () => {
  const p = (name: string, online: boolean): TailscalePeer => ({
    hostName: name,
    dnsName: "",
    ips: ["100.64.0.9"],
    online,
    os: "linux",
  });
  const [a, b, c, d] = [p("a", true), p("b", true), p("c", false), p("d", true)];
  const sorted = sortPeers([c, a, d, b], new Map([[a, 30], [b, 5], [d, undefined]]));
  assert.deepEqual(sorted.map(peerName), ["b", "a", "d", "c"]);
});

Deno.test("a peer is found by MagicDNS label or name, host name or address; offline, unknown and ambiguous names are errors", () => {
  const s = parseTailscaleStatus(STATUS);
  for (const n of ["nas", "NAS", "nas.tail4e2f1.ts.net.", "nas-box", "100.64.0.2"]) {
    assert.equal(peerName(findPeer(s, n)), "nas", n);
  }
  assert.throws(() => findPeer(s, "laptop"), /offline \(last seen 2026-11-20T18:04:11Z\)/);
  assert.throws(() => findPeer(s, "printer"), /no such peer \(peers: evil\[2Jname, laptop, nas\)/);
});

Deno.test("the SFTP location is on the peer's Tailscale address; paths and users that could reach a shell are refused", () => {
  const nas = findPeer(parseTailscaleStatus(STATUS), "nas");
  assert.equal(
    peerLocation(nas, { user: "root", port: 22, path: "/srv/restic" }),
    "sftp:root@100.64.0.2:/srv/restic",
  );
  assert.equal(
    peerLocation({ ...nas, ips: ["fd7a:115c:a1e0::2"] }, { user: "b", port: 2222, path: "/r" }),
    "sftp://b@[fd7a:115c:a1e0::2]:2222//r",
  );
  assert.equal(checkPeerPath("/srv/restic/stowage/"), "/srv/restic/stowage");
  for (const bad of ["srv/restic", "/srv/$(reboot)", "/srv/a b", "/srv/../etc", "/srv/'x'"]) {
    assert.throws(() => checkPeerPath(bad), /must be an absolute path/, bad);
  }
  assert.equal(checkSshUser("backup"), "backup");
  assert.throws(() => checkSshUser("-oProxyCommand=x"), /not a user name/);
});
