#!/usr/bin/env bash
# `deno task test`: the whole suite, in two runs of `deno test -P=test --no-prompt`:
#   1. every test file except the serial ones below, DENO_JOBS files at a time (default 4;
#      `deno test --parallel`). Each file runs in its own worker with its own RUN_ID, so its Docker
#      names and labels (testName, TEST_LABEL), temp dirs, state dirs, sockets and test subnets
#      (testSubnet skips the ones in use) never meet another file's. The suite mostly waits on
#      dockerd, restic and docker-compose, so more files than cores keeps the CPU busy.
#   2. the serial files, one after another, with nothing else of the suite running.
# A new test file is independent unless listed in SERIAL. List one here only when it changes
# something every worker shares (the test process's environment, its working directory) or
# measures something other files' load disturbs (peak memory, tight timing), and say why.
#
# With arguments it is one plain run of those: `deno task test tests/backup_test.ts`.
# Each run ends with deno's own `ok | N passed | N failed ...` line (.ci/run adds them up); the
# exit status is non-zero when either run failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SERIAL=(
  # Sets RESTIC_PASSWORD, RESTIC_PASSWORD_COMMAND and RESTIC_REPOSITORY in the test process's
  # environment, which every restic and stowage a parallel worker starts would inherit.
  adapters/restic/open_test.ts
  # Bounds a child's peak RSS; starved of CPU, V8 frees large buffers late.
  tests/recovery_memory_test.ts
)

if [ $# -gt 0 ]; then
  exec deno test -P=test --no-prompt "$@"
fi

export DENO_JOBS="${DENO_JOBS:-4}"
ignore="$(
  IFS=,
  echo "${SERIAL[*]}"
)"

echo "== test files in parallel (DENO_JOBS=${DENO_JOBS}); serial afterwards: ${SERIAL[*]}"
deno test -P=test --no-prompt --parallel --ignore="$ignore"
parallel=$?

echo
echo "== serial test files"
deno test -P=test --no-prompt "${SERIAL[@]}"
serial=$?

if [ "$parallel" != 0 ] || [ "$serial" != 0 ]; then
  echo "test: parallel run exited ${parallel}, serial run exited ${serial}" >&2
  exit 1
fi
