#!/bin/bash
# fetch-debian-root.sh OUTDIR
#
# A Debian 12 root with systemd as init for the VM tier's systemd scenarios:
# debootstrap --variant=minbase from this machine's apt mirror, plus systemd, udev, dbus,
# the libraries termguard's binaries link and the tools the scenarios use (PACKAGES below).
# Result:
#   OUTDIR/debian-root.tar.gz   the root (numeric owners), unpacked afresh by every run
#   OUTDIR/debian-root.info     mirror, package list and creation time
# Built once and reused while the package list is the same (CI builds it once per run);
# TG_VM_ROOT_REFRESH=1 rebuilds it. The info file is written last, so an interrupted run is
# simply redone.
set -euo pipefail

# The libraries are what ldd lists for termguardd, termguardctl, the udev helper and
# termguard-hid-fallback (libmount, which termguardd loads on demand, is in minbase).
PACKAGES=systemd,systemd-sysv,udev,dbus,kmod,dosfstools,libjson-c5,libinih1,libgcrypt20,libqrencode4,liboath0,libpcsclite1
SUITE=bookworm

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
outdir=$1
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
tarball=$outdir/debian-root.tar.gz
info=$outdir/debian-root.info

# Serialise concurrent runs (parallel test jobs share one cache).
exec 9>"$outdir/.root-lock"
flock 9

if [ "${TG_VM_ROOT_REFRESH:-0}" != 1 ] && [ -s "$tarball" ] &&
    grep -qx "packages=$PACKAGES" "$info" 2>/dev/null; then
    exit 0
fi

mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
    awk -v s="$SUITE" '$2 == s { print $1; exit }')
if [ -z "$mirror" ]; then
    echo "fetch-debian-root: no $SUITE entry in this machine's apt sources, running apt-get update" >&2
    apt-get update -qq
    mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
        awk -v s="$SUITE" '$2 == s { print $1; exit }')
fi
[ -n "$mirror" ] || { echo "fetch-debian-root: no $SUITE mirror in the apt sources" >&2; exit 1; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || { echo "fetch-debian-root: $keyring missing (debian-archive-keyring)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "fetch-debian-root: debootstrap missing" >&2; exit 1; }

staging=$outdir/root.new
rm -rf --one-file-system "$staging"
mkdir -p "$outdir/debootstrap-debs"
echo "fetch-debian-root: debootstrap --variant=minbase $SUITE from $mirror" >&2
if ! debootstrap --variant=minbase --include="$PACKAGES" --keyring="$keyring" \
    --cache-dir="$outdir/debootstrap-debs" "$SUITE" "$staging" "$mirror" >"$outdir/debootstrap.log" 2>&1; then
    tail -n 30 "$outdir/debootstrap.log" >&2
    echo "fetch-debian-root: debootstrap failed (log above)" >&2
    exit 1
fi
# What a VM never uses: package lists, documentation, translations, the download cache.
rm -rf "${staging:?}"/var/lib/apt/lists/* "$staging"/var/cache/apt/*.bin "$staging"/var/cache/apt/archives/*.deb \
    "$staging"/usr/share/doc/* "$staging"/usr/share/man/* "$staging"/usr/share/info/*
find "$staging/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
tar -C "$staging" --numeric-owner -czf "$tarball.new" .
rm -rf --one-file-system "$staging"
mv "$tarball.new" "$tarball"
printf 'mirror=%s\nsuite=%s\npackages=%s\ncreated=%s\n' "$mirror" "$SUITE" "$PACKAGES" "$(date -u +%FT%TZ)" >"$info"
echo "fetch-debian-root: $tarball ($(du -h "$tarball" | cut -f1))" >&2
