/**
 * Local restic repositories for tests, with a key that restic opens in about a millisecond.
 *
 * Why: every restic process derives the repository's master key from the password with scrypt, at
 * the cost `restic init` calibrated on this machine (here N=2^15, r=8, p=5: about 0.6 s of CPU). A
 * run of the suite starts restic thousands of times, and that one derivation was most of the CPU
 * the suite spent (measured: 45 of 57 s for tests/backup_test.ts). restic lowers the cost the same
 * way in its own tests; restic 0.14 has no flag for it, so this file writes a new repository's
 * `config` and key file itself, in restic's documented format (restic's design document, "Keys,
 * Encryption and MAC"), with N=2^10, r=8, p=1. Everything after that is real restic: it checks
 * the key's MAC with the derived key on every open and writes every other file of the repository.
 *
 * What the product does is unchanged: `stowage` still runs `restic init` for a repository that does
 * not exist, and tests that are about creating repositories (tests/support/restic_repo_test.ts
 * checks this file against real restic in both directions) run it.
 *
 * The format, in short: a key file is JSON {created, username, hostname, kdf: "scrypt", N, r, p,
 * salt, data}; scrypt(password, salt) gives 64 bytes = AES-256 key || MAC key (k || r); data is the
 * master key JSON {mac: {k, r}, encrypt} sealed with it. Sealing is nonce (16 random bytes) ||
 * AES-256-CTR(ciphertext, iv = nonce) || Poly1305-AES(ciphertext) where the Poly1305 key is r and
 * s = AES-128_k(nonce). `config` is {version, id, chunker_polynomial} sealed with the master key,
 * uncompressed. A key file is named by the SHA-256 of its bytes.
 */
import { Buffer } from "node:buffer";
import { createCipheriv, createHash, randomBytes, scryptSync } from "node:crypto";
import { join } from "node:path";

/** The scrypt cost of a test key: cheap on purpose (see the top of this file). */
export const TEST_KDF = { N: 1024, r: 8, p: 1 } as const;

/**
 * An irreducible polynomial of degree 53 over GF(2), as `restic init` picks one (this one came
 * from a real `restic init`). restic cuts files into chunks with it; a repository keeps one for
 * life. Test repositories share it, so `restic copy` between two of them deduplicates exactly as
 * between two repositories of one `restic init --copy-chunker-params`.
 */
const CHUNKER_POLYNOMIAL = "38f3dd9d595c6b";

interface MasterKey {
  encrypt: Uint8Array;
  macK: Uint8Array;
  macR: Uint8Array;
}

/**
 * Creates an empty restic repository (format version 2) at `dir` that opens with `password`.
 * `dir` must not exist or be empty.
 */
export async function createTestRepository(dir: string, password: string): Promise<void> {
  // Folders as `restic init` makes them (0700): a repository is private whatever the umask.
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  for await (const _ of Deno.readDir(dir)) {
    throw new Error(`createTestRepository: ${dir} is not empty`);
  }
  const master: MasterKey = {
    encrypt: randomBytes(32),
    macK: randomBytes(16),
    macR: randomBytes(16),
  };
  const config = JSON.stringify({
    version: 2,
    id: randomBytes(32).toString("hex"),
    chunker_polynomial: CHUNKER_POLYNOMIAL,
  });
  for (const sub of ["keys", "index", "snapshots", "locks", "data"]) {
    await Deno.mkdir(join(dir, sub), { mode: 0o700 });
  }
  for (let i = 0; i < 256; i++) {
    await Deno.mkdir(join(dir, "data", i.toString(16).padStart(2, "0")), { mode: 0o700 });
  }
  await writeKey(dir, master, password);
  await Deno.writeFile(
    join(dir, "config"),
    seal(master, new TextEncoder().encode(config)),
    { mode: 0o400 },
  );
}

/**
 * Replaces the one key of the repository that real restic created at `dir` (a local directory, or
 * the directory a test server serves it from) by a key for the same password and master key at
 * the cost of TEST_KDF. For tests that let restic or stowage create the repository and then run
 * restic many times against it.
 */
export async function cheapenKey(dir: string, password: string): Promise<void> {
  const names = [];
  for await (const e of Deno.readDir(join(dir, "keys"))) names.push(e.name);
  if (names.length !== 1) {
    throw new Error(`cheapenKey: ${dir}/keys holds ${names.length} keys, not 1`);
  }
  const old = join(dir, "keys", names[0]);
  const master = openKeyFile(await Deno.readTextFile(old), password);
  // Served over SFTP as another user: the new key belongs to whoever owned the old one.
  const { uid, gid } = await Deno.stat(old);
  const name = await writeKey(dir, master, password);
  if (uid !== null && gid !== null) await Deno.chown(join(dir, "keys", name), uid, gid);
  await Deno.remove(old);
}

/** Writes a key file for `master` under `password` into `dir`/keys; returns its name. */
async function writeKey(dir: string, master: MasterKey, password: string): Promise<string> {
  const key = new TextEncoder().encode(JSON.stringify(sealKeyFile(master, password)));
  const name = createHash("sha256").update(key).digest("hex");
  await Deno.writeFile(join(dir, "keys", name), key, { mode: 0o400 });
  return name;
}

