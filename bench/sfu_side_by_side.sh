#!/usr/bin/env bash
# Meeting media figures of issue 6, side by side in one run: Ruche's SFU and Debian's Janus
# (VideoRoom plugin) with the same PUBLISHERS and rising SUBSCRIBER_STEPS → forwarded packets/s,
# server CPU (% of one core, µs per forwarded packet), added latency p50/p99 (publisher send →
# subscriber receive, one clock), server RSS and RSS per participant.
#
# Janus leaves loopback out when it gathers ICE candidates, so everything runs in network
# namespaces made for the run, joined by a veth pair (SERVER_IP for the servers, CLIENT_IP for
# the media client), no route out, removed on exit. Each server is pinned to core 0 with one
# media thread (Ruche: io_threads=1, rtc_workers=1; Janus: event_loops=1); the driver
# (bench/sfu_load/driver.mjs, signalling) and the media client (ruche_sfu_load, all RTP/RTCP) to
# core 1. Server CPU is utime + stime of the server process over each window.
#
# NET_LAYOUT says where the client's network stack runs:
#  split (default): the servers and the load are in two namespaces, one veth end in each, and
#    receive packet steering (RPS) hands what arrives on each end to its own side's core — as
#    across a real link, the server's core does not run the media client's UDP receive path.
#    (veth takes UDP GSO trains whole, like a NIC with UDP segmentation offload: they are cut
#    into datagrams on the receiving side.)
#  shared: one namespace for all (the figures up to 2026-11-29 afternoon); traffic between the two addresses then
#    goes through the namespace's loopback, whose send runs the receiver's UDP input (and, for
#    GSO trains, the segmentation) on the sender's core: the server's CPU figure includes the
#    media client's kernel receive work.
# Subscribers are added step by step (10, then 15 more for 25, …): nobody leaves between steps.
#
# Usage: bench/sfu_side_by_side.sh [RUCHE_BIN]   (as root: ip netns)
# Env: PUBLISHERS (4), SUBSCRIBER_STEPS ("10 25 50"), STEP_S (10), VIDEO_KBPS (1500),
#      PEERS ("janus ruche"), SFU_LOAD_BIN (build-release/bench/sfu_load/ruche_sfu_load),
#      WARMUP_S (2), JANUS_EVENT_LOOPS (1; 0 = Janus's default, a thread per handle),
#      JANUS_DEBUG_LEVEL (3), RUCHE_LOG_LEVEL (warn), KEEP_LOGS (a folder to copy logs to),
#      RUCHE_SET (one more --set for Ruche, e.g. rtc_gso=false), NET_LAYOUT (split | shared),
#      PACING_FACTOR (0: each video frame leaves in one burst; 2.5: paced as WebRTC's pacer does)
set -euo pipefail
cd "$(dirname "$0")/.."
RUCHE=${1:-build-release/ruche}
if [[ -z ${SFU_LOAD_BIN:-} ]]; then
  SFU_LOAD_BIN=build-release/bench/sfu_load/ruche_sfu_load
  # Where it lands if bench/CMakeLists.txt builds it beside ruche_loadgen.
  [[ -x $SFU_LOAD_BIN ]] || SFU_LOAD_BIN=build-release/bench/ruche_sfu_load
fi
PUBLISHERS=${PUBLISHERS:-4}
SUBSCRIBER_STEPS=${SUBSCRIBER_STEPS:-10 25 50}
STEP_S=${STEP_S:-10}
VIDEO_KBPS=${VIDEO_KBPS:-1500}
PEERS=${PEERS:-janus ruche}
JANUS_EVENT_LOOPS=${JANUS_EVENT_LOOPS:-1}
WARMUP_S=${WARMUP_S:-2}
NET_LAYOUT=${NET_LAYOUT:-split}
PACING_FACTOR=${PACING_FACTOR:-0}
[[ $NET_LAYOUT == split || $NET_LAYOUT == shared ]] || { echo "NET_LAYOUT: split or shared"; exit 1; }
SERVER_IP=10.77.0.1
CLIENT_IP=10.77.0.2
# Fixed ports: nothing else lives in the namespace.
JANUS_HTTP_PORT=8088
RUCHE_HTTP_PORT=8008
RUCHE_UDP_PORT=40000

want() { [[ " $PEERS " == *" $1 "* ]]; }
[[ $(id -u) -eq 0 ]] || { echo "run as root: the script makes a network namespace"; exit 1; }
if want ruche && [[ ! -x $RUCHE ]]; then
  echo "missing $RUCHE: cmake --preset release && cmake --build --preset release"; exit 1
fi
if [[ ! -x $SFU_LOAD_BIN ]]; then
  echo "missing the media client $SFU_LOAD_BIN (release preset, or set SFU_LOAD_BIN)"; exit 1
fi
if want janus; then
  command -v janus >/dev/null || { echo "missing janus: scripts/install-deps.sh --bench"; exit 1; }
