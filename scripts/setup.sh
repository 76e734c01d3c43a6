#!/usr/bin/env bash
# The first command for a newcomer on a fresh Debian/Ubuntu machine (root, Node/npm present):
# installs what is missing (Deno 2.9.6, restic, docker-compose, ...; starts a Docker Engine when
# none answers, installing docker.io only when no engine is installed), then runs the demo: a
# small compose stack backed up into the default local repository and listed.
# From a checkout it also installs what the test suite uses (sshd, socat, attr, rclone, ...), so the
# README's second command, `deno task test`, passes right after it. Safe to run twice.
#
#   bash scripts/setup.sh            # install + demo
#   bash scripts/setup.sh --no-demo  # install only (what .ci/run does)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
demo=1
for arg in "$@"; do
  case "$arg" in
    --no-demo) demo=0 ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
      exit 0
      ;;
    *)
      printf 'setup: unknown argument %s\nhint: use --no-demo or --help\n' "$arg" >&2
      exit 2
      ;;
  esac
done

bash "$here/install-deps.sh" --tests
# npm may have put deno in a directory this shell has not hashed yet.
hash -r
[ "$demo" = 1 ] && bash "$here/demo.sh"
exit 0
