#!/usr/bin/env bash
# Installs what stowage needs on a Debian or Ubuntu machine, as root, and makes sure a Docker
# Engine answers. Safe to run again: it only installs what is missing.
#
#   bash scripts/install-deps.sh           # stowage itself (what scripts/setup.sh runs)
#   bash scripts/install-deps.sh --tests   # plus what the test suite uses (what .ci/run runs)
#
# - Deno, pinned at DENO_VERSION, through npm (`npm install -g deno@...`) when `deno` is absent
#   or another version.
# - restic, docker-compose, tar, openssl, busybox-static (the demo image), acl through apt.
# - With --tests: npm's s3rver and azurite (pinned) into /opt/stowage-test/, the S3 and Azure
#   servers the tests use.
# - docker.io ONLY when no Docker Engine is installed: an engine from docker.com (docker-ce) is
#   never replaced. Packages go in with --no-install-recommends because Debian's docker-compose
#   recommends docker.io.
# - Starts dockerd in the background (log: $DOCKERD_LOG) when nothing answers `docker version`,
#   and waits up to 60 s for it.
# - Caches Deno's dependencies (`deno install`, `deno cache main.ts`).
set -euo pipefail

DENO_VERSION="2.9.6"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/stowage-dockerd.log}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WITH_TESTS=0

say() { printf '==> %s\n' "$*"; }
die() {
  printf 'install-deps: %s\n' "$1" >&2
  [ $# -gt 1 ] && printf 'hint: %s\n' "$2" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

for arg in "$@"; do
  case "$arg" in
    --tests) WITH_TESTS=1 ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
      exit 0
      ;;
    *) die "unknown argument '$arg'" "Use --tests or --help." ;;
  esac
done

[ "$(id -u)" = 0 ] || die "this script installs packages and needs root" "Run it with sudo."
if [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  . /etc/os-release
fi
case " ${ID:-} ${ID_LIKE:-} " in
  *" debian "* | *" ubuntu "*) ;;
  *)
    die "this script knows only Debian and Ubuntu (found '${PRETTY_NAME:-unknown}')" \
      "Install Deno ${DENO_VERSION}, restic >= 0.14, docker-compose (or docker compose v2), tar, openssl and a Docker Engine yourself; then run \`deno task stowage admin system show-deps\`."
    ;;
esac

# ---------------------------------------------------------------------------------------------
# apt packages

engine_installed() {
  have dockerd || [ -x /usr/sbin/dockerd ] || [ -x /usr/bin/dockerd ] || docker version >/dev/null 2>&1
}
compose_installed() {
  have docker-compose || docker compose version >/dev/null 2>&1
}

pkgs=()
have restic || pkgs+=(restic)
compose_installed || pkgs+=(docker-compose)
have tar || pkgs+=(tar)
have openssl || pkgs+=(openssl)
[ -x /bin/busybox ] || pkgs+=(busybox-static)
have setfacl || pkgs+=(acl)
have ssh || pkgs+=(openssh-client)
have curl || pkgs+=(curl ca-certificates)
if [ "$WITH_TESTS" = 1 ]; then
  [ -x /usr/sbin/sshd ] || pkgs+=(openssh-server)
  have ssh-keygen || pkgs+=(openssh-client)
  have socat || pkgs+=(socat)
  have getfattr || pkgs+=(attr)
  have python3 || pkgs+=(python3)
  # Debian's aiosmtpd: the real SMTP server tests/notify_test.ts mails to (via /usr/bin/python3).
  /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || pkgs+=(python3-aiosmtpd)
  have systemd-analyze || pkgs+=(systemd)
  have pgrep || pkgs+=(procps)
  have script || pkgs+=(bsdutils)
  have setpriv || pkgs+=(util-linux)
  have git || pkgs+=(git)
  have rclone || pkgs+=(rclone) # `rclone serve restic`: the real REST server the tests use
  have node || pkgs+=(nodejs)   # runs s3rver, the real S3 server the tests use
  have npm || pkgs+=(npm)
  have shellcheck || pkgs+=(shellcheck)
  have mkfs.btrfs || pkgs+=(btrfs-progs) # the filesystem-snapshot tests: btrfs on a loop device
  have lvcreate || pkgs+=(lvm2)          # ... and LVM on a loop device
  have mmdebstrap || pkgs+=(mmdebstrap) # builds the real PostgreSQL/MariaDB test images (tests/support/db_images.ts)
fi

install_engine=0
engine_installed || install_engine=1

if [ "${#pkgs[@]}" -gt 0 ] || [ "$install_engine" = 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  say "apt-get update"
  apt-get update -qq
  if [ "${#pkgs[@]}" -gt 0 ]; then
    # shellcheck disable=SC2207
    pkgs=($(printf '%s\n' "${pkgs[@]}" | sort -u))
    say "apt-get install ${pkgs[*]}"
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
  fi
  if [ "$install_engine" = 1 ]; then
    say "no Docker Engine found: apt-get install docker.io"
    apt-get install -y -qq docker.io
  fi
else
  say "system packages: nothing to install"
fi

# restic must be 0.14 or newer (Debian 12 ships 0.14.0).
restic_version="$(restic version | awk '{print $2}')"
case "$restic_version" in
  0.[0-9].* | 0.1[0-3].*) die "restic ${restic_version} is older than 0.14" "Install a newer restic (https://github.com/restic/restic/releases) and run this again." ;;