fi
command -v node >/dev/null || { echo "missing node"; exit 1; }
node_flags=()
# Ruche's signalling is a WebSocket: Node 20 has a global WebSocket behind a flag, 22 without.
node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' 2>/dev/null ||
  node_flags+=(--experimental-websocket --no-warnings)
max_sub=0
for s in $SUBSCRIBER_STEPS; do
  ((s > max_sub)) || { echo "SUBSCRIBER_STEPS must rise: $SUBSCRIBER_STEPS"; exit 1; }
  max_sub=$s
done

ns=ruche-sfu-$$  # the servers'
cns=$ns           # the load's: its own with NET_LAYOUT=split
[[ $NET_LAYOUT == shared ]] || cns=ruche-sfu-$$-c
veth=rsfu$$
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  # Anything of ours still inside the namespace (a driver or media client cut short).
  for n in "$ns" "$cns"; do
    for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  done
  wait 2>/dev/null
  ip netns del "$ns" 2>/dev/null  # takes the veth pair with it
  [[ $cns == "$ns" ]] || ip netns del "$cns" 2>/dev/null
  if [[ -n ${KEEP_LOGS:-} ]]; then mkdir -p "$KEEP_LOGS" && cp -r "$work"/. "$KEEP_LOGS"/; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { ip netns exec "$ns" "$@"; }
ip netns add "$ns"
[[ $cns == "$ns" ]] || ip netns add "$cns"
ip -n "$ns" link add "${veth}s" type veth peer name "${veth}c" netns "$cns"
ip -n "$ns" addr add "$SERVER_IP/24" dev "${veth}s"
ip -n "$cns" addr add "$CLIENT_IP/24" dev "${veth}c"
for n in "$ns" "$cns"; do ip -n "$n" link set lo up; done
ip -n "$ns" link set "${veth}s" up
ip -n "$cns" link set "${veth}c" up
if [[ $NET_LAYOUT == shared ]]; then
  # Janus (libnice) sends from its candidate's interface: the packet crosses the veth pair and
  # arrives with a source address that is local to the namespace, which Linux drops as a
  # martian unless accept_local is on.
  for dev in all "${veth}s" "${veth}c"; do
    in_ns sysctl -qw "net.ipv4.conf.$dev.accept_local=1"
  done
else
  # Each end's receive work on its own side's core (veth would run it on the sender's).
  ip netns exec "$ns" sh -c "echo 1 > /sys/class/net/${veth}s/queues/rx-0/rps_cpus"
  ip netns exec "$cns" sh -c "echo 2 > /sys/class/net/${veth}c/queues/rx-0/rps_cpus"
fi

# wait_http URL NAME PID: polls URL from inside the namespace until it answers.
wait_http() {
  for _ in $(seq 400); do
    ip netns exec "$cns" curl -sf -o /dev/null --max-time 1 "$1" && return
    kill -0 "$3" 2>/dev/null || break
    sleep 0.05
  done
  echo "$2 did not start"; tail -30 "$work/$2.log"; exit 1
}

# run_driver NAME SERVER_PID ARGS…: one driver run (signalling and measurements) on core 1;
# its results go to $work/NAME.json, its progress and the media client's log to stderr / files.
# In the background and waited for, so that a signal to the script stops the run at once.
run_driver() {
  local name=$1 pid=$2 driver_pid; shift 2
  ip netns exec "$cns" taskset -c 1 node "${node_flags[@]}" bench/sfu_load/driver.mjs \
    --server "$name" --pid "$pid" --client "$SFU_LOAD_BIN" --bind "$CLIENT_IP" \
    --publishers "$PUBLISHERS" --steps "$SUBSCRIBER_STEPS" --step-s "$STEP_S" \
    --warmup-s "$WARMUP_S" --video-kbps "$VIDEO_KBPS" --pacing-factor "$PACING_FACTOR" \
    --client-log "$work/$name-client.log" \
    --out "$work/$name.json" "$@" &
  driver_pid=$!
  pids+=("$driver_pid")
  wait "$driver_pid" || { echo "$name: the driver failed (logs: KEEP_LOGS=dir)"; exit 1; }
}

# check_comm PID NAME: the pid measured is the server itself (ip netns exec and taskset exec into
# it), not a wrapper: its CPU and RSS are what the table shows.
check_comm() {
  local comm
  comm=$(cat "/proc/$1/comm")
  [[ $comm == "$2" ]] || { echo "pid $1 is $comm, not $2"; exit 1; }
}

