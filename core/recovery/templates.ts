/**
 * README.txt and recover.sh, rendered from the manifest. recover.sh is POSIX sh (dash, busybox
 * ash, bash), needs only coreutils-level tools, and is safe to run twice: a file already in place
 * is left alone, a different one is kept aside before it is replaced.
 */
import type { BundleManifest, ManifestFile } from "./manifest.ts";
import { opensslDecryptCommand, shellQuote, shellQuoteIfNeeded } from "./format.ts";
import { bundleFileName } from "./names.ts";

export interface TemplateInput {
  manifest: Omit<BundleManifest, "files">;
  /** Payload files (everything under files/), with their hashes. */
  payload: ManifestFile[];
}

const DOCKER_HINT =
  "install Docker Engine (Debian/Ubuntu: apt-get install docker.io; others: https://docs.docker.com/engine/install/)";
const RESTIC_HINT =
  "install restic (Debian/Ubuntu: apt-get install restic; others: https://restic.readthedocs.io/en/stable/020_installing.html)";
const STOWAGE_HINT =
  "install stowage (see its README: the release binary, or a checkout run with `deno task stowage`)";

/** Text for a `#` comment line: a line break in a value would end the comment and start code. */
// deno-lint-ignore no-control-regex
const comment = (v: string) => v.replace(/[\u0000-\u001f\u007f]/g, "?");

/**
 * Every value from the manifest reaches the script single-quoted (`shellQuote`) or inside a
 * comment with control characters replaced; text between double quotes is fixed text only, so
 * no value can be read as code (`$(...)`, backticks, quotes, line breaks).
 */
export function renderRecoverScript({ manifest: m, payload }: TemplateInput): string {
  const q = shellQuote;
  const r = m.repository;
  const installs = payload.filter((f) => f.install_path);
  const sums = payload.map((f) => `${f.sha256}  ${f.name}`).join("\n");
  const resticArgs = r.restic_args.map(q).join(" ");
  const units = m.units.map((u) => u.name);
  return `#!/bin/sh
# Values below are single-quoted on purpose: \`...\`, $(...) and quotes in them are text, not code.
# shellcheck disable=SC2016,SC2089,SC2090
# stowage disaster-recovery script: bundle ${comment(m.bundle_id)}, made on ${comment(m.host)} at ${
    comment(m.created)
  }
# by stowage ${comment(m.stowage_version)}.
#
# 1. checks for docker, restic and stowage; 2. checks every file of the bundle against its SHA-256;
# 3. installs the config, the repository password, backend credentials and SSH files at the paths
# they had on ${
    comment(m.host)
  } (files 0600, new directories 0700); 4. opens the repository with restic
# and lists the units it holds; then prints the restore commands.
#
# Safe to run twice. A file already in place is left alone; a different file at a target path is
# kept as PATH.before-recovery-${
    comment(m.bundle_id)
  } before it is replaced. Exit status 0 means ready to
# restore; 1 means something above needs attention (fix it and run this script again).
# RESTIC and STOWAGE in the environment override the programs used.

set -u
umask 077

HERE=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd) || exit 1
BUNDLE_ID=${q(m.bundle_id)}
RESTIC=\${RESTIC:-${q(r.restic_binary)}}
STOWAGE=\${STOWAGE:-stowage}
LOCATION=${q(r.location)}
PASSWORD_FILE=${q(r.password_file)}
NEXT_PREFIX=${q(m.stowage_command)}
OLD_HOST=${q(m.host)}
problems=0

say() { printf '%s\\n' "$*"; }
warn() { printf 'recover.sh: %s\\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

say "stowage recovery bundle $BUNDLE_ID (made on $OLD_HOST)"
say ""
say "1/4 Tools"
if have docker; then say "  ok         docker"; else say ${
    q(`  missing    docker: ${DOCKER_HINT}`)
  }; problems=1; fi
if have "$RESTIC"; then say "  ok         restic"; else say ${
    q(`  missing    restic: ${RESTIC_HINT}`)
  }; problems=1; fi
if have "$STOWAGE"; then say "  ok         stowage"; else say ${
    q(`  missing    stowage: ${STOWAGE_HINT}`)
  }; problems=1; fi

say ""
say "2/4 Bundle files"
${
    sums
      ? `check_sums() {
  (cd "$HERE" && sha256sum -c - >/dev/null 2>&1) <<'STOWAGE_SUMS'
${sums}
STOWAGE_SUMS
}`
      : "check_sums() { return 0; }"
  }
if ! have sha256sum; then
  say "  skipped    no sha256sum here (stowage disaster-recovery open checks the same hashes)"
elif check_sums; then
  say "  ok         every file matches its SHA-256 in manifest.json"
else
  warn "a file in $HERE does not match its SHA-256 in manifest.json: the bundle is damaged; nothing was installed"
  exit 1
fi

say ""
say "3/4 Installing files"
install_file() {
  src="$HERE/$1"
  dest=$2
  dir=$(dirname -- "$dest")
  if [ ! -d "$dir" ]; then
    mkdir -p -- "$dir" || { warn "cannot create directory $dir"; return 1; }
    say "  created    $dir/ (0700)"
  fi
  if [ -f "$dest" ] && [ ! -L "$dest" ] && cmp -s -- "$src" "$dest"; then
    chmod 600 -- "$dest" || return 1
    say "  in place   $dest"
    return 0
  fi
  if [ -e "$dest" ] || [ -L "$dest" ]; then
    old="$dest.before-recovery-$BUNDLE_ID"
    if [ -e "$old" ] || [ -L "$old" ]; then old="$old.$$"; fi
    mv -- "$dest" "$old" || { warn "cannot move $dest aside"; return 1; }
    say "  kept       $old (what was at $dest)"
  fi
  tmp="$dest.recover-tmp-$$"
  if cp -- "$src" "$tmp" && chmod 600 -- "$tmp" && mv -f -- "$tmp" "$dest"; then
    say "  installed  $dest (0600)"
  else
    rm -f -- "$tmp"
    warn "cannot install $dest"
    return 1
  fi
}
${installs.map((f) => `install_file ${q(f.name)} ${q(f.install_path!)} || problems=1`).join("\n")}

say ""
say "4/4 Repository"
list_snapshots() {
  if [ -f "$HERE/files/restic.env" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in '' | '#'*) continue ;; esac
      # shellcheck disable=SC2163 # each line is NAME=VALUE, exported as such
      export "$line"
    done <"$HERE/files/restic.env"
  fi
  # The location goes by environment: a rest: URL may carry credentials, and argv is public.
  RESTIC_REPOSITORY=$LOCATION
  export RESTIC_REPOSITORY
  "$RESTIC" --password-file "$PASSWORD_FILE" --no-cache --no-lock ${resticArgs}${
    resticArgs ? " " : ""
  }snapshots --tag stowage --json
}
units=""
if ! have "$RESTIC"; then
  say "  skipped    restic is missing"
elif json=$(list_snapshots); then
  units=$(printf '%s\\n' "$json" | tr ',' '\\n' | sed -n 's/^.*"unit=\\([^"]*\\)".*$/\\1/p' | sed -e 's/%2C/,/g' -e 's/%25/%/g' | sort -u)
  if [ -n "$units" ]; then
    say "  ok         the repository opens; units with backups:"
    printf '%s\\n' "$units" | while IFS= read -r u; do say "               $u"; done
  else
    say "  ok         the repository opens, but holds no stowage backups yet"
  fi
else
  warn "restic could not open the repository $LOCATION (its message is above)"
  say "  failed     check that the repository's server is reachable from here and that the"
  say "             credentials are still valid; then run this script again"
  problems=1
fi

say ""
if [ "$problems" -ne 0 ]; then
  say "Not ready yet: fix what is marked above and run this script again (it is safe to run twice)."
  exit 1
fi
say "Ready. Restore each unit, for example:"
if [ -z "$units" ]; then units=${q(units.join("\n"))}; fi
if [ -z "$units" ]; then units=NAME; fi
printf '%s\\n' "$units" | while IFS= read -r u; do say "  $NEXT_PREFIX restore --unit $u --latest --start --yes"; done
exit 0
`;
}

