#!/usr/bin/env bash
# Prints the Debian mirror this machine's apt uses, for debootstrap: the first enabled `deb`
# entry that is not a security suite, from deb822 files (/etc/apt/sources.list.d/*.sources) and
# one-line lists (/etc/apt/sources.list, sources.list.d/*.list), comments ignored. Prints
# http://deb.debian.org/debian when there is none (or no such file at all).
#
#   mirror=$(scripts/apt-mirror.sh)
set -uo pipefail
APT_DIR=${APT_DIR:-/etc/apt}

found=$(
  {
    for f in "$APT_DIR"/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      # One paragraph per entry, blank lines between; "Field: value" lines, '#' comments.
      awk '
        function flush() {
          if (uris != "" && types ~ /(^| )deb( |$)/ && enabled !~ /^no$/ && suites !~ /security/ && uris !~ /security/) {
            split(uris, u, " "); print u[1]
          }
          uris = ""; types = ""; suites = ""; enabled = ""
        }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        {
          field = tolower($1); sub(/:$/, "", field)
          value = $0; sub(/^[^:]*:[ \t]*/, "", value); sub(/[ \t]*#.*/, "", value)
          if (field == "uris") uris = value
          else if (field == "types") types = value
          else if (field == "suites") suites = value
          else if (field == "enabled") enabled = tolower(value)
        }
        END { flush() }
      ' "$f"
    done
    for f in "$APT_DIR"/sources.list "$APT_DIR"/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      # deb [options] URI suite components...
      awk '
        /^[ \t]*#/ { next }
        $1 == "deb" {
          i = 2
          if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
          uri = $i; suite = $(i + 1)
          if (uri != "" && suite !~ /security/ && uri !~ /security/) print uri
        }
      ' "$f"
    done
  } | head -1
)
echo "${found:-http://deb.debian.org/debian}"
