#!/usr/bin/env bash
# Chat figures of the Team chat core issue, side by side with ejabberd in the same run:
#   fanout    one room, MEMBERS members each holding a /sync long-poll, one sender at RATES
#             (messages/s, STEP_S seconds each, rising until saturated) → deliveries/s, p50/p99
#             send→sync latency, server CPU and RSS, deliveries per server CPU-second;
#   ejabberd  the same room, members and rates on Debian's ejabberd (MUC, archiving off);
#   send      committed events/s through PUT /send, SENDERS closed-loop senders, with group
#             commit (the default) and with one transaction per event (store.max_batch_writes=1);
#   big       BIG_USERS registered users, BIG_CONNECTED connected across BIG_ROOMS rooms, a steady
#             BIG_RATE messages/s for BIG_STEP_S seconds → RSS and p99.
# Each server is pinned to core 0 (Ruche with one I/O thread; ejabberd's VM sees one core),
# the generator (bench/fanout/, one epoll thread) to core 1. Everything listens on 127.0.0.1
# and stops at the end.
# Usage: bench/fanout.sh [RUCHE_BIN]   (make bench builds the release binary and the generator)
# Env: FIGURES (default fanout,ejabberd,send,big), MEMBERS (1000), RATES (10,50,100,200,500),
#      STEP_S (5), SENDERS (32), SEND_S (5), BIG_USERS (10000), BIG_CONNECTED (1000),
#      BIG_ROOMS (200), BIG_RATE (100), BIG_STEP_S (10), LOADGEN (build-release/bench/ruche_loadgen)
set -euo pipefail
cd "$(dirname "$0")/.."
RUCHE=${1:-build-release/ruche}
LOADGEN=${LOADGEN:-build-release/bench/ruche_loadgen}
FIGURES=${FIGURES:-fanout,ejabberd,send,big}
MEMBERS=${MEMBERS:-1000}
RATES=${RATES:-10,50,100,200,500}
STEP_S=${STEP_S:-5}
SENDERS=${SENDERS:-32}
SEND_S=${SEND_S:-5}
BIG_USERS=${BIG_USERS:-10000}
BIG_CONNECTED=${BIG_CONNECTED:-1000}
BIG_ROOMS=${BIG_ROOMS:-200}
BIG_RATE=${BIG_RATE:-100}
BIG_STEP_S=${BIG_STEP_S:-10}
for f in "$RUCHE" "$LOADGEN"; do
  [[ -x $f ]] || { echo "missing $f: cmake --preset release && cmake --build --preset release"; exit 1; }
done
want() { [[ ",$FIGURES," == *",$1,"* ]]; }
if want ejabberd; then
  command -v ejabberdctl >/dev/null || { echo "missing ejabberd: scripts/install-deps.sh --bench"; exit 1; }
fi
# shellcheck source=bench/lib.sh
source bench/lib.sh
ejabberd_node=""
cleanup_hooks+=('[[ -z $ejabberd_node ]] || ejabberdctl --config-dir "$work/ejabberd" --node "$ejabberd_node" stop >/dev/null 2>&1')

