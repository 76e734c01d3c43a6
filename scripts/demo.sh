#!/usr/bin/env bash
# The demo: a small compose stack `stowage-demo` (two busybox services, a named volume with a
# few files), backed up with stowage into the default local repository, then listed.
# Needs Docker, docker-compose (or docker compose v2), restic and Deno: scripts/install-deps.sh.
# Safe to run again: it reuses the image and the stack and adds one more backup.
#
#   bash scripts/demo.sh          # create/start the stack, back it up, list the snapshots
#   bash scripts/demo.sh --down   # remove the demo stack, its volume and image (not the backups)
set -euo pipefail

PROJECT="stowage-demo"
IMAGE="stowage-demo/busybox:1"
DEMO_DIR="${STOWAGE_DEMO_DIR:-/var/lib/stowage-demo}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '==> %s\n' "$*"; }
die() {
  printf 'demo: %s\n' "$1" >&2
  [ $# -gt 1 ] && printf 'hint: %s\n' "$2" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

compose() {
  if have docker-compose; then
    docker-compose -p "$PROJECT" -f "$DEMO_DIR/docker-compose.yml" "$@"
  else
    docker compose -p "$PROJECT" -f "$DEMO_DIR/docker-compose.yml" "$@"
  fi
}

for tool in docker deno restic; do
  have "$tool" || die "'$tool' is not installed" "Run scripts/install-deps.sh (as root) first."
done
have docker-compose || docker compose version >/dev/null 2>&1 ||
  die "no compose tool (docker-compose or docker compose)" "Run scripts/install-deps.sh first."
docker version >/dev/null 2>&1 ||
  die "the Docker Engine does not answer" "Start it (scripts/install-deps.sh starts dockerd when none answers)."

if [ "${1:-}" = "--down" ]; then
  if [ -f "$DEMO_DIR/docker-compose.yml" ]; then
    say "removing the demo stack and its volume"
    compose down -v --remove-orphans -t 1
  fi
  docker image rm "$IMAGE" >/dev/null 2>&1 || true
  rm -rf "$DEMO_DIR"
  say "done (the backups stay in the repository)"
  exit 0
fi

# 1. A busybox image without a registry: `docker import` of /bin/busybox plus its applets.
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  [ -x /bin/busybox ] || die "/bin/busybox is missing" "apt-get install -y busybox-static"
  say "building $IMAGE with docker import (no registry needed)"
  root="$(mktemp -d)"
  trap 'rm -rf "$root" "$root.tar"' EXIT
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/www" "$root/data" "$root/proc" "$root/sys" "$root/dev"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar -C "$root" -cf "$root.tar" .
  docker import --change 'CMD ["sleep","infinity"]' --change 'ENV PATH=/bin' "$root.tar" "$IMAGE" >/dev/null
  rm -rf "$root" "$root.tar"
  trap - EXIT
fi

# 2. The stack: a web server reading the volume, and a worker that writes to it.
mkdir -p "$DEMO_DIR"
cat >"$DEMO_DIR/docker-compose.yml" <<EOF
# stowage demo stack (written by scripts/demo.sh)
version: "2.4"
services:
  web:
    image: ${IMAGE}
    init: true
    # Waits for the worker's first files, then serves them.
    command: ["sh", "-c", "until [ -d /data/www ]; do sleep 0.2; done; exec httpd -f -p 8080 -h /data/www"]
    depends_on:
      - worker
    volumes:
      - data:/data:ro
  worker:
    image: ${IMAGE}
    init: true
    # Writes into the volume: what it wrote into its own layer no backup would see.
    volumes:
      - data:/data
    command:
      - sh
      - -c
      - |
        mkdir -p /data/www /data/notes
        [ -f /data/www/index.html ] || echo '<h1>Hello from the stowage demo</h1>' > /data/www/index.html
        [ -f /data/notes/created-at ] || date -u > /data/notes/created-at
        echo "started at \$\$(date -u)" >> /data/notes/starts.log
        exec sleep infinity
volumes:
  data: {}
EOF
say "starting the demo stack '$PROJECT' ($DEMO_DIR/docker-compose.yml)"
compose up -d

worker="$(compose ps -q worker)"
for _ in $(seq 1 30); do
  docker exec "$worker" test -f /data/notes/created-at 2>/dev/null && break
  sleep 1
done
docker exec "$worker" test -f /data/notes/created-at ||
  die "the demo worker did not write its files" "Look at: docker logs $worker"
web="$(compose ps -q web)"
[ "$(docker inspect -f '{{.State.Running}}' "$web")" = true ] ||
  die "the demo web service is not running" "Look at: docker logs $web"

# 3. Back it up into the default local repository, and list what the repository holds.
cd "$REPO"
# The demo keeps all its data where a backup sees it; dry-run would say otherwise.
if deno task -q stowage dry-run --unit "$PROJECT" | grep "which no backup sees"; then
  die "the demo stack keeps data outside its volumes" "See: deno task stowage dry-run --unit $PROJECT"
fi
say "deno task stowage backup --unit $PROJECT"
deno task -q stowage backup --unit "$PROJECT"
say "deno task stowage admin snapshot list"
deno task -q stowage admin snapshot list

cat <<EOF

The demo stack '$PROJECT' is backed up. Try next:
  deno task stowage dry-run --unit $PROJECT      what a backup stops and saves
  deno task stowage restore --unit $PROJECT --latest --dry-run
  deno task stowage doctor
  bash scripts/demo.sh --down                     remove the demo stack (backups stay)
EOF
