#!/bin/sh
# PID 1 of new PID, mount, UTS and cgroup namespaces (tests/deploy/systemd_namespace.py starts
# it): makes the mount namespace a read-only view of this machine with a /run, /tmp, /var/tmp,
# /var/lib and cgroup tree of its own, then becomes systemd with only the units of UNIT_DIR.
# Every mount here is private to the namespace: the machine outside sees none of them.
#
#   boot-systemd.sh TEST_DIR UNIT_DIR CONSOLE_TTY [KEEP_DIR...]
#
# TEST_DIR (the test's own directory, with passwd and group files that add the service user)
# stays visible and writable at its path, and so does each KEEP_DIR (the checkout, when it lies
# under /tmp); CONSOLE_TTY becomes /dev/console, where systemd logs.
set -eu
test_dir=$1 unit_dir=$2 console=$3
shift 3

# A /run of its own: systemd's sockets and state, not the machine's.
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
# Fresh /tmp and /var/tmp (PrivateTmp= makes its directories there), the test's directory and
# the directories to keep carried over into them.
mkdir /run/carried
count=0
for dir in "$test_dir" "$@"; do
  count=$((count + 1))
  mkdir "/run/carried/$count"
  mount --bind "$dir" "/run/carried/$count"
done
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp
count=0
for dir in "$test_dir" "$@"; do
  count=$((count + 1))
  mkdir -p "$dir"
  mount --move "/run/carried/$count" "$dir"
  rmdir "/run/carried/$count"
done
rmdir /run/carried

# The service user, as `useradd --system pikir` would add it, and its data directory.
mount --bind "$test_dir/passwd" /etc/passwd
mount --bind "$test_dir/group" /etc/group
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /var/lib
install -d -o pikir -g pikir -m 0750 /var/lib/pikir

# systemd raises a few kernel settings at boot (fs.file-max, net.unix.max_dgram_qlen); those are
# the machine's, so it finds them read-only and leaves them.
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys

# A unified cgroup tree rooted at the cgroup this namespace was made in: systemd creates its
# slices and scopes below it and nowhere else.
umount -R /sys/fs/cgroup
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
mount -o remount,bind,ro /sys

# The console is a terminal of the test's; the kernel log stays the machine's own.
mount --bind "$console" /dev/console
mount --bind /dev/null /dev/kmsg

# Everything else read-only: nothing systemd or the service does can change the machine's files.
mount -o remount,bind,ro /

# `container` tells systemd it is not the machine's init (no modules, clock or console of the
# machine's); it may not load modules or set the clock either way.
exec env -i container=pikir-test SYSTEMD_UNIT_PATH="$unit_dir" \
  SYSTEMD_GENERATOR_PATH=/nonexistent SYSTEMD_ENVIRONMENT_GENERATOR_PATH=/nonexistent \
  setpriv --bounding-set -sys_module,-sys_time -- \
  /lib/systemd/systemd --system --unit=pikir-test.target \
  --log-target=console --log-level=debug --show-status=no
