# Shared by the benchmarks that run hoclieu beside kiwix-serve (speed.sh, zim_scale.sh);
# sourced, with REPO set. SMALL_BOX=1 pins what `launch` starts to one core and a 512 MB
# memory cgroup. `launch` appends to $LOG and sets PID.
CG=""
if [ -n "${SMALL_BOX:-}" ]; then
  CG=/sys/fs/cgroup/memory/hoclieu-bench
  if [ -d /sys/fs/cgroup/memory ]; then
    mkdir -p "$CG" && echo $((512 * 1024 * 1024)) >"$CG/memory.limit_in_bytes"
  elif [ -d /sys/fs/cgroup/unified ] || [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    base=/sys/fs/cgroup; [ -f $base/cgroup.controllers ] || base=/sys/fs/cgroup/unified
    CG=$base/hoclieu-bench; mkdir -p "$CG" && echo 512M >"$CG/memory.max"
  fi
fi
# Starts a command in the background, pinned to one core and the memory cgroup when small-box.
launch() {
  if [ -n "${SMALL_BOX:-}" ]; then
    # Join the cgroup before exec, so the server never runs outside it.
    (echo $BASHPID >"$CG/cgroup.procs" && exec taskset -c 0 "$@") >>"$LOG" 2>&1 &
  else
    "$@" >>"$LOG" 2>&1 &
  fi
  PID=$!
}
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
wait_http() { # url, timeout seconds
  local deadline=$((SECONDS + $2))
  until curl -fs -o /dev/null "$1"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}
now_ms() { date +%s%3N; }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
# wrk cell: port, paths file, connections -> "req/s p50 p99"
cell() {
  local threads=1; [ "$3" -gt 1 ] && threads=2
  local out
  out=$(wrk -t$threads -c"$3" -d"${DURATION}s" --latency -s "$REPO/scripts/bench/rotate.lua" \
    "http://127.0.0.1:$1" -- "$2" 2>&1)
  local rps p50 p99 errs
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  echo "$rps|$p50|$p99|${errs:-}"
}

