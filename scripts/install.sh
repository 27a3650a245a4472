#!/usr/bin/env bash
# Installs (or upgrades) hoclieu as a system service on a Debian-family box.
#
#   sudo scripts/install.sh [BINARY]      install or upgrade, start, print the address
#   sudo scripts/install.sh --uninstall   stop and remove the program; keep records and settings
#   sudo scripts/install.sh --purge       also delete /var/lib/hoclieu and /etc/hoclieu
#
# BINARY defaults to ./hoclieu (as in a release tarball), else target/release/hoclieu.
# Upgrading keeps /var/lib/hoclieu (records, lessons, the centre's materials) and
# /etc/hoclieu/hoclieu.toml. ROOT=/some/dir installs into that tree without touching users or
# systemd (used by the tests).
set -euo pipefail

ROOT=${ROOT:-}
here=$(cd "$(dirname "$0")" && pwd)
dist=$here/dist
[ -d "$dist" ] || dist=$here   # in a release tarball the files sit beside this script
BIN_DIR=$ROOT/usr/local/bin
DATA=$ROOT/var/lib/hoclieu
CONF_DIR=$ROOT/etc/hoclieu
UNIT=$ROOT/etc/systemd/system/hoclieu.service
DOC=$ROOT/usr/local/share/doc/hoclieu

say() { printf '%s\n' "$*"; }
real_system() { [ -z "$ROOT" ]; }

if real_system && [ "$(id -u)" -ne 0 ]; then
  say "Please run as root: sudo $0 $*"
  exit 1
fi

uninstall() {
  if real_system; then
    systemctl disable --now hoclieu.service 2>/dev/null || true
  fi
  rm -f "$UNIT" "$BIN_DIR/hoclieu"
  rm -rf "$DOC"
  if real_system; then systemctl daemon-reload || true; fi
  if [ "${1:-}" = purge ]; then
    rm -rf "$DATA" "$CONF_DIR"
    say "hoclieu removed, with its records and settings."
  else
    say "hoclieu removed. Records and settings are kept in $DATA and $CONF_DIR."
  fi
}

case "${1:-}" in
  --uninstall) uninstall; exit 0 ;;
  --purge) uninstall purge; exit 0 ;;
esac

bin=${1:-}
if [ -z "$bin" ]; then
  for c in "$here/hoclieu" "$here/../target/release/hoclieu"; do
    [ -x "$c" ] && bin=$c && break
  done
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  say "No hoclieu program found; give its path: $0 path/to/hoclieu"
  exit 1
fi
"$bin" --version >/dev/null 2>&1 || { say "$bin does not run on this machine (wrong architecture?)"; exit 1; }

# A system user without a login, owning only the data folder.
if real_system && ! id hoclieu >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/hoclieu --no-create-home --shell /usr/sbin/nologin hoclieu
fi
mkdir -p "$BIN_DIR" "$DATA" "$CONF_DIR" "$(dirname "$UNIT")" "$DOC"
chmod 0750 "$DATA"
if real_system; then chown hoclieu:hoclieu "$DATA"; fi

# The program: copied beside, then renamed over, so a running server is never half-replaced.
install -m 0755 "$bin" "$BIN_DIR/.hoclieu.new"
mv -f "$BIN_DIR/.hoclieu.new" "$BIN_DIR/hoclieu"

# Settings: installed once, never overwritten.
if [ ! -f "$CONF_DIR/hoclieu.toml" ]; then
  install -m 0644 "$dist/hoclieu.toml.example" "$CONF_DIR/hoclieu.toml"
  say "Settings written to $CONF_DIR/hoclieu.toml: put the centre's name in it."
else
  say "Settings kept: $CONF_DIR/hoclieu.toml"
fi
install -m 0644 "$dist/hoclieu.toml.example" "$DOC/hoclieu.toml.example"
[ -f "$here/../README.md" ] && install -m 0644 "$here/../README.md" "$DOC/README.md"
[ -f "$here/README.md" ] && install -m 0644 "$here/README.md" "$DOC/README.md"
install -m 0644 "$dist/hoclieu.service" "$UNIT"

if real_system; then
  systemctl daemon-reload
  systemctl enable hoclieu.service >/dev/null
  systemctl restart hoclieu.service
  sleep 2
  if ! systemctl is-active --quiet hoclieu.service; then
    say "hoclieu did not start. See: sudo journalctl -u hoclieu -n 50 ; and run: sudo hoclieu doctor --config $CONF_DIR/hoclieu.toml"
    exit 1
  fi
  port=$(hoclieu config --config "$CONF_DIR/hoclieu.toml" | sed -n 's/^listen = "[^"]*:\([0-9]*\)".*/\1/p')
  say "hoclieu is running. On a phone on the same Wi-Fi, open:"
  for ip in $(hostname -I 2>/dev/null); do
    case $ip in *:*) continue ;; esac
    if [ "$port" = 80 ]; then say "  http://$ip/"; else say "  http://$ip:$port/"; fi
  done
  say "Print the poster for the wall from /poster. Set a manager's password: sudo -u hoclieu hoclieu admin set-password --config $CONF_DIR/hoclieu.toml"
else
  say "Installed into $ROOT (no service started)."
fi
