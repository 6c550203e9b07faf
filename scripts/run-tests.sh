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

suite() {  # suite NAME COMMAND...
  local name=$1; shift
  echo "=== $name ==="
  if ! "$@"; then failed+=("$name"); fi
}

if [[ $what == all || $what == unit ]]; then
  suite unit ctest --test-dir build --output-on-failure -j "$(nproc)"
fi
if [[ $what == all || $what == integration ]]; then
  suite integration $PY -m pytest -q -p no:cacheprovider tests/integration
fi
if [[ $what == all || $what == interop ]]; then
  suite interop $PY -m pytest -q -p no:cacheprovider tests/interop
  # --test-force-exit: matrix-js-sdk leaves timers behind that would keep node alive ~2 min.
  suite interop-js node --test --test-force-exit --test-reporter=spec tests/interop/
fi
if [[ $what == all || $what == e2e ]]; then
  suite e2e node --test --test-reporter=spec tests/e2e/
fi

if ((${#failed[@]})); then
  echo "FAILED suites: ${failed[*]}"
  exit 1
fi
echo "all requested suites passed"