stop_pid() {
  kill "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# start_janus: Debian's Janus from a configuration written here, never the system service. Only
# the VideoRoom plugin and the HTTP transport are loaded (folders of symlinks to just those two),
# no event handlers or loggers, no admin API, no recording; ICE-lite with the one server address,
# like Ruche; media on JANUS_EVENT_LOOPS event loops (1: one media thread, as Ruche's one worker).
start_janus() {
  local dir=$work/janus lib
  lib=$(dpkg -L janus | sed -n 's#/plugins/libjanus_videoroom\.so$##p')
  mkdir -p "$dir/plugins" "$dir/transports" "$dir/none"
  ln -s "$lib/plugins/libjanus_videoroom.so" "$dir/plugins/"
  ln -s "$lib/transports/libjanus_http.so" "$dir/transports/"
  cat > "$dir/janus.jcfg" <<CFG
general: {
  configs_folder = "$dir"
  plugins_folder = "$dir/plugins"
  transports_folder = "$dir/transports"
  events_folder = "$dir/none"
  loggers_folder = "$dir/none"
  debug_level = ${JANUS_DEBUG_LEVEL:-3}
  server_name = "ruche-bench"
  session_timeout = 60
  event_loops = $JANUS_EVENT_LOOPS
}
media: {
  ipv6 = false
  rtp_port_range = "20000-39999"
}
nat: {
  ice_lite = true
  ice_enforce_list = "$SERVER_IP"
  ignore_mdns = true
  nice_debug = false
}
plugins: {
}
transports: {
}
loggers: {
}
events: {
  broadcast = false
}
CFG
  cat > "$dir/janus.transport.http.jcfg" <<CFG
general: {
  events = false
  json = "compact"
  base_path = "/janus"
  http = true
  port = $JANUS_HTTP_PORT
  ip = "$SERVER_IP"
  https = false
}
admin: {
  admin_http = false
  admin_https = false
}
CFG
  cat > "$dir/janus.plugin.videoroom.jcfg" <<CFG
general: {
  events = false
  string_ids = false
}
CFG
  ip netns exec "$ns" taskset -c 0 janus --config "$dir/janus.jcfg" --configs-folder "$dir" \
    --disable-colors > "$work/janus.log" 2>&1 &
  janus_pid=$!  # not through in_ns: a backgrounded function would be a subshell's pid
  pids+=("$janus_pid")
  wait_http "http://$SERVER_IP:$JANUS_HTTP_PORT/janus/info" janus "$janus_pid"
  check_comm "$janus_pid" janus
}

# start_ruche: one I/O thread and one SFU worker on core 0, media on SERVER_IP; a user made
# with `admin create-user` before start (it creates the meeting); room for every participant;
# cheap argon2id for the set-up only. Signalling needs 3 messages per socket: under the limits.
start_ruche() {
  local data=$work/ruche-data
  "$RUCHE" admin create-user bench --password 'bench password 1' --data "$data" \
    --set auth.password_hash_ops=1 --set auth.password_hash_mem_kib=8 >/dev/null
  ip netns exec "$ns" taskset -c 0 "$RUCHE" serve --listen "$SERVER_IP:$RUCHE_HTTP_PORT" \
    --data "$data" --rtc-udp-port "$RUCHE_UDP_PORT" --log-level "${RUCHE_LOG_LEVEL:-warn}" \
    --no-bootstrap-admin \
    --set io_threads=1 --set rtc_workers=1 --set presence.enabled=false \
    --set auth.password_hash_ops=1 --set auth.password_hash_mem_kib=8 \
    --set "limits.meeting_participants=$((PUBLISHERS + max_sub))" \
    ${RUCHE_SET:+--set "$RUCHE_SET"} \
    > "$work/ruche.log" 2>&1 &
  ruche_pid=$!
  pids+=("$ruche_pid")
  wait_http "http://$SERVER_IP:$RUCHE_HTTP_PORT/healthz" ruche "$ruche_pid"
  check_comm "$ruche_pid" "$(basename "$RUCHE" | cut -c1-15)"
}

results=()
if want janus; then
  echo "== Janus: $PUBLISHERS publishers, subscribers $SUBSCRIBER_STEPS, ${STEP_S}s each" >&2
  start_janus
  run_driver janus "$janus_pid" --url "http://$SERVER_IP:$JANUS_HTTP_PORT/janus"
  stop_pid "$janus_pid"
  results+=("$work/janus.json")
fi
if want ruche; then
  echo "== Ruche: $PUBLISHERS publishers, subscribers $SUBSCRIBER_STEPS, ${STEP_S}s each" >&2
  start_ruche
  run_driver ruche "$ruche_pid" --url "http://$SERVER_IP:$RUCHE_HTTP_PORT" \
    --user bench --password 'bench password 1'
  stop_pid "$ruche_pid"
  results+=("$work/ruche.json")
fi
((${#results[@]})) || { echo "PEERS names neither janus nor ruche"; exit 1; }
echo "$PUBLISHERS publishers (Opus 50 packets/s + VP8 30 fps at $VIDEO_KBPS kbit/s), each" \
  "subscriber receiving all of them; ${STEP_S}s windows after ${WARMUP_S}s warm-up;" \
  "servers on core 0, load on core 1 ($(nproc) cores, $(uname -r)), NET_LAYOUT=$NET_LAYOUT," \
  "PACING_FACTOR=$PACING_FACTOR."
echo
node bench/sfu_load/driver.mjs --report "${results[@]}"