# start_ejabberd: Debian's ejabberd as its own node, config and spool in $work, one core.
start_ejabberd() {
  local dir=$work/ejabberd
  ejabberd_port=$(free_port)
  ejabberd_node="ruchebench$$@localhost"
  mkdir -p "$dir/spool" "$dir/logs"
  cp /etc/ejabberd/inetrc "$dir/inetrc"
  cat > "$dir/ejabberdctl.cfg" <<CFG
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"
EJABBERD_PID_PATH=$dir/ejabberd.pid
EJABBERD_BYPASS_WARNINGS=true
CFG
  cat > "$dir/ejabberd.yml" <<YML
hosts:
  - localhost
loglevel: warning
certfiles: []
auth_method: internal
auth_password_format: plain
registration_timeout: infinity
listen:
  -
    port: $ejabberd_port
    ip: "127.0.0.1"
    module: ejabberd_c2s
    shaper: none
    max_stanza_size: 262144
    starttls: false
    starttls_required: false
acl:
  loopback:
    ip:
      - 127.0.0.0/8
access_rules:
  register:
    allow: all
  c2s:
    allow: all
shaper_rules:
  max_user_sessions: 10
  c2s_shaper: none
modules:
  mod_disco: {}
  mod_register:
    ip_access: all
    access: register
  mod_muc:
    host: conference.localhost
    access: all
    access_create: all
    history_size: 0
    max_users: 5000
    # Past 100 occupants, joins stop broadcasting presence to everyone: it keeps the set-up
    # O(N) instead of O(N²) and does not touch message delivery, which is what is measured.
    max_users_presence: 100
    default_room_options:
      mam: false
      persistent: false
      max_users: 5000
YML
  chown -R ejabberd:ejabberd "$dir"
  # Started as the ejabberd user directly: run by root, ejabberdctl goes through su, whose PAM
  # session puts the soft limit on open files back at 1,024, and a 1,000-member room then runs
  # out of sockets ("Failed TCP accept: too many open files"). setpriv keeps this script's limit.
  (cd "$dir" && HOME=/var/lib/ejabberd taskset -c 0 setpriv --reuid=ejabberd --regid=ejabberd \
    --init-groups ejabberdctl --config-dir "$dir" --config "$dir/ejabberd.yml" \
    --spool "$dir/spool" --logs "$dir/logs" --node "$ejabberd_node" foreground) \
    > "$work/ejabberd.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $ejabberd_port), 0.2)" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  # The Erlang VM (beam.smp) of our node — not the su/sh wrappers — is what uses the CPU.
  ejabberd_pid=$(pgrep -f -- "$ejabberd_node" | xargs -r ps -o pid=,comm= -p | awk '$2 ~ /^beam/ {print $1}' | head -1)
  [[ -n $ejabberd_pid ]] || { echo "ejabberd did not start"; cat "$work/ejabberd.out"; exit 1; }
}

declare -A step_ruche step_ejabberd
results=()

if want fanout; then
  echo "== fanout: Ruche, $MEMBERS members, rates $RATES msg/s, ${STEP_S}s each" >&2
  start_ruche fanout
  loadgen --mode=matrix --port="$ruche_port" --pid="$ruche_pid" --connected="$MEMBERS" \
    --rates="$RATES" --step-s="$STEP_S" | tee "$work/fanout.txt" >&2
  stop_pid "$ruche_pid"
fi
if want ejabberd; then
  echo "== fanout: ejabberd, $MEMBERS members, rates $RATES msg/s, ${STEP_S}s each" >&2
  start_ejabberd
  loadgen --mode=xmpp --port="$ejabberd_port" --pid="$ejabberd_pid" --connected="$MEMBERS" \
    --rates="$RATES" --step-s="$STEP_S" | tee "$work/ejabberd.txt" >&2
  ejabberdctl --config-dir "$work/ejabberd" --node "$ejabberd_node" stop >/dev/null 2>&1 || true
  ejabberd_node=""
fi
if want send; then
  echo "== send: $SENDERS senders, ${SEND_S}s, group commit vs one transaction per event" >&2
  start_ruche send-group
  loadgen --mode=send --port="$ruche_port" --pid="$ruche_pid" --senders="$SENDERS" --rooms=8 \
    --duration-s="$SEND_S" | tee "$work/send-group.txt" >&2
  stop_pid "$ruche_pid"
  start_ruche send-single --set store.max_batch_writes=1
  loadgen --mode=send --port="$ruche_port" --pid="$ruche_pid" --senders="$SENDERS" --rooms=8 \
    --duration-s="$SEND_S" | tee "$work/send-single.txt" >&2
  stop_pid "$ruche_pid"
