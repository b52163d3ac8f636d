#!/bin/bash
# Build the termguard Debian packages from a clean temporary copy of the working tree and
# check them with lintian.
#
#   packaging/build-deb.sh [OUTDIR]      (default OUTDIR: <source>/build-deb/out)
#
# The copy is taken from the working tree as it is (no git needed): everything except build
# directories (build*/), object files, obj-*/, the VM test cache and a top-level debian/.
# packaging/debian is then copied to debian/ at the top of the copy, an orig tarball is made
# from the copy, and dpkg-buildpackage builds source and binary packages.
#
# Environment:
#   DEB_BUILD_OPTIONS   passed on (e.g. "nocheck" skips the unit tests)
#   TG_DEB_REVISION     build with this Debian revision instead of the changelog's
#                       (e.g. 2 gives 0.1.0-2: an upgrade candidate for tests)
#   TG_KEEP_WORK=1      keep the temporary build directory
#
# Needs: dpkg-dev, debhelper, lintian and the Build-Depends in packaging/debian/control.
# Exit status: non-zero when the build fails or lintian reports errors (warnings are shown
# but do not fail).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
out=${1:-$src/build-deb/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

log() { printf '== %s\n' "$*"; }
die() { printf 'build-deb: %s\n' "$*" >&2; exit 1; }

for tool in dpkg-buildpackage dpkg-parsechangelog dh lintian; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install dpkg-dev debhelper lintian)"
done

changelog=$src/packaging/debian/changelog
[ -f "$changelog" ] || die "missing $changelog"
pkg=$(dpkg-parsechangelog -l "$changelog" -S Source)
version=$(dpkg-parsechangelog -l "$changelog" -S Version)
upstream=${version%-*}

# The package version must tell the truth about the code inside it.
cmake_version=$(sed -n 's/^project([a-z]* *VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt" | head -n1)
if [ -n "$cmake_version" ] && [ "$cmake_version" != "$upstream" ]; then
	die "changelog says $upstream but CMakeLists.txt says $cmake_version: add a changelog entry"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/termguard-deb.XXXXXX")
cleanup() {
	if [ "${TG_KEEP_WORK:-0}" = 1 ]; then
		log "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

tree=$work/$pkg-$upstream
mkdir -p "$tree"

log "copying $src (without build directories) to $tree"
excludes=(--exclude=./.git --exclude=./debian --exclude='./obj-*' --exclude=./tests/vm/.cache
          --exclude='*.o')
# Directories named build* at any depth (.gitignore: build*/); files such as
# tests/vm/build-initramfs.sh are sources and stay.
while IFS= read -r -d '' d; do
	excludes+=("--exclude=$d")
done < <(cd "$src" && find . -path ./.git -prune -o -type d -name 'build*' -print0 -prune)
# The output directory, when it lies inside the tree under another name.
case "$out/" in
"$src"/*) excludes+=("--exclude=.${out#"$src"}") ;;
esac
(cd "$src" && tar -cf - "${excludes[@]}" .) | tar -C "$tree" -xf -

if [ -n "${TG_DEB_REVISION:-}" ]; then
	version=$upstream-$TG_DEB_REVISION
fi

# Orig tarball: the upstream tree as copied (packaging/debian included, as upstream ships it).
log "making ${pkg}_$upstream.orig.tar.gz"
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner \
	-czf "$work/${pkg}_$upstream.orig.tar.gz" "$pkg-$upstream"

cp -a "$tree/packaging/debian" "$tree/debian"
if [ -n "${TG_DEB_REVISION:-}" ]; then
	# An extra changelog entry for the requested revision (no dch needed).
	{
		printf '%s (%s) %s; urgency=medium\n\n' "$pkg" "$version" \
			"$(dpkg-parsechangelog -l "$changelog" -S Distribution)"
		printf '  * Rebuild with Debian revision %s (package upgrade test).\n\n' "$TG_DEB_REVISION"
		printf ' -- %s  %s\n\n' "$(dpkg-parsechangelog -l "$changelog" -S Maintainer)" "$(date -R)"
		cat "$changelog"
	} >"$tree/debian/changelog"
fi

log "dpkg-buildpackage ($pkg $version)"
start=$(date +%s)
set +e
(cd "$tree" && dpkg-buildpackage -us -uc --changes-option=-sa -j"$(nproc)") 2>&1 | tee "$work/build.log" | sed 's/^/  | /'
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || die "dpkg-buildpackage failed (exit $rc); log above"
log "built in $(( $(date +%s) - start )) s"

# Replace earlier results of this package in the output directory.
find "$out" -maxdepth 1 -type f \( -name "${pkg}_*" -o -name "${pkg}-*" \) -delete
changes=$work/${pkg}_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).changes
[ -f "$changes" ] || die "no $changes"
# Every file the .changes lists (-sa: the orig tarball too, whatever the revision), and the
# .changes itself.
files=$(sed -n '/^Files:/,/^[^ ]/s/^ [0-9a-f]\{32\} [0-9]* [^ ]* [^ ]* //p' "$changes")
for f in $files; do
	cp "$work/$f" "$out/"
done
cp "$changes" "$out/"
cp "$work/build.log" "$out/${pkg}_${version}.build.log"

log "lintian"
# The .changes covers the source package and every binary package. Errors fail the build;
# warnings and informational tags are shown.
set +e
lintian --display-info --fail-on error "$out/$(basename "$changes")" >"$work/lintian.txt" 2>&1
lrc=$?
set -e
sed 's/^/  | /' "$work/lintian.txt"
cp "$work/lintian.txt" "$out/${pkg}_${version}.lintian.txt"
errors=$(grep -c '^E: ' "$work/lintian.txt" || true)
warnings=$(grep -c '^W: ' "$work/lintian.txt" || true)
infos=$(grep -c '^I: ' "$work/lintian.txt" || true)
log "lintian: $errors error(s), $warnings warning(s), $infos info tag(s) (exit $lrc)"

log "results in $out:"
(cd "$out" && ls -l -- *.deb)
if [ "$errors" -ne 0 ]; then
	die "lintian reported $errors error(s)"
elif [ "$lrc" -ne 0 ]; then
	die "lintian failed (exit $lrc): see its output above"
fi
