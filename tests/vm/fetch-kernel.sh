#!/bin/bash
# fetch-kernel.sh OUTDIR
#
# Fetch the Debian kernel that linux-image-amd64 currently points at and
# unpack it (never install it: the host kernel must stay untouched).
# Result:
#   OUTDIR/root/      the unpacked package (boot/, lib/modules/VERSION/ ...)
#                     with modules.dep generated (the .deb ships none; its
#                     postinst would run depmod)
#   OUTDIR/version    kernel release string, e.g. 6.1.0-56-amd64
#   OUTDIR/vmlinuz    symlink to root/boot/vmlinuz-VERSION
# Idempotent: if OUTDIR/vmlinuz exists nothing is done. vmlinuz is written
# last, so an interrupted run is simply redone.
set -euo pipefail

usage() {
    echo "usage: $0 OUTDIR" >&2
    exit 2
}

[ $# -eq 1 ] || usage
outdir=$1
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

# Serialise concurrent runs (parallel test jobs share one cache).
exec 9>"$outdir/.lock"
flock 9

if [ -e "$outdir/vmlinuz" ]; then
    exit 0
fi

# Real package behind the metapackage, e.g. linux-image-6.1.0-56-amd64.
resolve_pkg() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}
pkg=$(resolve_pkg)
if [ -z "$pkg" ]; then
    # A clean machine may have no package lists yet.
    echo "fetch-kernel: linux-image-amd64 unknown, running apt-get update" >&2
    apt-get update -qq
    pkg=$(resolve_pkg)
fi
if [ -z "$pkg" ]; then
    echo "fetch-kernel: cannot resolve the package behind linux-image-amd64" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "fetch-kernel: downloading $pkg" >&2
# apt-get download writes into the current directory. As root it warns that
# the _apt sandbox user cannot write there; harmless.
(cd "$tmp" && apt-get download -q "$pkg")
deb=$(find "$tmp" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
if [ -z "$deb" ]; then
    echo "fetch-kernel: apt-get download produced no ${pkg}_*.deb" >&2
    exit 1
fi

# Unpack next to the final place, then rename, so root/ is never half-full.
rm -rf "$outdir/root" "$outdir/root.new"
dpkg-deb -x "$deb" "$outdir/root.new"

# Newer Debian kernels ship usr/lib/modules; modprobe/depmod -b want lib/.
if [ ! -d "$outdir/root.new/lib/modules" ] && [ -d "$outdir/root.new/usr/lib/modules" ]; then
    ln -s usr/lib "$outdir/root.new/lib"
fi
moddir=$(find "$outdir/root.new/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n 1)
if [ -z "$moddir" ]; then
    echo "fetch-kernel: $pkg has no lib/modules/VERSION" >&2
    exit 1
fi
version=$(basename "$moddir")
if [ ! -f "$outdir/root.new/boot/vmlinuz-$version" ]; then
    echo "fetch-kernel: $pkg has no boot/vmlinuz-$version" >&2
    exit 1
fi
depmod -b "$outdir/root.new" "$version"

mv "$outdir/root.new" "$outdir/root"
echo "$version" >"$outdir/version"
ln -sfn "root/boot/vmlinuz-$version" "$outdir/vmlinuz"
echo "fetch-kernel: $version ready in $outdir" >&2
