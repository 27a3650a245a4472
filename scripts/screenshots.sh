#!/usr/bin/env bash
# Whole-page screenshots of the main public and staff pages at 360 px (normal and 150 % text),
# from the real binary in headless Chromium, into a folder (default target/screenshots).
# Usage: scripts/screenshots.sh [FOLDER]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/screenshots}"
mkdir -p "$out"
HOCLIEU_SCREENSHOTS="$(cd "$out" && pwd)" \
  cargo test --test browser screenshots::screenshots -- --ignored --exact --nocapture
echo "Screenshots: $out/360/ and $out/360-large-text/"
