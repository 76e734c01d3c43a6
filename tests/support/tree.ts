/**
 * Describes a directory tree with every attribute a restore must keep, and compares two
 * descriptions: type, owner, group, mode (with setuid/setgid/sticky), link count and hard-link
 * structure, size, content (sha256), mtime (nanoseconds), symlink targets (dangling ones too),
 * FIFOs, xattrs (getfattr) and POSIX ACLs (getfacl). Names are raw bytes: ones that are not
 * valid UTF-8 are shown with \xNN escapes, so nothing is lost or merged.
 *
 * Uses GNU find, sha256sum, getfattr and getfacl (Debian: findutils, coreutils, attr, acl).
 */

export interface EntryInfo {
  type: string;
  uid: string;
  gid: string;
  mode: string;
  nlink: string;
  size: string;
  mtime: string;
  target: string;
  sha256?: string;
  /** Other paths of the tree sharing this entry's inode (hard links), sorted. */
  links: string[];
  xattrs: string[];
  acl: string[];
}

export type TreeDescription = Map<string, EntryInfo>;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A name as text: UTF-8 when valid, else every byte >= 0x80 as \xNN. */
export function nameOf(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return [...bytes].map((
      b,
    ) => (b >= 0x80 || b < 0x20 ? `\\x${b.toString(16).padStart(2, "0")}` : String.fromCharCode(b)))
      .join("");
  }
}

function splitNul(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      out.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < bytes.length) out.push(bytes.subarray(start));
  return out;
}

/**
 * Runs `script` in `sh` with `root` as $1. `tool`: a program the script needs; when it is not on
 * PATH the description fails naming it, so a missing getfattr/getfacl can never make two trees
 * look equal by dropping their xattrs/ACLs.
 */
