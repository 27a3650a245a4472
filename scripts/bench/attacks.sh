#!/usr/bin/env bash
# The attacks of issue 14 against the release binary on 1 core and 512 MB: for each, a fresh
# server process (taskset -c 0, a 512 MB memory cgroup, ulimit -n 1024, the same data folder
# with a 50 MB and a 60 MB video) is attacked from 127.0.0.1 while a normal visitor on
# 127.0.0.2 opens the home page, a search and a material page every half second (keeping its
# cookie), a manager on 127.0.0.3 uploads a file, and the RSS is sampled every 0.1 s. After
# each: was the server up throughout, the largest RSS, the visitor's worst latency, whether
# every visit the visitor got an answer for is in the usage records and the upload is on disk.
#
#   scripts/bench/attacks.sh [ATTACK...]     default all; writes scripts/bench/attacks.md
#   BIN=path/to/hoclieu scripts/bench/attacks.sh    use that binary (default: cargo build --release)
#   scripts/bench/attacks.py list            the attacks' names
#   STALLED=600 SLOWLORIS=600 PORT=18940 MEM_MB=512 NO_CGROUP=1 (skip the cgroups, to try the fallbacks)
#
# Pass: up, visitor ≤ 2 s and never failed, RSS < 100 MB, nothing acknowledged lost (and, per
# attack, participants not inflated, no page pointing into /admin). Exits 1 if any attack fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
HERE=$REPO/scripts/bench
WORK=$REPO/target/bench/attacks
OUT=${OUT:-$HERE/attacks.md}
PORT=${PORT:-18940}
MEM_MB=${MEM_MB:-512}
PY=(python3 -B "$HERE/attacks.py")
# The clients on the other core, where there is one, so they do not take the server's.
CLIENT_CPU=()
[ "$(nproc)" -ge 2 ] && CLIENT_CPU=(taskset -c 1)
read -r -a ATTACKS <<<"${*:-$("${PY[@]}" list)}"

command -v taskset >/dev/null || { apt-get update -qq && apt-get install -y -qq util-linux >/dev/null; }
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }

if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=$REPO/target/release/hoclieu
fi
BIN=$(realpath "$BIN")
[ -x "$BIN" ] || { echo "no binary at $BIN"; exit 1; }

# --- the memory limit: a child of our own cgroup (v1), else cgroup v2, else systemd-run ----
CG=""
CG_KIND=""
LIMIT=$((MEM_MB * 1024 * 1024))
own_v1=$(awk -F: '$2=="memory" {print $3}' /proc/self/cgroup)
own_v2=$(awk -F: '$1=="0" {print $3}' /proc/self/cgroup)
if [ -n "${NO_CGROUP:-}" ]; then
  own_v1=""; own_v2=""  # to try the fallbacks
fi
if [ -n "$own_v1" ] && [ -d "/sys/fs/cgroup/memory$own_v1" ]; then
  try=/sys/fs/cgroup/memory${own_v1%/}/hoclieu-attacks-$$
  if mkdir "$try" 2>/dev/null && echo "$LIMIT" >"$try/memory.limit_in_bytes" 2>/dev/null; then
    [ -e "$try/memory.memsw.limit_in_bytes" ] && echo "$LIMIT" >"$try/memory.memsw.limit_in_bytes" 2>/dev/null || true
    CG=$try; CG_KIND="cgroup v1 memory.limit_in_bytes=${MEM_MB}M$([ -e "$try/memory.memsw.limit_in_bytes" ] && echo ", memsw too")"
  else
    rmdir "$try" 2>/dev/null || true
  fi
fi
if [ -z "$CG" ] && [ -f /sys/fs/cgroup/cgroup.controllers ] && [ -n "$own_v2" ]; then
  try=/sys/fs/cgroup${own_v2%/}/hoclieu-attacks-$$
  if mkdir "$try" 2>/dev/null && echo "$LIMIT" >"$try/memory.max" 2>/dev/null; then
    echo 0 >"$try/memory.swap.max" 2>/dev/null || true
    CG=$try; CG_KIND="cgroup v2 memory.max=${MEM_MB}M"
  else
    rmdir "$try" 2>/dev/null || true
  fi
fi
SYSTEMD_RUN=()
if [ -z "$CG" ] && command -v systemd-run >/dev/null \
   && timeout 10 systemd-run --scope --quiet -p MemoryMax=${MEM_MB}M true 2>/dev/null; then
  SYSTEMD_RUN=(systemd-run --scope --quiet -p "MemoryMax=${MEM_MB}M" -p MemorySwapMax=0)
  CG_KIND="systemd-run --scope MemoryMax=${MEM_MB}M"
