#!/usr/bin/env bash
# Soak (reliability issue): CLIENTS clients each holding a /sync long-poll across ROOMS rooms and
# sending in turn (RATE messages/s in all, each client into its own room with its own token), for
# SOAK_S seconds in STEP_S steps.
# Prints one row per step — deliveries, lost deliveries, p99 send→sync, server CPU and RSS —
# and fails (exit 1) on any error: an HTTP answer other than 200 (the generator stops at the
# first), a lost delivery, or RSS growing by more than RSS_GROWTH_MIB after the first step
# (the first step warms the caches: SQLite's page cache, the per-room structures).
# Usage: bench/soak.sh [RUCHE_BIN]   (release preset: build-release/ruche and its generator)
# Env: CLIENTS (1000), ROOMS (50), RATE (20), SOAK_S (600), STEP_S (30), RSS_GROWTH_MIB (16),
#      LOADGEN (build-release/bench/ruche_loadgen)
set -euo pipefail
cd "$(dirname "$0")/.."
RUCHE=${1:-build-release/ruche}
LOADGEN=${LOADGEN:-build-release/bench/ruche_loadgen}
CLIENTS=${CLIENTS:-1000}
ROOMS=${ROOMS:-50}
RATE=${RATE:-20}
SOAK_S=${SOAK_S:-600}
STEP_S=${STEP_S:-30}
RSS_GROWTH_MIB=${RSS_GROWTH_MIB:-16}
for f in "$RUCHE" "$LOADGEN"; do
  [[ -x $f ]] || { echo "missing $f: cmake --preset release && cmake --build --preset release"; exit 1; }
done
steps=$(( (SOAK_S + STEP_S - 1) / STEP_S ))
((steps >= 2 && steps <= 200)) || { echo "SOAK_S/STEP_S must give 2 to 200 steps"; exit 1; }
# shellcheck source=bench/lib.sh
source bench/lib.sh

rates=$RATE
for ((i = 1; i < steps; i++)); do rates+=",$RATE"; done
echo "== soak: $CLIENTS clients in $ROOMS rooms, $RATE msg/s, $steps steps of ${STEP_S}s" >&2
start_ruche soak
idle_rss=$(awk '/VmRSS/ {print $2}' /proc/$ruche_pid/status)
status=0
# --max-p99-ms: a soak does not stop at a latency; lost deliveries stop it (and fail it).
loadgen --mode=matrix --port="$ruche_port" --pid="$ruche_pid" --connected="$CLIENTS" \
  --rooms="$ROOMS" --rates="$rates" --step-s="$STEP_S" --max-p99-ms=600000 --clients-send=1 \
  | tee "$work/soak.txt" >&2 || { echo "the generator stopped on an error (above)"; status=1; }
alive=yes
kill -0 "$ruche_pid" 2>/dev/null || { alive=no; status=1; }
stop_pid "$ruche_pid"

echo
echo "| minute | messages | deliveries | lost | p50 / p99 ms | server CPU % | RSS MiB |"
echo "|---|---|---|---|---|---|---|"
first_rss=""; max_rss=0; lost_total=0; n=0
while read -r l; do
  n=$((n + 1))
  rss=$(field rss_mib "$l")
  lost=$(( $(field expected "$l") - $(field delivered "$l") ))
  lost_total=$((lost_total + lost))
  [[ -z $first_rss ]] && first_rss=$rss
  max_rss=$(awk -v a="$max_rss" -v b="$rss" 'BEGIN {print (b > a) ? b : a}')
  printf '| %.1f | %s | %s | %s | %s / %s | %s | %s |\n' "$(awk -v n=$n -v s=$STEP_S 'BEGIN {print n*s/60}')" \
    "$(field sent "$l")" "$(field delivered "$l")" "$lost" "$(field p50_ms "$l")" "$(field p99_ms "$l")" \
    "$(field server_cpu_pct "$l")" "$rss"
done < <(grep '^STEP' "$work/soak.txt")
((n == steps)) || { echo "only $n of $steps steps ran"; status=1; }
((lost_total == 0)) || { echo "$lost_total deliveries lost"; status=1; }
growth=$(awk -v a="${first_rss:-0}" -v b="$max_rss" 'BEGIN {printf "%.1f", b - a}')
if awk -v g="$growth" -v m="$RSS_GROWTH_MIB" 'BEGIN {exit !(g > m)}'; then
  echo "RSS grew by $growth MiB after the first step (bound $RSS_GROWTH_MIB MiB)"; status=1
fi
echo
echo "RSS: $((idle_rss / 1024)) MiB idle, ${first_rss} MiB after the first step, ${max_rss} MiB at most (growth ${growth} MiB, bound ${RSS_GROWTH_MIB}); lost deliveries: $lost_total; server alive at the end: $alive"
echo "machine: $(nproc) vCPU, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(date -u +%Y-%m-%d)"
((status == 0)) && echo "soak: PASS" || echo "soak: FAIL"
exit $status
