#!/usr/bin/env bash
# Indexing a ZIM collection on the release server: time, articles/s, peak and idle memory,
# index size (the 200k-article run against kiwix-serve is zim_scale.sh).
#
#   scripts/bench/zim_index.sh FILE.zim        SMALL_BOX=1: one core (taskset)
set -euo pipefail
cd "$(dirname "$0")/../.."
ZIM=$(realpath "$1")
cargo build --release --quiet
BIN=$PWD/target/release/hoclieu
WORK=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/data/zim"
ln -s "$ZIM" "$WORK/data/zim/$(basename "$ZIM")"
PORT=$((20000 + RANDOM % 10000))
PIN=(); [ -n "${SMALL_BOX:-}" ] && PIN=(taskset -c 0)
start=$(date +%s%N)
RUST_LOG=hoclieu=info "${PIN[@]}" "$BIN" serve --no-mdns --data "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/log" 2>&1 &
PID=$!
until python3 - "$WORK" <<'PY'
import json, sys, glob
d = glob.glob(sys.argv[1] + "/data/zim-index/*/meta.json")
try:
    p = json.loads(json.load(open(d[0]))["payload"])
except Exception:
    sys.exit(1)
sys.exit(0 if p["done"] == p["total"] else 1)
PY
do sleep 0.5; done
secs=$(( ($(date +%s%N) - start) / 1000000 ))
peak=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$PID/status)
sleep 6
idle=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$PID/status)
anon=$(awk '/RssAnon/ {printf "%.1f", $2/1024}' /proc/$PID/status)
total=$(python3 -c "import json,glob; print(json.loads(json.load(open(glob.glob('$WORK/data/zim-index/*/meta.json')[0]))['payload'])['total'])")
size=$(du -sm "$WORK"/data/zim-index | cut -f1)
echo "articles: $total, from start to indexed: $secs ms ($(( total * 1000 / secs )) articles/s including start and check)"
echo "peak RSS: $peak MB, idle RSS after: $idle MB (own heap $anon MB), index: $size MB, ZIM: $(du -m "$ZIM" | cut -f1) MB"
grep "indexing ZIM collection\|checked whole" "$WORK/log" | tail -3