fi
if [ -z "$CG" ] && [ ${#SYSTEMD_RUN[@]} -eq 0 ]; then
  CG_KIND="**NONE: no memory limit could be set; these figures are without the limit**"
  for _ in 1 2 3; do echo "!!!!! WARNING: no memory cgroup could be made; the server runs WITHOUT the ${MEM_MB} MB limit !!!!!" >&2; done
fi

# --- cleanup: every process started here, by PID ------------------------------------------
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill "$PID" 2>/dev/null || true; sleep 1; kill -9 "$PID" 2>/dev/null || true; fi
  if [ -n "${HELPER:-}" ] && kill -0 "$HELPER" 2>/dev/null; then kill "$HELPER" 2>/dev/null || true; fi
  if [ -n "$CG" ] && [ -d "$CG" ]; then
    # Anything still in the group was started here.
    for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    sleep 0.5; rmdir "$CG" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- a fresh data folder ---------------------------------------------------------------------
rm -rf "$WORK" && mkdir -p "$WORK"
DATA=$WORK/data
LOG=$WORK/server.log
mkdir -p "$DATA"
"${PY[@]}" setup "$DATA"
printf '%s\n' "mat-khau-quan-ly-2026" | "$BIN" admin set-password --data "$DATA" --user quanly --role manager >/dev/null
"$BIN" check --data "$DATA" >"$WORK/check.log" 2>&1 || { echo "note: hoclieu check found problems (see $WORK/check.log)"; }

start_server() {
  echo "--- start for $1 ---" >>"$LOG"
  if [ -n "$CG" ]; then
    # The shell joins the group and becomes the server, so only the server is limited.
    bash -c 'echo $$ >"$1/cgroup.procs" && ulimit -n 1024 && shift && exec taskset -c 0 "$@"' _ "$CG" \
      "$BIN" serve --no-mdns --data "$DATA" --listen "127.0.0.1:$PORT" >>"$LOG" 2>&1 &
  else
    "${SYSTEMD_RUN[@]}" bash -c 'ulimit -n 1024 && exec taskset -c 0 "$@"' _ \
      "$BIN" serve --no-mdns --data "$DATA" --listen "127.0.0.1:$PORT" >>"$LOG" 2>&1 &
  fi
  PID=$!
  local t0=$SECONDS
  until curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/healthz"; do
    if [ $((SECONDS - t0)) -gt 120 ] || ! kill -0 "$PID" 2>/dev/null; then
      echo "the server did not start for $1"; tail -20 "$LOG"; exit 1
    fi
    sleep 0.1
  done
  # With systemd-run --scope the PID is systemd-run's until it execs; the server is the same PID.
}
stop_server() {
  if kill -0 "$PID" 2>/dev/null; then
    kill "$PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$PID" 2>/dev/null || true
  fi
  wait "$PID" 2>/dev/null || true
  PID=""
}

RESULTS=$WORK/results.jsonl
: >"$RESULTS"
t_all=$SECONDS
for a in "${ATTACKS[@]}"; do
  "${PY[@]}" prepare "$a" "$DATA"
  start_server "$a"
  echo "== $a (server pid $PID, RSS $(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' /proc/$PID/status))"
  "${CLIENT_CPU[@]}" "${PY[@]}" run "$a" --port "$PORT" --pid "$PID" --data "$DATA" --bin "$BIN" ${CG:+--cgroup "$CG"} \
    >"$WORK/$a.json" 2>"$WORK/$a.err" &
  HELPER=$!
  wait "$HELPER" || { echo "the harness failed on $a:"; tail -5 "$WORK/$a.err"; }
  HELPER=""
  if tail -1 "$WORK/$a.json" | grep -q '^{'; then tail -1 "$WORK/$a.json" >>"$RESULTS"; else echo "{\"attack\": \"$a\", \"error\": true}" >>"$RESULTS"; fi
  python3 -c 'import json,sys; r=json.loads(sys.stdin.readline() or "{}"); print("  ", r.get("verdict", "ERROR"), "; ".join(r.get("why", [])), "|", " / ".join(r.get("notes", [])))' <"$WORK/$a.json" || true
  stop_server
  "${PY[@]}" unprepare "$a" "$DATA"
done
secs=$((SECONDS - t_all))

set +e
TABLE=$("${PY[@]}" table "$RESULTS")
all_pass=$?
set -e
kernel=$(uname -r)
cpu=$(awk -F: '/model name/ {gsub(/^ +/, "", $2); print $2; exit}' /proc/cpuinfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
bin_note="$BIN ($(stat -c %y "$BIN" | cut -d. -f1), $("$BIN" --version 2>/dev/null || echo "?"))"
{
  echo "# Attacks of issue 14 on 1 core and ${MEM_MB} MB"
  echo
  echo "Generated by \`scripts/bench/attacks.sh${*:+ $*}\` on $(date -u '+%F %H:%M') UTC, commit $commit, binary $bin_note."
  echo "Machine: $(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $kernel."
  echo "The server: \`taskset -c 0\`, memory limit: $CG_KIND, \`ulimit -n 1024\`, a fresh data folder with a 50 MB and a 60 MB video, started afresh for each attack (peak RSS reset after the start)."
  echo "The attacks come from 127.0.0.1 $([ ${#CLIENT_CPU[@]} -gt 0 ] && echo 'on the other core (taskset -c 1)' || echo 'on the same core'); the normal visitor (127.0.0.2) opens \`/\`, a search and a material page every 0.5 s with its cookie kept (a request not answered 200 within 10 s counts as failed); a manager (127.0.0.3) uploads a 200 KB PDF 1 s into each attack; VmRSS/VmHWM sampled every 0.1 s."
  echo "Pass: server up throughout, every visitor request answered within 2 s, RSS < 100 MB, every acknowledged visit in the usage records and the acknowledged upload on disk. Whole run: ${secs} s."
  echo
  echo "$TABLE"
} >"$OUT"
echo
cat "$OUT"
exit $all_pass
