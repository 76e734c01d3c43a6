#!/usr/bin/env bash
# `deno task test`: the whole suite, in two runs of `deno test -P=test --no-prompt`:
#   1. every test file except the serial ones below, DENO_JOBS files at a time (default 6;
#      `deno test --parallel`). Each file runs in its own worker with its own RUN_ID, so its Docker
#      names and labels (testName, TEST_LABEL), temp dirs, state dirs, sockets and test subnets
#      (testSubnet skips the ones in use) never meet another file's. The suite mostly waits on
#      dockerd, restic and docker-compose, so more files than cores keeps the CPU busy.
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
# file grows). Every other test file follows in name order.
LONGEST=(
  tests/backends_test.ts
  tests/recovery_test.ts
  tests/restore_points_test.ts
  tests/backup_kill_test.ts
  tests/backup_warm_kill_test.ts
  tests/fs_snapshot_test.ts
  tests/verify_test.ts
  tests/copies_test.ts
  tests/repository_contract_rest_auth_test.ts
  tests/restore_stack_test.ts
  tests/dumps_postgres_test.ts
  tests/backup_test.ts
  tests/repository_contract_sftp_test.ts
  tests/doctor_test.ts
  tests/recovery_install_test.ts
  tests/restore_fidelity_test.ts
  tests/bad_input_test.ts
  tests/restore_failure_test.ts
  tests/service_daemon_test.ts
  tests/notify_test.ts
  tests/hooks_test.ts
  tests/retention_test.ts
  tests/dumps_mariadb_test.ts
)

if [ $# -gt 0 ]; then
  exec deno test -P=test --no-prompt "$@"
fi

export DENO_JOBS="${DENO_JOBS:-6}"

files=()
for f in "${LONGEST[@]}"; do
  if [ ! -f "$f" ]; then
    echo "test: scripts/test.sh lists $f in LONGEST, but there is no such file" >&2
    exit 1
  fi
  files+=("$f")
done
while IFS= read -r f; do
  f="${f#./}"
  case " ${LONGEST[*]} ${SERIAL[*]} " in *" $f "*) continue ;; esac
  files+=("$f")
done < <(find . -name '*_test.ts' -not -path './dist/*' -not -path './node_modules/*' | LC_ALL=C sort)

echo "== type check (deno task typecheck)"
if ! deno task typecheck; then
  echo "test: the type check failed; no test ran" >&2
  exit 1
fi

echo "== ${#files[@]} test files in parallel (DENO_JOBS=${DENO_JOBS}), longest first; serial afterwards: ${SERIAL[*]}"
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
