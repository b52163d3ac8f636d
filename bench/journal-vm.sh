#!/bin/sh
# Runs in the test VM (bench/journal.sh --vm): journal-bench on the ext4 file system of the
# virtio disk /dev/vda, an image file on the host's disk. Prints its figures as "JBENCH ..."
# lines; decides nothing.
# shellcheck disable=SC1091 # written by bench/journal.sh into the image
. /etc/journal-bench.env

# the disk's driver probes while /init loads the modules: wait for its node, bounded
for _ in $(seq 1 100); do
    [ -b /dev/vda ] && break
    sleep 0.1
done
[ -b /dev/vda ] || { echo "JBENCH error: no /dev/vda"; exit 1; }
mkdir -p /mnt/bench
mount -t ext4 /dev/vda /mnt/bench || { echo "JBENCH error: mount /dev/vda"; exit 1; }
mkdir -m 0700 /mnt/bench/journal
echo "JBENCH journal-bench: ext4 on /dev/vda (virtio-blk, image file on the host's disk, cache=none), $(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPU, QEMU TCG"
# shellcheck disable=SC2086 # COUNTS is a list of numbers
/usr/bin/journal-bench /mnt/bench/journal /mnt/bench/host-id $COUNTS >/tmp/jbench.out 2>&1
rc=$?
sed 's/^/JBENCH /' /tmp/jbench.out
umount /mnt/bench
exit $rc
