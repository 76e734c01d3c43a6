#!/usr/bin/env bash
# `deno task test`: the whole suite, in two runs of `deno test -P=test --no-prompt`:
#   1. every test file except the serial ones below, DENO_JOBS files at a time (default 8;
#      `deno test --parallel`; on 2 cores, measured alone on the same commit: 7m19s with 6, 6m56s
#      with 8, the CPU still idle between waits with 6). Each file runs in its own worker with its own RUN_ID, so its Docker
#      names and labels (testName, TEST_LABEL), temp dirs, state dirs, sockets and test subnets
#      (testSubnet skips the ones in use) never meet another file's. The suite mostly waits on
#      dockerd, restic and docker-compose, so more files than cores keeps the CPU busy.
#      Except the unit test files (every *_test.ts outside tests/): they run together in ONE
#      worker, through a generated module that imports them all, one after another. A worker
#      loads its own copy of every module it needs (zod, yaml, commander, Deno's node: layer):
#      measured (90 unit files then), 24.6 s of CPU in 90 workers and 5.8 s in one.
#   2. the serial files, one after another, with nothing else of the suite running.
# Files start in the order given to deno (checked: `deno test --parallel` keeps it), so the longest
# ones (LONGEST, slowest first, as measured in a full run) start first and the short ones fill the
# gaps: the run ends when its longest file does, not when a long file that started last does.
# A new test file is independent unless listed in SERIAL. List one here only when it changes
# something every worker shares (the test process's environment, its working directory) or
# measures something other files' load disturbs (peak memory, tight timing), and say why.
#
# Type checking happens once, first: `deno task typecheck`, the same check (same roots, so the same
# cache entry) as `deno task ok`, which covers every test file. After `deno task ok` (.ci/run runs
# it first) it is a cache hit; run alone it checks everything, as `deno test` would. The two runs
# then skip deno test's own check (--no-check): each checked again with its own roots, which misses
# that cache (measured with a cold cache: 19 s and 5 s, on one core, before any test started).
#
# With arguments it is one plain run of those: `deno task test tests/backup_test.ts`.
# Each run ends with deno's own `ok | N passed | N failed ...` line (.ci/run adds them up); the
# exit status is non-zero when either run failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

SERIAL=(
  # Sets RESTIC_PASSWORD, RESTIC_PASSWORD_COMMAND and RESTIC_REPOSITORY in the test process's
  # environment, which every restic and stowage a parallel worker starts would inherit.
  adapters/restic/open_test.ts
  # Bounds a child's peak RSS; starved of CPU, V8 frees large buffers late.
  tests/recovery_memory_test.ts
)

# The longest files, slowest first (per-file time in a full run; keep it roughly true when a test
# file grows): every file that took 40 s or more in the last measured run (2026-11-29, 9m09s).
# Every other test file follows in name order. A long file outside this list starts late and
# ends the run alone, with the CPU half idle.
LONGEST=(
  tests/restore_points_test.ts
  tests/backends_test.ts
  tests/recovery_test.ts
  tests/restore_stack_test.ts
  tests/verify_test.ts
  tests/backup_kill_test.ts
  tests/fs_snapshot_test.ts
  tests/repository_contract_rest_auth_test.ts
  tests/copies_test.ts
  tests/recovery_auto_test.ts
  tests/backup_warm_kill_test.ts
  tests/backend_s3_test.ts
  tests/backup_test.ts
  tests/config_cli_test.ts
  tests/service_daemon_test.ts
  tests/restore_failure_test.ts
  tests/repository_contract_azure_test.ts
  tests/dumps_postgres_test.ts
  tests/recovery_install_test.ts
  tests/hooks_test.ts
  tests/bad_input_test.ts
  tests/repository_contract_s3_test.ts
  tests/new_host_test.ts
  tests/tailscale_setup_test.ts
  tests/repository_contract_sftp_test.ts
  tests/volume_kinds_test.ts
  tests/dumps_mariadb_test.ts
  tests/secrets_cli_test.ts
  tests/restore_fidelity_test.ts
  tests/retention_test.ts
  tests/setup_ssh_test.ts
  tests/backup_archive_test.ts
  tests/backend_azure_test.ts
  tests/restore_untrusted_test.ts
  tests/repository_contract_rclone_test.ts
  tests/doctor_test.ts
  tests/notify_test.ts
)

