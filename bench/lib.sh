# Shared by the bench scripts that drive ruche_loadgen (fanout.sh, soak.sh): a scratch folder
# cleaned up on exit, free ports, the generator on core 1 and Ruche on core 0.
# Expects RUCHE and LOADGEN set; sets work, pids, ruche_port, ruche_pid.
ulimit -n 65536 2>/dev/null || true

work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup_hooks=()  # commands run first on exit (e.g. stopping ejabberd)
cleanup() {
  for hook in "${cleanup_hooks[@]}"; do eval "$hook" || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
loadgen() {
  taskset -c 1 "$LOADGEN" "$@" 2>>"$work/loadgen.log" || { tail -5 "$work/loadgen.log" >&2; return 1; }
}

# start_ruche NAME [--set k=v ...]: one I/O thread on core 0, open registration, rate limits
# and argon2id cost relaxed for the set-up only (the defaults are unchanged elsewhere). Presence is
# off (RUCHE_PRESENCE=true turns it on): 1,000 members coming online at once is an O(N²) presence
# storm that would be measured instead of the message fanout.
start_ruche() {
  local name=$1; shift
  ruche_port=$(free_port)
  taskset -c 0 "$RUCHE" serve --listen "127.0.0.1:$ruche_port" --data "$work/$name" \
    --registration open --log-level ${RUCHE_LOG_LEVEL:-warn} --set io_threads=1 --set bootstrap_admin=false \
    --set auth.password_hash_ops=1 --set auth.password_hash_mem_kib=8 \
    --set limits.register_per_ip_per_second=1000000 --set limits.register_per_ip_burst=1000000 \
    --set limits.send_per_user_per_second=1000000 --set limits.send_per_user_burst=1000000 \
    --set limits.send_per_room_per_second=1000000 --set limits.send_per_room_burst=1000000 \
    --set "presence.enabled=${RUCHE_PRESENCE:-false}" \
    "$@" > "$work/$name.log" 2>&1 &
  ruche_pid=$!
  pids+=("$ruche_pid")
  for _ in $(seq 400); do curl -sf -o /dev/null "http://127.0.0.1:$ruche_port/healthz" && return; sleep 0.025; done
  echo "ruche did not start"; cat "$work/$name.log"; exit 1
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# field NAME LINE: the value of NAME=value in one of the generator's STEP lines.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
