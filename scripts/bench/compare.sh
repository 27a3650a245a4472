#!/usr/bin/env bash
# Two hoclieu binaries side by side on the same generated library: did a change make search,
# suggestions or pages slower? Runs each cell for both binaries in turn (A, B, A, B…), so that
# the machine's drift hits both alike, and prints the median of the rounds.
#
#   scripts/bench/compare.sh BIN_A BIN_B [N]     N materials (default 10000)
#   DURATION=5 ROUNDS=3 (seconds per cell, rounds per cell)
#
# Example (before/after a refactor):
#   git worktree add /tmp/before HEAD~5 && (cd /tmp/before && cargo build --release)
#   cargo build --release
#   scripts/bench/compare.sh /tmp/before/target/release/hoclieu target/release/hoclieu
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
A=$(realpath "$1"); B=$(realpath "$2"); N=${3:-10000}
DURATION=${DURATION:-5}; ROUNDS=${ROUNDS:-3}
WORK=$REPO/target/bench/compare-$N
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if [ ! -f "$WORK/.generated" ]; then
  rm -rf "$WORK"; mkdir -p "$WORK"
  python3 scripts/bench/gen_library.py "$N" "$WORK/lib" "$WORK/html" "$WORK/paths"
  touch "$WORK/.generated"
fi
wait_http() {
  local deadline=$((SECONDS + $2))
  until curl -fs -o /dev/null "$1"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}
# wrk cell: port, paths file, connections -> "req/s p99"
cell() {
  local threads=1; [ "$3" -gt 1 ] && threads=2
  wrk -t$threads -c"$3" -d"${DURATION}s" --latency -s "$REPO/scripts/bench/rotate.lua" \
    "http://127.0.0.1:$1" -- "$2" 2>&1 |
    awk '/Requests\/sec/ {r=$2} $1=="99%" {p=$2} END {printf "%.0f %s\n", r, p}'
}
start() { # binary, data dir, port
  "$1" serve --library "$WORK/lib" --data "$2" --listen "127.0.0.1:$3" >>"$WORK/servers.log" 2>&1 &
  PID=$!
  wait_http "http://127.0.0.1:$3/healthz" 600
}
PA=$((20000 + RANDOM % 10000)); PB=$((PA + 1))
# Each binary keeps its own data folder (the index formats may differ).
start "$A" "$WORK/data-a" $PA; PIDA=$PID
start "$B" "$WORK/data-b" $PB; PIDB=$PID
trap 'kill $PIDA $PIDB 2>/dev/null || true' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| endpoint | conc. | A req/s | A p99 | B req/s | B p99 | B/A |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for ep in search suggest page; do
  for c in 1 16 64; do
    ra=(); rb=(); pa=(); pb=()
    for _ in $(seq "$ROUNDS"); do
      read -r r p <<<"$(cell $PA "$WORK/paths/hoclieu-$ep.txt" $c)"; ra+=("$r"); pa+=("$p")
      read -r r p <<<"$(cell $PB "$WORK/paths/hoclieu-$ep.txt" $c)"; rb+=("$r"); pb+=("$p")
    done
    mra=$(printf '%s\n' "${ra[@]}" | median); mrb=$(printf '%s\n' "${rb[@]}" | median)
    # p99 as wrk prints it (with its unit); the median round by throughput is not tracked.
    echo "| $ep | $c | $mra | ${pa[*]} | $mrb | ${pb[*]} | $(awk "BEGIN{printf \"%.2f\", $mrb/$mra}") |"
  done
done
