#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for SECONDS each, starting from its checked-in
# corpus (new interesting inputs go to a scratch folder, not into the repository).
#   scripts/run-fuzzers.sh BUILD_DIR SECONDS
# A crash leaves crash-<hash> in test-artifacts/fuzz/: add it to the target's corpus folder and
# write the unit test that reproduces it.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
seconds=${2:-60}
out=test-artifacts/fuzz
mkdir -p "$out"
status=0
while IFS= read -r -d '' corpus; do
  name=$(basename "$corpus" _corpus)
  bin="$build/src/$(basename "$(dirname "$corpus")")/ruche_$name"
  [[ -x $bin ]] || bin=$(find "$build" -type f -name "ruche_$name" -perm -u+x | head -1)
  if [[ -z $bin || ! -x $bin ]]; then
    echo "fuzz: no binary for $name"; status=1; continue
  fi
  scratch=$(mktemp -d)
  echo "=== fuzz $name for ${seconds}s ==="
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$out/${name}-" "$scratch" "$corpus" 2>"$out/$name.log"; then
    echo "fuzz: $name FAILED (see $out/$name.log)"; status=1
  else
    grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$out/$name.log" | tail -1 || true
  fi
  rm -rf "$scratch"
done < <(find src -type d -name '*_fuzz_corpus' -print0)
exit $status
