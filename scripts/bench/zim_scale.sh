#!/usr/bin/env bash
# A Wikipedia-sized ZIM on a small box (issue 18): hoclieu and kiwix-serve 3.7.0 on the same
# generated Vietnamese ZIM.
#
#   scripts/bench/zim_scale.sh [N]          default N = 200000 articles
#   SMALL_BOX=1 scripts/bench/zim_scale.sh   hoclieu and kiwix-serve on 1 core, 512 MB
#   DURATION=5 (seconds per wrk cell)
#
# Generates N articles with the speed benchmark's sentence generator (gen_library.py), packs
# them with zimwriterfs (zim-tools 3.5.0 of the trixie root, which also writes kiwix's own
# full-text index into the ZIM), then measures hoclieu indexing it from nothing (articles/s,
# peak RSS, index size), idle RSS, cold start until the collection answers a search, and
# search and article fetches at c=1/16/64 against kiwix-serve; then the retrieval comparison
# of zim_quality.py. Writes scripts/bench/zim-scale.md (zim-scale-small-box.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
N=${1:-200000}
DURATION=${DURATION:-5}
OUT=$REPO/scripts/bench/zim-scale.md
[ -n "${SMALL_BOX:-}" ] && OUT=$REPO/scripts/bench/zim-scale-small-box.md
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
ROOTFS=$("$REPO/scripts/bench/kiwix_root.sh")
D=$REPO/target/bench/n$N
HTML=$ROOTFS/data/html-$N
ZIM=$ROOTFS/data/zim-$N/book.zim
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  umount "$ROOTFS/proc" 2>/dev/null || true
}
trap cleanup EXIT
# shellcheck source=common.sh
source "$REPO/scripts/bench/common.sh"
mkdir -p "$D"
LOG=$D/servers.log
: >"$LOG"

if [ ! -f "$D/.generated" ] || [ ! -d "$HTML" ]; then
  rm -rf "$D/lib" "$D/paths" "$HTML"
  python3 scripts/bench/gen_library.py "$N" "$D/lib" "$HTML" "$D/paths"
  touch "$D/.generated"
fi
if [ ! -f "$ZIM" ] || [ ! -f "$D/zim-build-ms" ]; then
  mkdir -p "$(dirname "$ZIM")"
  rm -f "$ZIM"
  t0=$(now_ms)
  chroot "$ROOTFS" zimwriterfs --welcome=index.html --illustration=illustration.png --language=vie \
    --title="Thư viện $N" --description="Benchmark library" --creator=hoclieu --publisher=hoclieu \
    --name=book "/data/html-$N" "/data/zim-$N/book.zim" >"$D/zimwriterfs.log" 2>&1
  echo $(( $(now_ms) - t0 )) >"$D/zim-build-ms"
fi
zim_build=$(cat "$D/zim-build-ms")
zim_mb=$(du -m "$ZIM" | cut -f1)
sed 's#^/content/book/#/z/book/#' "$D/paths/kiwix-page.txt" >"$D/paths/hoclieu-article.txt"
cp "$D/paths/kiwix-page.txt" "$D/paths/kiwix-article.txt"

cargo build --release --quiet
BIN=$REPO/target/release/hoclieu
DATA=$D/zim-data
rm -rf "$DATA"
mkdir -p "$DATA/zim"
ln -s "$ZIM" "$DATA/zim/book.zim"
PORT=$((20000 + RANDOM % 10000)); KPORT=$((PORT + 1))
payload() { # prints "done total" of the collection's last commit, or nothing
  python3 - "$DATA" <<'PY'
import json, sys, glob
for m in glob.glob(sys.argv[1] + "/zim-index/*/meta.json"):
    try:
        p = json.loads(json.load(open(m))["payload"])
        print(p["done"], p["total"])
    except Exception:
        pass
PY
}
serve() { launch env RUST_LOG=hoclieu=info "$BIN" serve --no-mdns --data "$DATA" --listen "127.0.0.1:$PORT"; PIDS+=("$PID"); }
# Answers once the collection's index answers a search.
collection_answers() {
  curl -fs "http://127.0.0.1:$PORT/api/search?q=lua" 2>/dev/null \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if any(c["hits"] for c in d.get("collections", [])) else 1)' 2>/dev/null
}

# 1. Indexing from nothing: until the last commit says every article is done.
t0=$(now_ms)
serve
HPID=$PID
# RSS counts the index's mapped files too (the kernel drops those pages when it needs the
# room); the program's own memory is RssAnon. Both are sampled, their peaks kept.
peak_anon=0; peak_file=0
while :; do
  read -r done total < <(payload; echo "0 1") || true
  [ "${total:-0}" -gt 0 ] && [ "$done" = "$total" ] && break
  kill -0 $HPID 2>/dev/null || { echo "hoclieu stopped while indexing; see $LOG"; exit 1; }
  read -r anon file < <(awk '/RssAnon/ {a=$2} /RssFile/ {f=$2} END {print a, f}' /proc/$HPID/status)
  [ "${anon:-0}" -gt $peak_anon ] && peak_anon=$anon
  [ "${file:-0}" -gt $peak_file ] && peak_file=$file
  sleep 0.5
done
index_ms=$(( $(now_ms) - t0 ))
articles=$total
peak=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$HPID/status)
sleep 10
idle_after=$(rss_mb $HPID)
idle_anon=$(awk '/RssAnon/ {printf "%.1f", $2/1024}' /proc/$HPID/status)
index_mb=$(du -sm "$DATA/zim-index" | cut -f1)
rates=$(grep -o 'rate="[0-9]*/s"' "$LOG" | sed 's/rate="//; s#/s"##' | sort -n | awk '{a[NR]=$1} END {if (NR) printf "%s–%s", a[1], a[NR]}')
check_ms=$(grep 'checked whole' "$LOG" | grep -o 'ms=[0-9]*' | head -1 | cut -d= -f2)
stop $HPID

