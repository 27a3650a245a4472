#!/usr/bin/env bash
# Makes (once) a Debian trixie root under target/bench/kiwix-root with kiwix-tools 3.7.0 and
# zim-tools, and mounts its /proc; prints the root's path. The caller unmounts
# ROOT/proc when done (or the tree under target/ can never be removed).
#
#   ROOTFS=$(scripts/bench/kiwix_root.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
ROOTFS=$REPO/target/bench/kiwix-root
mkdir -p "$REPO/target/bench"
if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
if [ ! -x "$ROOTFS/usr/bin/kiwix-serve" ]; then
  mirror=$("$REPO/scripts/apt-mirror.sh")
  echo "installing kiwix-serve 3.7.0 into $ROOTFS (Debian trixie, from $mirror)" >&2
  debootstrap --variant=minbase --include=kiwix-tools,zim-tools,curl trixie "$ROOTFS" "$mirror" \
    >"$REPO/target/bench/debootstrap.log" 2>&1 \
    || { echo "debootstrap failed; see target/bench/debootstrap.log:" >&2; tail -5 "$REPO/target/bench/debootstrap.log" >&2; exit 1; }
fi
mkdir -p "$ROOTFS/proc"
mountpoint -q "$ROOTFS/proc" || mount -t proc proc "$ROOTFS/proc"
echo "$ROOTFS"
