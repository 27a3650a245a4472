#!/usr/bin/env bash
# How well documents are read: the retrieval sets' passages made into PDF, Word and
# LibreOffice files by LibreOffice, read back by hoclieu (and, for PDF, by lopdf and poppler
# as references), compared with their source. Installs LibreOffice and poppler-utils when
# missing (Debian). Writes scripts/bench/extraction.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v soffice >/dev/null || ! command -v pdftotext >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    libreoffice-writer-nogui poppler-utils fonts-dejavu-core fonts-liberation2 >/dev/null
fi
cargo bench --bench extraction
