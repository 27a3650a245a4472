#!/usr/bin/env bash
# Power cuts for real: runs the release server in a VM (qemu, Debian's kernel, a busybox
# initramfs) on an ext4 disk image while visits and a staff member's picture uploads stream in,
# pulls the plug (SIGKILL to qemu, so the guest's page cache dies) at a random moment, then
# checks the disk: every visit served more than a second before the cut is in the usage
# database, every upload acknowledged more than a second before is there with its SHA-256, no
# file under a final name is partial, the database passes integrity_check, and the server
# starts on the data as left (index reused or rebuilt). Then boots again on the
# same disk for the next cut.
#
#   scripts/powercut/run.sh [CUTS]            default 20; writes scripts/bench/powercut.md
#   UNSAFE=1 scripts/powercut/run.sh 5        synchronous=OFF: shows that the harness sees loss
#
# Installs qemu-system-x86, busybox-static, e2fsprogs and a Debian kernel package.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
CUTS=${1:-20}
WORK=$REPO/target/powercut
OUT=$REPO/scripts/bench/powercut${UNSAFE:+-unsafe}.md
mkdir -p "$WORK"

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] && file -L /bin/busybox | grep -q static || need+=(busybox-static)
command -v debugfs >/dev/null || need+=(e2fsprogs)
command -v depmod >/dev/null || need+=(kmod)
command -v cpio >/dev/null || need+=(cpio)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
KDIR=$WORK/kernel
if [ ! -d "$KDIR/boot" ]; then
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
  (cd "$WORK" && apt-get download "$pkg" 2>/dev/null && dpkg-deb -x "$pkg"_*.deb kernel && rm -f "$pkg"_*.deb)
fi
KVER=$(ls "$KDIR/lib/modules")
depmod -b "$KDIR" "$KVER"
cargo build --release --quiet
BIN=$REPO/target/release/hoclieu

# The initramfs: busybox, the server with the libraries it links, the modules for the disk.
ROOTFS=$WORK/initramfs
rm -rf "$ROOTFS" && mkdir -p "$ROOTFS"/{bin,proc,sys,dev,data,modules,lib64,lib/x86_64-linux-gnu}
cp /bin/busybox "$ROOTFS/bin/busybox" && ln -s busybox "$ROOTFS/bin/sh"
cp scripts/powercut/init "$ROOTFS/init" && chmod +x "$ROOTFS/init"
cp "$BIN" "$ROOTFS/hoclieu"
# curl for the staff member's login and uploads: it waits for whole answers and keeps cookies.
cp "$(command -v curl)" "$ROOTFS/bin/curl"
for lib in $({ ldd "$BIN"; ldd "$(command -v curl)"; } | grep -o '/[^ ]*' | sort -u); do
  mkdir -p "$ROOTFS$(dirname "$lib")" && cp -L "$lib" "$ROOTFS$lib"
done
# Modules for a virtio disk with ext4, dependencies first (from modules.dep).
python3 - "$KDIR/lib/modules/$KVER" "$ROOTFS/modules" <<'PY'
import os, shutil, sys
root, out = sys.argv[1], sys.argv[2]
deps = {}
for line in open(os.path.join(root, "modules.dep")):
    mod, _, rest = line.partition(":")
    deps[mod] = rest.split()
by_name = {os.path.basename(m)[:-3]: m for m in deps}
order = []
def visit(m):
    if m in order:
        return
    for d in deps[m]:
        visit(d)
    order.append(m)
for name in ["virtio_pci", "virtio_blk", "crc32c_generic", "ext4"]:
    visit(by_name[name])
with open(os.path.join(out, "order"), "w") as f:
    for m in order:
        shutil.copy(os.path.join(root, m), out)
        f.write(os.path.basename(m) + "\n")