esac

# ---------------------------------------------------------------------------------------------
# Deno, pinned

deno_version() { deno --version 2>/dev/null | awk 'NR==1 {print $2}'; }
if [ "$(deno_version)" != "$DENO_VERSION" ]; then
  have npm || die "npm is needed to install Deno ${DENO_VERSION}" "apt-get install -y nodejs npm, then run this again."
  say "npm install -g deno@${DENO_VERSION} (found: $(deno_version || true))"
  npm install -g --no-fund --no-audit "deno@${DENO_VERSION}"
  hash -r
  [ "$(deno_version)" = "$DENO_VERSION" ] ||
    die "deno on PATH is '$(command -v deno || echo none)' version '$(deno_version)', not ${DENO_VERSION}" \
      "Put npm's global bin directory ($(npm prefix -g)/bin) first on PATH."
else
  say "deno ${DENO_VERSION}: already installed"
fi

# ---------------------------------------------------------------------------------------------
# The S3 server the tests use (npm's s3rver under Node; tests/support/s3_server.ts), pinned

S3RVER_VERSION="3.7.1"
S3RVER_HOME="${STOWAGE_TEST_S3RVER:-/opt/stowage-test/s3rver}"
if [ "$WITH_TESTS" = 1 ]; then
  s3rver_version() { node -p "require('${S3RVER_HOME}/node_modules/s3rver/package.json').version" 2>/dev/null; }
  if [ "$(s3rver_version)" != "$S3RVER_VERSION" ]; then
    say "npm install s3rver@${S3RVER_VERSION} into ${S3RVER_HOME}"
    mkdir -p "$S3RVER_HOME"
    npm install --no-fund --no-audit --prefix "$S3RVER_HOME" "s3rver@${S3RVER_VERSION}" >/dev/null
  else
    say "s3rver ${S3RVER_VERSION}: already installed"
  fi
fi

# Azure's emulator, Azurite, for the azure: tests (tests/support/azure_server.ts), pinned
AZURITE_VERSION="3.34.0"
AZURITE_HOME="${STOWAGE_TEST_AZURITE:-/opt/stowage-test/azurite}"
if [ "$WITH_TESTS" = 1 ]; then
  azurite_version() { node -p "require('${AZURITE_HOME}/node_modules/azurite/package.json').version" 2>/dev/null; }
  if [ "$(azurite_version)" != "$AZURITE_VERSION" ]; then
    say "npm install azurite@${AZURITE_VERSION} into ${AZURITE_HOME}"
    mkdir -p "$AZURITE_HOME"
    npm install --no-fund --no-audit --prefix "$AZURITE_HOME" "azurite@${AZURITE_VERSION}" >/dev/null
  else
    say "azurite ${AZURITE_VERSION}: already installed"
  fi
fi

# ---------------------------------------------------------------------------------------------
# Deno's dependencies (npm packages), cached once

say "caching Deno dependencies"
(cd "$REPO" && deno install --quiet && deno cache --quiet main.ts)

# ---------------------------------------------------------------------------------------------
# A Docker Engine that answers

if docker version >/dev/null 2>&1; then
  say "Docker Engine: answering"
else
  if [ -d /run/systemd/system ] && have systemctl; then
    say "starting docker with systemctl"
    systemctl start docker >/dev/null 2>&1 || true
  fi
  if ! docker version >/dev/null 2>&1; then
    dockerd_bin="$(command -v dockerd || echo /usr/sbin/dockerd)"
    [ -x "$dockerd_bin" ] || die "no Docker Engine answers and dockerd is not installed" "Install docker.io (or docker-ce) and run this again."
    dockerd_pid=""
    if pgrep -x dockerd >/dev/null 2>&1; then
      say "dockerd is running but not answering yet; waiting"
    else
      say "starting dockerd in the background (log: ${DOCKERD_LOG})"
      mkdir -p "$(dirname "$DOCKERD_LOG")"
      nohup setsid "$dockerd_bin" >>"$DOCKERD_LOG" 2>&1 </dev/null &
      dockerd_pid=$!
    fi
    for _ in $(seq 1 60); do
      docker version >/dev/null 2>&1 && break
      # Stop waiting as soon as the daemon we started has died.
      if [ -n "$dockerd_pid" ] && ! kill -0 "$dockerd_pid" 2>/dev/null; then
        tail -n 3 "$DOCKERD_LOG" >&2 || true
        die "dockerd exited right after it started" "Look at ${DOCKERD_LOG} (in a container, dockerd needs --privileged)."
      fi
      sleep 1
    done
    docker version >/dev/null 2>&1 ||
      die "dockerd did not answer within 60 s" "Look at ${DOCKERD_LOG}."
    say "Docker Engine: answering"
  fi
fi


say "done: $(deno --version | head -1), $(restic version | cut -d' ' -f1-2), $(
  docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /' ||
    docker compose version --short 2>/dev/null | sed 's/^/docker compose /'
), Docker $(docker version --format '{{.Server.Version}}')"
