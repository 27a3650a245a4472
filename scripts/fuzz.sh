#!/usr/bin/env bash
# Fuzzes the paths that read untrusted input, with libFuzzer (cargo-fuzz, nightly toolchain):
# material files, search queries, packages and backups, Range/cookie headers and form bodies.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]    default 60 s, every target
#
# Installs cargo-fuzz from crates.io if needed. Seeds are in fuzz/corpus/<target>/; new inputs
# the fuzzer finds go to target/fuzz-corpus/<target>/ (add the interesting ones to the seeds by
# hand), crashes to fuzz/artifacts/. The dictionary is fuzz/dict/hoclieu.dict. The normal test run replays the corpus
# (tests/it/props.rs), so a crash once found stays tested.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(front_matter search_query package_read range_header)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
TOOLCHAIN=+nightly
rustup toolchain list | grep -q nightly || TOOLCHAIN=""   # stable with RUSTC_BOOTSTRAP below
mkdir -p target/fuzz-logs
failed=0
for t in "${TARGETS[@]}"; do
  echo "== $t ($SECS s)"
  log=target/fuzz-logs/$t.log
  mkdir -p "target/fuzz-corpus/$t"
  if ! RUSTC_BOOTSTRAP=1 cargo $TOOLCHAIN fuzz run "$t" "target/fuzz-corpus/$t" "fuzz/corpus/$t" -- \
      -max_total_time="$SECS" -dict=fuzz/dict/hoclieu.dict -rss_limit_mb=2048 >"$log" 2>&1; then
    failed=1
    grep -E "SUMMARY|Test unit written|panicked|ERROR" "$log" | head -5
  fi
  grep -E "^#[0-9]+.*(DONE|pulse)" "$log" | tail -1
done
exit $failed
