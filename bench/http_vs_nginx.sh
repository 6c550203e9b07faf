#!/usr/bin/env bash
# HTTP figures of the Foundation issue, side by side with nginx in the same run:
#   1. GET /healthz on Ruche vs a small static file on nginx: requests/s and p99 (wrk),
#      each server pinned to core 0 with one worker / one I/O thread, wrk pinned to core 1;
#      ROUNDS alternating rounds, the median reported.
#   2. Ruche's time from exec to the first 200 on /healthz, on an empty data folder.
#   3. Ruche's idle RSS after start, and after the load.
# Usage: bench/http_vs_nginx.sh [RUCHE_BIN]   (make bench builds the release binary first)
# Env: DURATION (s, default 10), ROUNDS (default 3), CONNECTIONS (default 64).
# Everything listens on 127.0.0.1 and stops at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
RUCHE=${1:-build-release/ruche}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
for tool in wrk nginx taskset curl; do
  command -v $tool >/dev/null || { echo "missing $tool: scripts/install-deps.sh --bench"; exit 1; }
done
work=$(mktemp -d)
chmod 755 "$work"  # nginx workers run as nobody
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

# --- nginx: one worker on core 0, a 3-byte file like Ruche's "ok\n" ---
ngx_port=$(free_port)
mkdir -p "$work/nginx/www"
printf 'ok\n' > "$work/nginx/www/healthz"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$ngx_port; root $work/nginx/www; location / { } }
}
CONF
taskset -c 0 nginx -c "$work/nginx/nginx.conf" & pids+=($!)

# --- Ruche: one I/O thread on core 0; measure start-up to the first 200 ---
ruche_port=$(free_port)
t0=$(now_ms)
taskset -c 0 "$RUCHE" serve --listen 127.0.0.1:$ruche_port --data "$work/ruche-data" \
  --set io_threads=1 --log-level warn > "$work/ruche.out" 2>&1 & pids+=($!)
ruche_pid=$!
for _ in $(seq 4000); do curl -sf -o /dev/null "http://127.0.0.1:$ruche_port/healthz" && break; sleep 0.005; done
curl -sf -o /dev/null "http://127.0.0.1:$ruche_port/healthz" || { echo "ruche did not answer"; cat "$work/ruche.out"; exit 1; }
startup_ms=$(( $(now_ms) - t0 ))
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$ngx_port/healthz" && break; sleep 0.05; done
curl -sf -o /dev/null "http://127.0.0.1:$ngx_port/healthz" || { echo "nginx did not answer"; cat "$work/nginx/error.log"; exit 1; }
sleep 1
rss_kib() { awk '/VmRSS/ {print $2}' /proc/$1/status; }
idle_rss=$(rss_kib $ruche_pid)

run_wrk() {  # run_wrk URL -> "req_per_s p99_ms"
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1" > "$work/wrk.txt"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$work/wrk.txt")
  echo "$rps $p99"
}
ruche_rps=(); ruche_p99=(); ngx_rps=(); ngx_p99=()
for ((i = 1; i <= ROUNDS; i++)); do
  read -r r p < <(run_wrk "http://127.0.0.1:$ruche_port/healthz"); ruche_rps+=("$r"); ruche_p99+=("$p")
  read -r r p < <(run_wrk "http://127.0.0.1:$ngx_port/healthz"); ngx_rps+=("$r"); ngx_p99+=("$p")
  echo "round $i: ruche ${ruche_rps[-1]} req/s (p99 ${ruche_p99[-1]} ms), nginx ${ngx_rps[-1]} req/s (p99 ${ngx_p99[-1]} ms)"
done
loaded_rss=$(rss_kib $ruche_pid)
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
r_rps=$(median "${ruche_rps[@]}"); r_p99=$(median "${ruche_p99[@]}")
n_rps=$(median "${ngx_rps[@]}"); n_p99=$(median "${ngx_p99[@]}")
ratio=$(awk -v a="$r_rps" -v b="$n_rps" 'BEGIN {printf "%.2f", a/b}')

cat <<REPORT

| figure | Ruche | nginx 1.22 | ratio |
|---|---|---|---|
| GET /healthz vs static file, req/s (median of $ROUNDS × ${DURATION}s, 1 core, $CONNECTIONS conns) | $r_rps | $n_rps | $ratio |
| p99 latency, ms (median of rounds) | $r_p99 | $n_p99 | |
| start → first /healthz 200 on an empty data folder | $startup_ms ms | | |
| RSS idle after start / after the load | $((idle_rss / 1024)) MiB / $((loaded_rss / 1024)) MiB | | |

machine: $(nproc) vCPU, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(date -u +%Y-%m-%d)
REPORT