async function run(script: string, root: string, tool?: string): Promise<Uint8Array> {
  if (tool) {
    const which = await new Deno.Command("sh", {
      args: ["-c", 'command -v "$1"', "sh", tool],
      stdout: "null",
      stderr: "null",
    }).output();
    if (!which.success) {
      throw new Error(
        `${tool} is not installed: the tree description needs it (Debian: apt-get install attr acl; bash scripts/setup.sh installs both)`,
      );
    }
  }
  const out = await new Deno.Command("sh", {
    args: ["-c", script, "sh", root],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `tree description failed (${script}): ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return out.stdout;
}

/** getfattr/getfacl print blocks headed `# file: NAME` (NAME octal-escaped); keyed by that name. */
function blocks(text: string, skipHeaders: RegExp): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const block of text.split(/\n\n+/)) {
    const lines = block.split("\n").filter(Boolean);
    const head = lines.findIndex((l) => l.startsWith("# file: "));
    if (head < 0) continue;
    let name = lines[head].slice("# file: ".length);
    name = name === "." ? "" : name.replace(/^\.\//, "");
    out.set(unescapeOctal(name), lines.filter((l, i) => i !== head && !skipHeaders.test(l)).sort());
  }
  return out;
}

/** getfattr/getfacl write unusual bytes as \ooo: turn them back into bytes, then into our names. */
function unescapeOctal(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else bytes.push(...new TextEncoder().encode(s[i]));
  }
  return nameOf(new Uint8Array(bytes));
}

export async function describeTree(root: string): Promise<TreeDescription> {
  const fields = 10;
  const raw = splitNul(
    await run(`find "$1" -printf '%P\\0%y\\0%U\\0%G\\0%m\\0%n\\0%i\\0%T@\\0%s\\0%l\\0'`, root),
  );
  const tree: TreeDescription = new Map();
  const byInode = new Map<string, string[]>();
  for (let i = 0; i + fields <= raw.length; i += fields) {
    const f = raw.slice(i, i + fields).map(nameOf);
    const path = nameOf(raw[i]);
    tree.set(path, {
      type: f[1],
      uid: f[2],
      gid: f[3],
      mode: f[4],
      nlink: f[1] === "d" ? "-" : f[5], // a directory's count follows its subdirectories, compared anyway
      size: f[1] === "d" ? "-" : f[8],
      mtime: f[7],
      target: f[9],
      links: [],
      xattrs: [],
      acl: [],
    });
    if (f[1] !== "d") byInode.set(f[6], [...(byInode.get(f[6]) ?? []), path]);
  }
  for (const paths of byInode.values()) {
    if (paths.length < 2) continue;
    for (const p of paths) tree.get(p)!.links = paths.filter((x) => x !== p).sort();
  }
  const sums = splitNul(
    await run(`cd "$1" && find . -type f -print0 | xargs -0 -r sha256sum -z`, root),
  );
  for (const line of sums) {
    const hash = nameOf(line.subarray(0, 64));
    const path = nameOf(line.subarray(66)).replace(/^\.\//, "");
    const e = tree.get(path);
    if (e) e.sha256 = hash;
  }
  const dec = new TextDecoder();
  const xattrs = blocks(
    dec.decode(await run(`cd "$1" && getfattr -R -P -h -d -m - -e hex .`, root, "getfattr")),
    /^$/,
  );
  for (const [p, lines] of xattrs) if (tree.has(p)) tree.get(p)!.xattrs = lines;
  const acls = blocks(
    dec.decode(await run(`cd "$1" && getfacl -R -P -n .`, root, "getfacl")),
    /^# (owner|group):/,
  );
  for (const [p, lines] of acls) if (tree.has(p)) tree.get(p)!.acl = lines;
  return tree;
}

/**
 * Every difference between two descriptions, one line each; empty when the trees are equal.
 * `mtimeSeconds` compares mtimes to the second only (tar archives from the Engine's archive API
 * carry whole seconds).
 */
export function diffTrees(
  a: TreeDescription,
  b: TreeDescription,
  labels = ["before", "after"],
  opts: { mtimeSeconds?: boolean } = {},
): string[] {
  const out: string[] = [];
  const show = (p: string) => (p === "" ? "(root)" : p);
  for (const [p, ea] of a) {
    const eb = b.get(p);
    if (!eb) {
      out.push(`${show(p)}: only in ${labels[0]}`);
      continue;
    }
    for (const k of Object.keys(ea) as (keyof EntryInfo)[]) {
      const cut = (
        v: unknown,
      ) => (k === "mtime" && opts.mtimeSeconds ? String(v).split(".")[0] : v);
      const va = JSON.stringify(cut(ea[k]));
      const vb = JSON.stringify(cut(eb[k]));
      if (va !== vb) out.push(`${show(p)}: ${k} ${labels[0]} ${va}, ${labels[1]} ${vb}`);
    }
  }
  for (const p of b.keys()) if (!a.has(p)) out.push(`${show(p)}: only in ${labels[1]}`);
  return out;
}

export async function compareTrees(a: string, b: string): Promise<string[]> {
  return diffTrees(await describeTree(a), await describeTree(b), [a, b]);
}

/**
 * Fills `root` (as root) with everything a restore must keep: several owners, setuid/setgid/
 * sticky modes, xattrs, POSIX ACLs (also default ACLs), hard links, relative/absolute/dangling
 * symlinks, a FIFO, empty folders and files, names that are not UTF-8, set mtimes, a large file
 * and thousands of small files. `bigMiB` and `smallFiles` scale it.
 */
export async function buildFidelityTree(
  root: string,
  opts: { bigMiB?: number; smallFiles?: number } = {},
) {
  const script = `set -e
cd "$1"
mkdir -p owners modes links fifo empty/inner/deeper many big xattr-dir acl-dir
for u in 0 1000 1001 65534; do echo "u$u" > owners/f$u; chown $u:$((u + 5)) owners/f$u; done
mkdir owners/d1002 && chown 1002:1003 owners/d1002 && chown 1004 owners/f0
echo s > modes/setuid && chmod 4755 modes/setuid
echo g > modes/setgid && chmod 2750 modes/setgid
mkdir modes/sticky && chmod 1777 modes/sticky
mkdir modes/setgid-dir && chmod 2775 modes/setgid-dir
echo r > modes/ro && chmod 0400 modes/ro
echo x > modes/odd && chmod 0751 modes/odd
echo x > xattr-file
setfattr -n user.comment -v "hello world" xattr-file
setfattr -n user.binary -v 0x00ff10 xattr-file
setfattr -n user.dir -v yes xattr-dir
echo a > acl-file
setfacl -m u:1000:rw,g:1001:r,m::rw acl-file
setfacl -m u:1000:rwx acl-dir
setfacl -d -m g:1001:rx acl-dir
echo h > links/a && ln links/a links/b && ln links/a owners/hard-to-a
ln -s ../links/a links/relative && ln -s /etc/hostname links/absolute && ln -s does-not-exist links/dangling
ln -s links links-dir
mkfifo fifo/pipe && chmod 0620 fifo/pipe
printf 'latin1' > "$(printf 'caf\\351')"
mkdir "$(printf 'dir\\377')" && echo inside > "$(printf 'dir\\377')/file"
: > empty-file
head -c $(( $2 * 1048576 )) /dev/urandom > big/large.bin
i=0; while [ $i -lt $3 ]; do echo "small $i" > many/f$i; i=$((i + 1)); done
touch -d '1999-12-31 23:59:59.5' owners/f1000
touch -h -d '2001-02-03 04:05:06.123456789' links/dangling
touch -d '2010-01-01 00:00:00' empty/inner/deeper empty/inner
`;
  const out = await new Deno.Command("bash", {
    args: ["-c", script, "bash", root, String(opts.bigMiB ?? 50), String(opts.smallFiles ?? 3000)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`building the fidelity tree failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}