/** A restic key file's JSON, for `master` under `password`, at the cost of TEST_KDF. */
function sealKeyFile(master: MasterKey, password: string): Record<string, unknown> {
  const salt = randomBytes(64);
  const derived = derive(password, salt, TEST_KDF);
  const plain = JSON.stringify({
    mac: { k: b64(master.macK), r: b64(master.macR) },
    encrypt: b64(master.encrypt),
  });
  return {
    created: new Date().toISOString(),
    username: "stowage-test",
    hostname: "stowage-test",
    kdf: "scrypt",
    N: TEST_KDF.N,
    r: TEST_KDF.r,
    p: TEST_KDF.p,
    salt: b64(salt),
    data: b64(seal(derived, new TextEncoder().encode(plain))),
  };
}

/**
 * The master key in a restic key file (`keys/<id>`), opened with `password`: the inverse of what
 * createTestRepository writes, used by its test to read keys that `restic init` wrote. Throws when
 * the MAC does not match (wrong password or a damaged file).
 */
export function openKeyFile(text: string, password: string): MasterKey {
  const k = JSON.parse(text);
  if (k.kdf !== "scrypt") throw new Error(`key file: unknown kdf ${k.kdf}`);
  const derived = derive(password, fromB64(k.salt), { N: k.N, r: k.r, p: k.p });
  const plain = JSON.parse(new TextDecoder().decode(open(derived, fromB64(k.data))));
  return {
    encrypt: fromB64(plain.encrypt),
    macK: fromB64(plain.mac.k),
    macR: fromB64(plain.mac.r),
  };
}

/**
 * Writes a lock file into the local repository at `dir`, as a restic process would (a JSON lock
 * sealed with the master key, named by the SHA-256 of the file). For tests about locks that need a
 * lock of a given kind and holder, which a killed restic leaves only by chance of timing.
 */
export async function writeLock(
  dir: string,
  password: string,
  lock: { exclusive: boolean; hostname: string; pid: number },
): Promise<void> {
  const keys = [];
  for await (const e of Deno.readDir(join(dir, "keys"))) keys.push(e.name);
  const master = openKeyFile(await Deno.readTextFile(join(dir, "keys", keys[0])), password);
  const json = { time: new Date().toISOString(), username: "root", uid: 0, gid: 0, ...lock };
  const sealed = seal(master, new TextEncoder().encode(JSON.stringify(json)));
  const name = createHash("sha256").update(sealed).digest("hex");
  await Deno.writeFile(join(dir, "locks", name), sealed, { mode: 0o400 });
}

/** The JSON in a repository's `config` file, opened with its master key. */
export function openConfig(bytes: Uint8Array, master: MasterKey): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(open(master, bytes)));
}

function derive(
  password: string,
  salt: Uint8Array,
  cost: { N: number; r: number; p: number },
): MasterKey {
  const out = scryptSync(password, salt, 64, {
    N: cost.N,
    r: cost.r,
    p: cost.p,
    maxmem: 256 * cost.N * cost.r + (64 << 20),
  });
  return {
    encrypt: out.subarray(0, 32),
    macK: out.subarray(32, 48),
    macR: out.subarray(48, 64),
  };
}

function seal(key: MasterKey, plain: Uint8Array): Uint8Array {
  const nonce = randomBytes(16);
  const c = createCipheriv("aes-256-ctr", key.encrypt, nonce);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([nonce, ct, mac(key, nonce, ct)]);
}

function open(key: MasterKey, sealed: Uint8Array): Uint8Array {
  if (sealed.length < 32) throw new Error("sealed data is too short");
  const nonce = sealed.subarray(0, 16);
  const ct = sealed.subarray(16, sealed.length - 16);
  const tag = sealed.subarray(sealed.length - 16);
  if (!Buffer.from(mac(key, nonce, ct)).equals(Buffer.from(tag))) {
    throw new Error("ciphertext verification failed (wrong password or damaged data)");
  }
  const d = createCipheriv("aes-256-ctr", key.encrypt, nonce);
  return Buffer.concat([d.update(ct), d.final()]);
}

/** Poly1305-AES: Poly1305 with key r over `msg`, plus s = AES-128 of the nonce under k. */
function mac(key: MasterKey, nonce: Uint8Array, msg: Uint8Array): Uint8Array {
  const aes = createCipheriv("aes-128-ecb", key.macK, null);
  aes.setAutoPadding(false);
  const s = Buffer.concat([aes.update(nonce), aes.final()]);
  return poly1305(key.macR, s, msg);
}

const P1305 = (1n << 130n) - 5n;

/** Poly1305 (RFC 8439 section 2.5) with r clamped as the RFC says. */
function poly1305(r16: Uint8Array, s16: Uint8Array, msg: Uint8Array): Uint8Array {
  const r = le(r16) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  let acc = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const block = msg.subarray(i, Math.min(i + 16, msg.length));
    acc = ((acc + le(block) + (1n << BigInt(8 * block.length))) * r) % P1305;
  }
  acc = (acc + le(s16)) & ((1n << 128n) - 1n);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    out[i] = Number(acc & 0xffn);
    acc >>= 8n;
  }
  return out;
}

function le(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

function fromB64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}
