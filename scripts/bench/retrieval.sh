#!/usr/bin/env bash
# Search quality on the Vietnamese retrieval sets in ../shared/bench/retrieval (or
# $HOCLIEU_RETRIEVAL_DIR): recall@1/5/10 and MRR@10 for hoclieu, a plain tantivy BM25 and the
# published baseline, with queries as typed and without diacritics. Writes scripts/bench/retrieval.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo bench --bench retrieval