# restic's cache for the restic processes the tests start themselves (stowage's own restic calls
# name their cache with --cache-dir, inside each test's state dir, which wins over the variable):
# one fresh folder per run, removed afterwards. In restic's default, ~/.cache/restic, every test
# repository left a folder behind, and each restic start looks at every folder there: measured
# with 2,800 of them (this machine after many runs), `restic snapshots` cost 137 ms of CPU instead
# of 26 ms, for about 1,300 restic processes a run.
export RESTIC_CACHE_DIR
RESTIC_CACHE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/stowage-test-restic-cache-XXXXXX")" || exit 1
# docker-compose 1.29 (Python) imports distutils, which setuptools' distutils-precedence.pth
# (Debian's python3-setuptools) swaps for setuptools' own copy: 190 ms of its 450 ms of imports.
# Python's own distutils does the same for it (compose uses find_executable): measured
# `docker-compose version` at 570 ms of CPU, 314 ms with this. A run starts it about a hundred
# times (fixture stacks; stowage's restore, verify and doctor). Only where Python still has its own
# distutils (removed in 3.12: there the variable would break docker-compose's import).
if python3 -c 'import sys; sys.exit(sys.version_info >= (3, 12))' 2>/dev/null; then
  export SETUPTOOLS_USE_DISTUTILS=stdlib
fi
unit_module=""
trap 'rm -rf "$RESTIC_CACHE_DIR"; [ -z "$unit_module" ] || rm -f "$unit_module"' EXIT

if [ $# -gt 0 ]; then
  deno test -P=test --no-prompt "$@"
  exit
fi

export DENO_JOBS="${DENO_JOBS:-8}"

files=()
for f in "${LONGEST[@]}"; do
  if [ ! -f "$f" ]; then
    echo "test: scripts/test.sh lists $f in LONGEST, but there is no such file" >&2
    exit 1
  fi
  files+=("$f")
done
units=()
while IFS= read -r f; do
  f="${f#./}"
  case " ${LONGEST[*]} ${SERIAL[*]} " in *" $f "*) continue ;; esac
  case "$f" in
    tests/*) files+=("$f") ;;
    *) units+=("$f") ;;
  esac
done < <(find . -name '*_test.ts' -not -path './dist/*' -not -path './node_modules/*' | LC_ALL=C sort)

# The unit files' one module, right after the longest files (it runs for about 15 s).
unit_module="$(mktemp "${TMPDIR:-/tmp}/stowage-unit-tests-XXXXXX.ts")" || exit 1
{
  echo "// Generated by scripts/test.sh: the ${#units[@]} unit test files, in one worker."
  for f in "${units[@]}"; do echo "import \"$PWD/$f\";"; done
} >"$unit_module"
files=("${files[@]:0:${#LONGEST[@]}}" "$unit_module" "${files[@]:${#LONGEST[@]}}")

echo "== type check (deno task typecheck)"
if ! deno task typecheck; then
  echo "test: the type check failed; no test ran" >&2
  exit 1
fi

echo "== $((${#files[@]} - 1)) test files and the ${#units[@]} unit test files (one worker) in parallel (DENO_JOBS=${DENO_JOBS}), longest first; serial afterwards: ${SERIAL[*]}"
deno test -P=test --no-prompt --no-check --parallel "${files[@]}"
parallel=$?

echo
echo "== serial test files"
deno test -P=test --no-prompt --no-check "${SERIAL[@]}"
serial=$?

if [ "$parallel" != 0 ] || [ "$serial" != 0 ]; then
  echo "test: parallel run exited ${parallel}, serial run exited ${serial}" >&2
  exit 1
fi