# 2. Cold start with the index there: until /healthz, and until the collection answers.
t0=$(now_ms)
serve
HPID=$PID
wait_http "http://127.0.0.1:$PORT/healthz" 120
cold_health=$(( $(now_ms) - t0 ))
until collection_answers; do sleep 0.02; done
cold_search=$(( $(now_ms) - t0 ))
sleep 5
h_idle=$(rss_mb $HPID)
h_idle_anon=$(awk '/RssAnon/ {printf "%.1f", $2/1024}' /proc/$HPID/status)

t0=$(now_ms)
launch chroot "$ROOTFS" kiwix-serve -i 127.0.0.1 -p "$KPORT" "/data/zim-$N/book.zim"
KPID=$PID
PIDS+=("$KPID")
wait_http "http://127.0.0.1:$KPORT/search?content=book&pattern=lua" 120
k_cold=$(( $(now_ms) - t0 ))
sleep 5
k_idle=$(rss_mb $KPID)

{
  echo "# A ${N}-article ZIM: hoclieu and kiwix-serve"
  echo
  echo "Generated by \`scripts/bench/zim_scale.sh $N\`$([ -n "${SMALL_BOX:-}" ] && echo ' with SMALL_BOX=1 (each server pinned to 1 core, 512 MB memory cgroup)')."
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -m). Date: $(date -u +%F). Commit: $(git rev-parse --short HEAD)."
  echo "kiwix-serve $(chroot "$ROOTFS" kiwix-serve --version 2>&1 | head -1 | awk '{print $2}'), zimwriterfs from zim-tools $(chroot "$ROOTFS" zimwriterfs --version 2>&1 | head -1 | awk '{print $2}') (Debian trixie root); wrk on the same machine, ${DURATION} s per cell."
  echo "The ZIM: $articles articles of 300–600 words from the starter library's sentences (gen_library.py), $zim_mb MB with kiwix's full-text index inside."
  echo "hoclieu serves its starter library beside the collection; its search page searches both."
  echo
  echo "| | hoclieu | kiwix-serve |"
  echo "| --- | ---: | ---: |"
  echo "| full-text index built | ${index_ms} ms from start (whole-archive check ${check_ms:-?} ms included), $(( articles * 1000 / index_ms )) articles/s; slices at ${rates} articles/s | by zimwriterfs with the ZIM: ${zim_build} ms for the whole file |"
  echo "| index on disk | ${index_mb} MB (beside the ${zim_mb} MB ZIM) | inside the ZIM |"
  echo "| peak resident memory while indexing (VmHWM) | ${peak} MB | |"
  echo "| of which, at the sampled peaks: the program's own (RssAnon) / the index's mapped files (RssFile) | $((peak_anon / 1024)) MB / $((peak_file / 1024)) MB | |"
  echo "| resident memory 10 s after indexing (own) | ${idle_after} MB (${idle_anon} MB) | |"
  echo "| cold start: until /healthz | ${cold_health} ms | |"
  echo "| cold start: until the collection answers a search | ${cold_search} ms | ${k_cold} ms |"
  echo "| resident memory, idle after cold start (hoclieu's own) | ${h_idle} MB (${h_idle_anon} MB) | ${k_idle} MB |"
  echo
  echo "| endpoint | conc. | hoclieu req/s | p50 | p99 | kiwix req/s | p50 | p99 | throughput ratio |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$OUT"
errors=""
for ep in search article; do
  for c in 1 16 64; do
    hc=$(cell $PORT "$D/paths/hoclieu-$ep.txt" $c)
    kc=$(cell $KPORT "$D/paths/kiwix-$ep.txt" $c)
    IFS='|' read -r hr hp50 hp99 herr <<<"$hc"
    IFS='|' read -r kr kp50 kp99 kerr <<<"$kc"
    ratio=$(awk "BEGIN{ if (${kr:-0} > 0) printf \"%.1f×\", ${hr:-0}/${kr}; else print \"–\" }")
    line="| $ep | $c | ${hr:-0} | $hp50 | $hp99 | ${kr:-0} | $kp50 | $kp99 | $ratio |"
    echo "$line" >>"$OUT"
    echo "$line $herr $kerr"
    [ -n "$herr" ] && errors+="- hoclieu, $ep at c=$c: $herr"$'\n'
    [ -n "$kerr" ] && errors+="- kiwix-serve, $ep at c=$c: $kerr"$'\n'
  done
done
h_load=$(rss_mb $HPID); k_load=$(rss_mb $KPID)
{
  echo
  echo "Search: the HTML results page of each (hoclieu: /search, its materials and the collection; kiwix: /search with pageLength=25), the speed benchmark's 40-query mix. Article: the same 2,000 article paths."
  echo "Resident memory after the runs: hoclieu $h_load MB, kiwix-serve $k_load MB."
  if [ -n "$errors" ]; then
    echo
    echo "wrk reported errors (hoclieu closes connections beyond its per-address limit of 24; wrk connects from one address):"
    echo
    printf "%s" "$errors"
  fi
  echo
  python3 scripts/bench/zim_quality.py generated "$HTML" "http://127.0.0.1:$PORT" "http://127.0.0.1:$KPORT"
} >>"$OUT"
stop $HPID
stop $KPID
cat "$OUT"
echo "written to $OUT"