fi
if want big; then
  echo "== big: $BIG_USERS users, $BIG_CONNECTED connected across $BIG_ROOMS rooms, $BIG_RATE msg/s" >&2
  start_ruche big
  idle_rss=$(awk '/VmRSS/ {print $2}' /proc/$ruche_pid/status)
  loadgen --mode=matrix --port="$ruche_port" --pid="$ruche_pid" --users="$BIG_USERS" \
    --connected="$BIG_CONNECTED" --rooms="$BIG_ROOMS" --rates="$BIG_RATE" \
    --step-s="$BIG_STEP_S" | tee "$work/big.txt" >&2
  stop_pid "$ruche_pid"
fi

# ---- tables ----
fmt() { awk -v v="$1" 'BEGIN { printf "%\047d", v }' 2>/dev/null || echo "$1"; }
echo
if want fanout || want ejabberd; then
  echo "| rate msg/s | Ruche deliveries/s | Ruche p50 / p99 ms | Ruche CPU % | Ruche deliveries per CPU-s | ejabberd deliveries/s | ejabberd p50 / p99 ms | ejabberd CPU % | ejabberd deliveries per CPU-s | ratio per CPU-s |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  IFS=, read -ra rates <<<"$RATES"
  for r in "${rates[@]}"; do
    a=$(grep -s "rate=$r " "$work/fanout.txt" || true)
    b=$(grep -s "rate=$r " "$work/ejabberd.txt" || true)
    [[ -z $a && -z $b ]] && continue
    row="| $r"
    for l in "$a" "$b"; do
      if [[ -n $l ]]; then
        row+=" | $(field deliveries_per_s "$l") | $(field p50_ms "$l") / $(field p99_ms "$l") | $(field server_cpu_pct "$l") | $(field deliveries_per_cpu_s "$l")"
        lost=$(( $(field expected "$l") - $(field delivered "$l") ))
        ((lost > 0)) && row+=" ($lost lost)"
      else
        row+=" | – | – | – | –"
      fi
    done
    ra=$(field deliveries_per_cpu_s "$a"); rb=$(field deliveries_per_cpu_s "$b")
    if [[ -n $ra && -n $rb && $rb != 0 ]]; then row+=" | $(awk -v a="$ra" -v b="$rb" 'BEGIN {printf "%.2f×", a/b}')"; else row+=" | –"; fi
    echo "$row |"
  done
  for f in fanout ejabberd; do
    last=$(tail -1 "$work/$f.txt" 2>/dev/null || true)
    [[ -n $last ]] && echo "$f: RSS after the last step $(field rss_mib "$last") MiB; generator CPU in the last step $(field gen_cpu_s "$last") s"
  done
  echo
fi
if want send; then
  g=$(cat "$work/send-group.txt"); s=$(cat "$work/send-single.txt")
  echo "| PUT /send, $SENDERS senders, 8 rooms | committed events/s | p50 / p99 ms | server CPU s |"
  echo "|---|---|---|---|"
  echo "| one transaction per event (store.max_batch_writes=1) | $(field committed_per_s "$s") | $(field p50_ms "$s") / $(field p99_ms "$s") | $(field server_cpu_s "$s") |"
  echo "| group commit (default) | $(field committed_per_s "$g") | $(field p50_ms "$g") / $(field p99_ms "$g") | $(field server_cpu_s "$g") |"
  echo "| ratio | $(awk -v a="$(field committed_per_s "$g")" -v b="$(field committed_per_s "$s")" 'BEGIN {printf "%.1f×", a/b}') | | |"
  echo
fi
if want big; then
  l=$(tail -1 "$work/big.txt")
  echo "| $BIG_USERS users, $BIG_CONNECTED connected, $BIG_ROOMS rooms, $BIG_RATE msg/s | value |"
  echo "|---|---|"
  echo "| RSS idle after start / after set-up and load | $((idle_rss / 1024)) MiB / $(field rss_mib "$l") MiB |"
  echo "| deliveries/s, p50 / p99 send→sync ms | $(field deliveries_per_s "$l"), $(field p50_ms "$l") / $(field p99_ms "$l") |"
  echo "| server CPU % | $(field server_cpu_pct "$l") |"
  echo
fi
echo "machine: $(nproc) vCPU, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(date -u +%Y-%m-%d)"
