#!/usr/bin/env bash
# Runs Ruche's test suites against an already built tree (make test builds first).
#   scripts/run-tests.sh [all|unit|integration|interop|e2e]
# Environment: RUCHE_BIN (default build/ruche), RUCHE_WEB_ROOT (default web/dist).
set -uo pipefail
cd "$(dirname "$0")/.."
export RUCHE_BIN="${RUCHE_BIN:-$PWD/build/ruche}"
export RUCHE_WEB_ROOT="${RUCHE_WEB_ROOT:-$PWD/web/dist}"
export RUCHE_ARTIFACTS="${RUCHE_ARTIFACTS:-$PWD/test-artifacts}"
mkdir -p "$RUCHE_ARTIFACTS"
PY=/usr/bin/python3   # Debian's python: it carries python3-matrix-nio and pytest

what="${1:-all}"
failed=()

# Every suite, and every test in it, is bounded in time: a hung test fails with its name instead
# of holding CI until its deadline. Generous: the bounds catch hangs, not slowness (ASan runs the
# integration suite 3-4x slower than a plain build).
suite() {  # suite NAME SECONDS COMMAND...
  local name=$1 seconds=$2; shift 2
  echo "=== $name ($(date -u +%H:%M:%S)) ==="
  local start=$SECONDS
  # timeout signals its whole process group: servers and browsers the suite started go too.
  timeout --kill-after=30 "$seconds" "$@"
  local rc=$?
  if ((rc == 124 || rc == 137)); then echo "*** $name: stopped after ${seconds} s (time limit)"; fi
  if ((rc != 0)); then failed+=("$name"); fi
  echo "=== $name: $((SECONDS - start)) s, exit $rc ==="
}

# pytest-timeout (Debian's python3-pytest-timeout) fails a single hung test after 5 minutes.
PYTEST=($PY -m pytest -q -p no:cacheprovider)
if $PY -c 'import pytest_timeout' 2>/dev/null; then PYTEST+=(--timeout=300); fi
# The integration tests spend most of their time waiting on a server's answers: two workers
# (Debian's python3-pytest-xdist), one test file each at a time so a module's shared server
# stays in one worker, halve the suite's time on two cores (313 s -> 169 s under ASan).
PYTEST_PARALLEL=()
if (($(nproc) >= 2)) && $PY -c 'import xdist' 2>/dev/null; then
  PYTEST_PARALLEL=(-n 2 --dist loadfile)
fi
# node's test runner: one file at a time (browser tests load both cores), 5 minutes per test,
# and exit when the tests are done even if a library left a timer or socket behind.
NODE_TEST=(node --test --test-concurrency=1 --test-timeout=300000 --test-force-exit --test-reporter=spec)

if [[ $what == all || $what == unit ]]; then
  suite unit 1200 ctest --test-dir build --output-on-failure --timeout 600 -j "$(nproc)"
fi
if [[ $what == all || $what == integration ]]; then
  suite integration 3000 "${PYTEST[@]}" "${PYTEST_PARALLEL[@]}" tests/integration
fi
if [[ $what == all || $what == interop ]]; then
  suite interop 1200 "${PYTEST[@]}" tests/interop
  # (--test-force-exit: matrix-js-sdk leaves timers behind that would keep node alive ~2 min.)
  suite interop-js 600 "${NODE_TEST[@]}" tests/interop/
fi
if [[ $what == all || $what == e2e ]]; then
  suite e2e 1500 "${NODE_TEST[@]}" tests/e2e/
fi

if ((${#failed[@]})); then
  echo "FAILED suites: ${failed[*]}"
  exit 1
fi
echo "all requested suites passed"