PY
(cd "$ROOTFS" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$WORK/initrd.gz"

DISK=$WORK/disk.img
rm -f "$DISK" "$WORK"/console-*.log && truncate -s 512M "$DISK" && mkfs.ext4 -q -F "$DISK"

check_copy=$WORK/check
rows=()
passed=0
total_lost=0
for cut in $(seq "$CUTS"); do
  console=$WORK/console-$cut.log
  qemu-system-x86_64 -m 768 -smp 1 -nographic -no-reboot \
    -kernel "$KDIR/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 hl_boot=$cut ${UNSAFE:+hl_unsafe=OFF}" \
    -drive "file=$DISK,format=raw,if=virtio,cache=writeback" >"$console" 2>&1 &
  QEMU=$!
  t0=$SECONDS
  until grep -q "^READY" "$console" 2>/dev/null; do
    if [ $((SECONDS - t0)) -gt 240 ] || ! kill -0 "$QEMU" 2>/dev/null; then
      echo "cut $cut: the VM did not become ready"; tail -20 "$console"; kill -9 "$QEMU" 2>/dev/null || true; exit 1
    fi
    sleep 0.5
  done
  if grep -q "^UPLOAD LOGIN FAILED" "$console"; then
    echo "cut $cut: the staff login in the VM failed, so no upload would be tested:"
    grep -a "^UPLOAD" "$console"; kill -9 "$QEMU" 2>/dev/null || true; exit 1
  fi
  sleep "$(python3 -c 'import random; print(round(random.uniform(4, 14), 2))')"
  kill -9 "$QEMU"; wait "$QEMU" 2>/dev/null || true
  # The disk as the power cut left it, on a copy: the journal replayed as the next mount would
  # (e2fsck), then the files read out with debugfs.
  rm -rf "$check_copy" && mkdir -p "$check_copy"
  cp --sparse=always "$DISK" "$WORK/check.img"
  e2fsck -fy "$WORK/check.img" >"$WORK/fsck-$cut.log" 2>&1 || true
  debugfs -R "rdump /hl $check_copy" "$WORK/check.img" >/dev/null 2>&1
  result=$(python3 - "$console" "$check_copy/hl/hoclieu.sqlite3" "$cut" "$check_copy/hl/library/agriculture" "$WORK" <<'PY'
import glob, hashlib, os, re, sqlite3, sys
console, db, boot, libdir, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
text = open(console, errors="replace").read()
every_console = "".join(open(f, errors="replace").read() for f in glob.glob(os.path.join(work, "console-*.log")))
acks = [(int(m.group(1)), float(m.group(2))) for m in re.finditer(r"ACK (\d+) ([\d.]+)", text)]
ackups = [(m.group(1), m.group(2), float(m.group(3))) for m in re.finditer(r"ACKUP (\S+) (\S+) ([\d.]+)", text)]
# Pictures tried in this run and in earlier boots on the same disk.
tried = {m.group(1): m.group(2) for m in re.finditer(r"TRY (\S+) (\S+)", every_console)}
if not acks:
    print("0 0 0 no-acks 0 0 0 0"); sys.exit()
cut_at = max([t for _, t in acks] + [t for _, _, t in ackups])
due = [n for n, t in acks if t <= cut_at - 1.0]
try:
    c = sqlite3.connect(db)
    check = c.execute("pragma integrity_check").fetchone()[0].replace(" ", "_")
    have = {r[0] for r in c.execute("select participant from events")}
except sqlite3.Error as e:
    check, have = "unreadable:" + str(e).replace(" ", "_"), set()
lost = [n for n in due if "%08x%024x" % (boot, n) not in have]
def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()
up_due = [(name, h) for name, h, t in ackups if t <= cut_at - 1.0]
up_lost = [name for name, h in up_due if not (os.path.exists(os.path.join(libdir, name)) and sha(os.path.join(libdir, name)) == h)]
# Every picture under a final name is whole: exactly the bytes some upload sent.
bad = 0
if os.path.isdir(libdir):
    for f in os.listdir(libdir):
        if f.endswith(".png") and tried.get(f) != sha(os.path.join(libdir, f)):
            bad += 1
print(len(acks), len(due), len(lost), check, len(ackups), len(up_due), len(up_lost), bad)
PY
)
  read -r acked due lost check upacked updue uplost badfiles <<<"$result"
  # The server starts on what the cut left (index reused or rebuilt).
  "$BIN" serve --no-mdns --data "$check_copy/hl" --listen 127.0.0.1:18777 >"$WORK/host-start-$cut.log" 2>&1 &
  HOST=$!
  started=no
  for _ in $(seq 200); do
    if curl -fs -o /dev/null http://127.0.0.1:18777/healthz && curl -fs -o /dev/null "http://127.0.0.1:18777/search?q=lua"; then started=yes; break; fi
    sleep 0.1
  done
  kill "$HOST"; wait "$HOST" 2>/dev/null || true
  ok=no
  if [ "$lost" = 0 ] && [ "$check" = ok ] && [ "$started" = yes ] && [ "$due" -gt 0 ] \
     && [ "$uplost" = 0 ] && [ "$badfiles" = 0 ] && [ "$updue" -gt 0 ]; then ok=yes; passed=$((passed + 1)); fi
  total_lost=$((total_lost + lost + uplost))
  rows+=("| $cut | $acked | $due | $lost | $upacked | $updue | $uplost | $badfiles | $check | $started | $ok |")
  echo "cut $cut: visits acked $acked, due $due, lost $lost; uploads acked $upacked, due $updue, lost $uplost, partial $badfiles; integrity $check, restarts $started"
done
{
  echo "# Power cuts${UNSAFE:+ (UNSAFE: synchronous=OFF, to show the harness sees loss)}"
  echo
  echo "Generated by \`${UNSAFE:+UNSAFE=1 }scripts/powercut/run.sh $CUTS\`: the release server in a qemu VM (Debian kernel $KVER, busybox initramfs, 1 vCPU, ext4 on a virtio disk), killed with SIGKILL 4–14 s into a stream of page visits; then the disk image is read back with debugfs. Machine: $(nproc) cores. Date: $(date -u +%F). Commit: $(git rev-parse --short HEAD)."
  echo
  echo "Result: $passed/$CUTS cuts with every visit and every upload acknowledged more than 1 s before the cut on disk (uploads with the right SHA-256), no partial file under a final name, integrity_check ok and a clean start on the data left; $total_lost visits and uploads lost in all."
  echo
  echo "| cut | visits served | served > 1 s before the cut | of those missing | uploads acknowledged | > 1 s before the cut | of those missing or wrong | partial files | integrity_check | server starts on it | ok |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
} >"$OUT"
head -7 "$OUT"
