#!/usr/bin/env bash
# Builds release tarballs for the boxes centres have: x86_64, aarch64 (Raspberry Pi 3/4/5 with a
# 64-bit system) and armv7 (older Pis, 32-bit systems).
#
#   scripts/release.sh [TARGET ...]     default: all three
#
# Installs what it needs (Rust targets with rustup, Debian's cross gcc, qemu-user, file),
# builds each, checks the binary's architecture with `file` and `readelf`, runs
# `hoclieu --version` and `hoclieu check` on it (under qemu-user for ARM), and writes
# target/release-dist/hoclieu-VERSION-TARGET.tar.gz holding the binary, install.sh, the systemd
# unit, the example settings, README.md and SHA256SUMS.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
OUT=$REPO/target/release-dist
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf)
mkdir -p "$OUT"

need_pkgs=()
command -v file >/dev/null || need_pkgs+=(file)
command -v readelf >/dev/null || need_pkgs+=(binutils)
for t in "${TARGETS[@]}"; do
  case $t in
    aarch64-*) command -v aarch64-linux-gnu-gcc >/dev/null || need_pkgs+=(gcc-aarch64-linux-gnu)
               command -v qemu-aarch64 >/dev/null || need_pkgs+=(qemu-user) ;;
    armv7-*) command -v arm-linux-gnueabihf-gcc >/dev/null || need_pkgs+=(gcc-arm-linux-gnueabihf)
             command -v qemu-arm >/dev/null || need_pkgs+=(qemu-user) ;;
  esac
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

summary=()
for t in "${TARGETS[@]}"; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
  case $t in
    x86_64-*) gcc=gcc; machine="X86-64"; run=() ;;
    aarch64-*) gcc=aarch64-linux-gnu-gcc; machine="AArch64"; run=(qemu-aarch64 -L /usr/aarch64-linux-gnu) ;;
    armv7-*) gcc=arm-linux-gnueabihf-gcc; machine="ARM"; run=(qemu-arm -L /usr/arm-linux-gnueabihf) ;;
    *) echo "unknown target $t"; exit 1 ;;
  esac
  up=$(echo "$t" | tr 'a-z-' 'A-Z_')
  echo "== $t"
  env "CARGO_TARGET_${up}_LINKER=$gcc" "CC_${t//-/_}=$gcc" \
    cargo build --release --locked --target "$t" --quiet
  bin=$REPO/target/$t/release/hoclieu
  file "$bin"
  readelf -h "$bin" | grep -q "Machine:.*$machine" || { echo "$bin is not $machine"; exit 1; }
  "${run[@]}" "$bin" --version
  "${run[@]}" "$bin" check >/dev/null
  name=hoclieu-$VERSION-$t
  stage=$OUT/$name
  rm -rf "$stage" && mkdir -p "$stage"
  cp "$bin" "$stage/hoclieu"
  cp scripts/install.sh scripts/dist/hoclieu.service scripts/dist/hoclieu.toml.example README.md "$stage/"
  (cd "$stage" && sha256sum hoclieu install.sh hoclieu.service hoclieu.toml.example README.md > SHA256SUMS)
  tar -C "$OUT" -czf "$OUT/$name.tar.gz" "$name"
  (cd "$OUT" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
  size=$(du -h "$stage/hoclieu" | cut -f1)
  summary+=("$name.tar.gz  (binary $size; --version and check ran ${run[0]:+under ${run[0]}})")
done
echo
echo "Written to $OUT:"
printf '  %s\n' "${summary[@]}"