export function renderReadme(
  { manifest: m, payload, root }: TemplateInput & { root: string },
): string {
  const installs = payload.filter((f) => f.install_path);
  const unitLines = m.units.length
    ? m.units.map((u) =>
      `    ${u.name.padEnd(24)} latest backup ${
        u.latest_backup_id ?? "?"
      } (${u.snapshots} snapshots)`
    )
    : [`    (none listed${m.units_error ? `: ${m.units_error}` : ""})`];
  const file = bundleFileName(m.bundle_id);
  return `stowage disaster-recovery bundle ${m.bundle_id}
${"=".repeat(33 + m.bundle_id.length)}

Made by stowage ${m.stowage_version} on host ${m.host} at ${m.created}.

WHAT THIS IS
  What a new server needs to reach this host's backups again: the stowage config, the restic
  repository's location and password, backend credentials and SSH files. The backed-up data
  itself stays in the repository:
    ${m.repository.location}${
    m.copies?.length
      ? `\n  Copies of it (config copies:; if the repository above is lost, restore from one with\n  \`${m.stowage_command} restore --unit NAME --latest --from COPY\`):\n${
        m.copies.map((c) => `    ${c.name}: ${c.location}`).join("\n")
      }`
      : ""
  }
  Units in the repository when this bundle was made:
${unitLines.join("\n")}

  These files are secrets. Keep them on an encrypted disk, delete them when you are done, and
  never store the bundle password next to the bundle.

HOW IT WAS OPENED
  ${opensslDecryptCommand(file)}
  (openssl asks for the bundle password; any openssl 1.1.1 or later works.)
  Without openssl: stowage disaster-recovery open ${shellQuoteIfNeeded(file)} [--install]

ON THE NEW SERVER
  1. Install Docker, restic and stowage.
  2. Run:  sh ${root}/recover.sh
     It checks the tools and every file's SHA-256, installs these files (0600, new directories
     0700), opens the repository and lists its units. Safe to run twice.
${installs.map((f) => `       ${f.name.padEnd(26)} -> ${f.install_path}`).join("\n")}
  3. Restore each unit:
${m.next_commands.map((c) => `       ${c}`).join("\n")}
${
    m.problems.length
      ? `\nPROBLEMS WHEN THIS BUNDLE WAS MADE\n${m.problems.map((p) => `  - ${p}`).join("\n")}\n`
      : ""
  }
FILES
  manifest.json              versions, host, units, install paths and the SHA-256 of every other file
  recover.sh                 the steps above as a POSIX shell script
  README.txt                 this file
${payload.map((f) => `  ${f.name.padEnd(26)} ${describe(f)}`).join("\n")}
`;
}

function describe(f: ManifestFile): string {
  switch (f.role) {
    case "config":
      return "stowage's config";
    case "repository-password":
      return "the restic repository password";
    case "env-file":
      return "backend credentials file (repository.env_file)";
    case "restic-env":
      return "backend variables for restic, used by recover.sh only (not installed)";
    case "ssh-key":
      return "SSH private key for the repository server";
    case "known-hosts":
      return "SSH known_hosts for the repository server";
    case "copy-file":
      return "a file a copy repository needs (config copies:; docs/copies.md)";
    default:
      return f.role;
  }
}
