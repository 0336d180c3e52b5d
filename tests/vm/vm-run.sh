#!/bin/bash
# Run a command inside a QEMU VM that boots Debian's own kernel
# (linux-image-amd64, with ESP and XFRM interfaces) over this machine's root
# filesystem: shared read-only over 9p, with a tmpfs overlay on top, and no
# network device. The command's output is streamed to stdout and its exit
# status is the runner's.
#
#   tests/vm/vm-run.sh [--timeout SECONDS] [--accel auto|kvm|tcg] -- COMMAND...
#
# KVM is used when it boots; when it does not within the boot timeout (nested
# virtualization can hang at "Booting from ROM"), the VM is killed and booted
# again under TCG. Packages (qemu, busybox, the kernel) install themselves.
#
# Copyright (C) 2026 The tunnel-nat authors
# SPDX-License-Identifier: GPL-2.0-or-later
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
vmdir=${VM_BUILDDIR:-$top/build/vm}
timeout=1800
accel=auto
boot_timeout=${VM_BOOT_TIMEOUT:-30}

while [ $# -gt 0 ]; do
	case "$1" in
		--timeout) timeout=$2; shift 2 ;;
		--accel) accel=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
	esac
done
if [ $# -eq 0 ]; then
	echo "usage: $0 [--timeout SECONDS] [--accel auto|kvm|tcg] -- COMMAND..." >&2
	exit 2
fi

log() { echo "vm-run: $*" >&2; }

# --- packages and kernel ------------------------------------------------------

need=""
for p in qemu-system-x86 busybox-static kmod cpio; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		need="$need $p"
done
if [ -n "$need" ]; then
	log "installing$need"
	apt-get update -q > /dev/null &&
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $need > /dev/null ||
		{ log "could not install$need"; exit 1; }
fi

mkdir -p "$vmdir"
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	   sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
if [ -z "$kpkg" ]; then
	apt-get update -q > /dev/null
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		   sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
fi
[ -n "$kpkg" ] || { log "cannot resolve linux-image-amd64"; exit 1; }
kver=${kpkg#linux-image-}
kroot=$vmdir/kernel-$kver
if [ ! -f "$kroot/.done" ]; then
	log "fetching $kpkg from Debian's registry"
	rm -rf "$kroot"; mkdir -p "$kroot"
	(cd "$vmdir" && rm -f linux-image-*.deb && apt-get download -q "$kpkg" > /dev/null) ||
		{ log "apt-get download $kpkg failed"; exit 1; }
	dpkg-deb -x "$vmdir"/linux-image-*.deb "$kroot" &&
	depmod -b "$kroot" "$kver" && rm -f "$vmdir"/linux-image-*.deb &&
	touch "$kroot/.done" || { log "unpacking $kpkg failed"; exit 1; }
fi
vmlinuz=$kroot/boot/vmlinuz-$kver

# --- initramfs: busybox and the modules to mount the host root ---------------

initrd=$vmdir/initramfs-$kver.cpio.gz
if [ ! -s "$initrd" ] || [ "$0" -nt "$initrd" ]; then
	ird=$(mktemp -d)
	mkdir -p "$ird/bin" "$ird/mod" "$ird/proc" "$ird/sys" "$ird/dev" "$ird/lower" \
		"$ird/rw" "$ird/newroot"
	cp /bin/busybox "$ird/bin/busybox"
	: > "$ird/mod/order"
	for mod in virtio_pci 9pnet_virtio 9p overlay; do
		modprobe -S "$kver" -d "$kroot" --show-depends "$mod"
	done |
	while read -r cmd path _; do
		[ "$cmd" = insmod ] || continue
		m=$(basename "$path")
		grep -qx "$m" "$ird/mod/order" && continue
		cp "$path" "$ird/mod/$m"
		echo "$m" >> "$ird/mod/order"
	done
	cat > "$ird/init" <<'EOI'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /mod/order); do insmod "/mod/$m" || echo "tn-vm: insmod $m failed"; done
job=$(sed -n 's/.*tn_job=\([^ ]*\).*/\1/p' /proc/cmdline)
o="trans=virtio,version=9p2000.L,msize=262144"
mount -t 9p -o "$o,ro" hostroot /lower || { echo "tn-vm: no host root"; echo o > /proc/sysrq-trigger; }
mount -t tmpfs -o size=2g tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot
mkdir -p /newroot/mnt/tn-job
mount -t 9p -o "$o" job /newroot/mnt/tn-job
umount /proc /sys /dev 2>/dev/null
exec switch_root /newroot /bin/bash /mnt/tn-job/stage2.sh
EOI
	chmod +x "$ird/init"
	(cd "$ird" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$initrd.tmp" &&
		mv "$initrd.tmp" "$initrd"
	rm -rf "$ird"
fi

# --- the job: what runs after switch_root -------------------------------------

job=$(mktemp -d "$vmdir/job.XXXXXX")
trap 'rm -rf "$job"; [ -n "${qpid:-}" ] && kill -9 "$qpid" 2>/dev/null' EXIT
printf '%q ' "$@" > "$job/cmd"
cat > "$job/stage2.sh" <<EOS
#!/bin/bash
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
# no tmpfs on /tmp: the repository (e.g. a CI clone) may live there; writes
# land in the overlay's tmpfs upper layer anyway
mkdir -p /lib/modules/$kver
mount --bind "$kroot/lib/modules/$kver" /lib/modules/$kver
echo 1 > /proc/sys/kernel/sysrq
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
echo "tn-vm: booted $kver"
cd "$top"
bash -c "\$(cat /mnt/tn-job/cmd)" < /dev/null 2>&1
echo \$? > /mnt/tn-job/status
sync
echo o > /proc/sysrq-trigger
sleep 30
EOS

# --- boot ---------------------------------------------------------------------

boot()
{
	local acc=$1 out=$job/console.log
	local opts=(-accel tcg,thread=multi -cpu max)
	[ "$acc" = kvm ] && opts=(-accel kvm -cpu host)
	: > "$out"
	qemu-system-x86_64 "${opts[@]}" -m 2048 -smp 2 -nodefaults -no-user-config \
		-display none -serial "file:$out" -no-reboot \
		-kernel "$vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 quiet loglevel=1 panic=-1 tn_job=1" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$job,mount_tag=job,security_model=none,multidevs=remap" \
		>> "$job/qemu.log" 2>&1 &
	qpid=$!
	disown "$qpid"
}

# stream the console until qemu exits; kill it after $1 seconds
follow()
{
	local limit=$1 start=$SECONDS out=$job/console.log pos=0 size alive=1
	while [ $alive = 1 ]; do
		kill -0 "$qpid" 2>/dev/null || alive=0
		size=$(stat -c %s "$out")
		if [ "$size" -gt "$pos" ]; then
			tail -c +"$((pos + 1))" "$out" | head -c "$((size - pos))" | tr -d '\r'
			pos=$size
		fi
		if [ $alive = 1 ] && [ $((SECONDS - start)) -ge "$limit" ]; then
			log "timeout after ${limit}s, killing the VM"
			kill -9 "$qpid" 2>/dev/null
		fi
		[ $alive = 1 ] && sleep 0.5
	done
}

booted()
{
	local start=$SECONDS
	while [ $((SECONDS - start)) -lt "$boot_timeout" ]; do
		grep -q "tn-vm: booted" "$job/console.log" 2>/dev/null && return 0
		kill -0 "$qpid" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

use=tcg
if [ "$accel" != tcg ] && [ -w /dev/kvm ]; then
	use=kvm
fi
[ "$accel" = kvm ] && use=kvm

t0=$SECONDS
boot $use
if ! booted; then
	if [ "$use" = kvm ] && [ "$accel" = auto ]; then
		log "KVM did not boot within ${boot_timeout}s ($(tail -n 1 "$job/qemu.log" | cut -c1-120)), falling back to TCG"
		kill -9 "$qpid" 2>/dev/null
		use=tcg
		boot tcg
		booted
	fi
fi
if ! grep -q "tn-vm: booted" "$job/console.log"; then
	log "the VM did not boot ($use):"
	tail -n 20 "$job/console.log" "$job/qemu.log" >&2
	kill -9 "$qpid" 2>/dev/null
	exit 1
fi
log "booted with $use in $((SECONDS - t0))s"
follow "$timeout"
if [ ! -s "$job/status" ]; then
	log "the VM stopped without an exit status ($use, $((SECONDS - t0))s)"
	exit 1
fi
rc=$(cat "$job/status")
log "command exited with $rc after $((SECONDS - t0))s ($use)"
exit "$rc"
