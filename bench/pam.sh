#!/bin/bash
# bench/pam.sh [BUILD_DIR] [-n AUTHS] [--seconds S] [--dir DIR] [--user NAME]
#
# Benchmarks the PAM module pam_termguard against pam_oath (Debian's libpam-oath) on this
# host and prints a table: time per authentication (pam_start..pam_authenticate..pam_end;
# median, p95, added over a pam_permit-only baseline) in a fresh process and repeated in
# one process, peak RSS, and TOTP verifications per second of both libraries.
# Without BUILD_DIR, termguard is configured and built (Release) in build-bench/; a given
# BUILD_DIR is brought up to date (module and its libraries) before measuring.
# The user (default root) must be an account of this system; configuration, state and PAM
# services are private to the run. Missing Debian packages are installed with apt-get.
# Needs root: the MFA state must be root-owned. Exit status: 0 ran and every authentication
# succeeded, 1 could not run or authentications failed, 2 bad arguments / not root.
# See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)

usage() {
    sed -n '2p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

build='' auths=200 seconds=1.5 dir=/var/tmp user=root
while [ $# -gt 0 ]; do
    case $1 in
    -n) auths=${2:?}; shift 2 ;;
    --seconds) seconds=${2:?}; shift 2 ;;
    --dir) dir=${2:?}; shift 2 ;;
    --user) user=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    -*) echo "pam-bench: unknown option $1" >&2; usage ;;
    *) [ -z "$build" ] || usage; build=$1; shift ;;
    esac
done
case $auths in '' | *[!0-9]*) echo "pam-bench: -n takes a whole number" >&2; exit 2 ;; esac
[ "$auths" -ge 1 ] || { echo "pam-bench: -n must be >= 1" >&2; exit 2; }
[ -d "$dir" ] || { echo "pam-bench: --dir $dir is not a directory" >&2; exit 2; }
getent passwd "$user" >/dev/null || { echo "pam-bench: --user $user is not an account of this system" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "pam-bench: must run as root (the MFA state must be root-owned)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- packages ----------------------------------------------------------------------
# pam_oath and the static libraries the bench links (libjson-c.a, liboath.a, libcrypt.a);
# without BUILD_DIR also what the termguard build needs (scripts/install-deps.sh build).
need=(libpam-oath liboath-dev libcrypt-dev libpam0g-dev libjson-c-dev gcc pkg-config)
[ -n "$build" ] || need+=(cmake make libsystemd-dev libudev-dev libusb-1.0-0-dev libinih-dev
                          libgcrypt20-dev libmount-dev libqrencode-dev gettext)
missing=()
for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "pam-bench: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$work/apt.log" 2>&1; then
        # Stale package lists are the usual reason: refresh once and retry.
        if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
            >>"$work/apt.log" 2>&1; then
            tail -n 20 "$work/apt.log" >&2
            echo "pam-bench: apt-get install failed (log above)" >&2
            exit 1
        fi
    fi
fi
oath_module=$(dpkg-query -L libpam-oath | grep '/security/pam_oath\.so$' | head -n 1)
if [ -z "$oath_module" ] || [ ! -f "$oath_module" ]; then
    echo "pam-bench: pam_oath.so not found in libpam-oath" >&2
    exit 1
fi

# ---- termguard build ---------------------------------------------------------------
if [ -z "$build" ]; then
    build=$top/build-bench
    echo "pam-bench: building termguard (Release) in $build" >&2
    if ! { cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
               >>"$work/cmake.log" 2>&1 && cmake --build "$build" -j"$(nproc)" >>"$work/cmake.log" 2>&1; }; then
        tail -n 30 "$work/cmake.log" >&2
        echo "pam-bench: building termguard failed (log above)" >&2
        exit 1
    fi
fi
[ -f "$build/CMakeCache.txt" ] || { echo "pam-bench: $build is not a CMake build dir" >&2; exit 2; }
build=$(cd "$build" && pwd)
# A given build may be older than the sources: measure what the tree builds now.
if ! cmake --build "$build" -j"$(nproc)" --target pam_termguard termguard_mfa termguard >>"$work/cmake.log" 2>&1; then
    tail -n 30 "$work/cmake.log" >&2
    echo "pam-bench: building pam_termguard in $build failed (log above)" >&2
    exit 1
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")
case $build_type in
Release | RelWithDebInfo) ;;
*) echo "pam-bench: warning: $build is a '${build_type:-no type}' build; numbers are not representative" >&2 ;;
esac
if grep -q '^TG_SANITIZE:BOOL=ON$' "$build/CMakeCache.txt"; then
    echo "pam-bench: warning: $build has sanitizers on; numbers are not representative" >&2
fi
module=$build/pam_module/pam_termguard.so
for f in "$module" "$build/lib/libtermguard_mfa.a" "$build/lib/libtermguard.a"; do
    [ -f "$f" ] || { echo "pam-bench: $f not found (build the project first)" >&2; exit 2; }
done

# ---- the bench program -------------------------------------------------------------
# libpam stays shared (the modules need the process's libpam); the termguard core,
# json-c, liboath and libcrypt are linked statically, so that the modules' own shared
# libraries are not already in the process when libpam loads a module.
read -r -a oath_cflags <<<"$(pkg-config --cflags liboath)"
read -r -a pam_libs <<<"$(pkg-config --libs pam)"
if ! cc -O2 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -D_FORTIFY_SOURCE=2 \
        -I"$top/include" "${oath_cflags[@]}" -o "$work/pam-bench" "$here/pam-bench.c" \
        "$build/lib/libtermguard_mfa.a" "$build/lib/libtermguard.a" \
        -Wl,-Bstatic -ljson-c -loath -lcrypt -Wl,-Bdynamic "${pam_libs[@]}" -ldl -pthread \
        >"$work/cc.log" 2>&1; then
    cat "$work/cc.log" >&2
    echo "pam-bench: compiling pam-bench.c failed" >&2
    exit 1
fi

# ---- run ---------------------------------------------------------------------------
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
rev=$(git -C "$top" describe --always --dirty 2>/dev/null || echo "?")
echo
echo "termguard PAM benchmark: $(date -u +%Y-%m-%d), termguard $rev ($build_type build)"
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, Linux $(uname -r)"
echo "libpam $(ver libpam0g), libpam-oath $(ver libpam-oath), liboath $(ver liboath0), libcrypt $(ver libcrypt1)"
echo
set +e
"$work/pam-bench" --termguard "$module" --oath "$oath_module" -n "$auths" --seconds "$seconds" --dir "$dir" \
    --user "$user"
rc=$?
set -e
[ "$rc" -eq 0 ] || echo "pam-bench: the run FAILED (exit $rc); see the messages above" >&2
exit "$rc"
