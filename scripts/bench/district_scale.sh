#!/usr/bin/env bash
# Simulates Vietnam's community learning centres sending a year of signed summaries to one
# instance, imports them, exports Parquet and runs the national report in DuckDB (its Python
# package, installed here into target/duckdb-venv). Writes scripts/bench/district-scale.md.
#   scripts/bench/district_scale.sh [CENTRES]     (default 11000)
set -euo pipefail
cd "$(dirname "$0")/../.."
CENTRES=${1:-11000}
OUT=target/district-scale
if [ ! -x target/duckdb-venv/bin/python ]; then
  python3 -m venv target/duckdb-venv
  target/duckdb-venv/bin/pip install -q duckdb
fi
CENTRES=$CENTRES cargo bench --bench district_scale -- "$OUT" | tail -n 1 > "$OUT.json"
{
  echo "# District and national scale (benches/district_scale.rs, scripts/bench/district_duckdb.py)"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
  echo "DuckDB $(target/duckdb-venv/bin/python -c 'import duckdb; print(duckdb.__version__)')."
  echo
  target/duckdb-venv/bin/python scripts/bench/district_duckdb.py "$OUT/parquet" "$OUT.json"
} > scripts/bench/district-scale.md
cat scripts/bench/district-scale.md
