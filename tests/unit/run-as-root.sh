#!/bin/sh
# run-as-root.sh COMMAND...: runs a unit test whose code under test insists on root-owned files
# (MFA state). A caller that is not root runs it as root of a new user namespace: the files it
# creates are root's there, and the ownership checks run unchanged against the real kernel.
#   - already root: COMMAND as it is;
#   - newuidmap/newgidmap (Debian package uidmap) and a range in /etc/subuid and /etc/subgid
#     (useradd gives one): the caller is root and ids 1-65535 map to the range, so every case
#     runs, those that give files to other owners too;
#   - otherwise unshare -r maps only the caller: a file cannot be given to another owner
#     there, so the cases matching $TG_TEST_NEEDS_IDS (a cmocka name glob) are left out,
#     and this says so;
#   - no user namespaces at all (disabled, or a build sandbox): exit 77, skipped.
set -eu
if [ "$(id -u)" -eq 0 ]; then
        exec "$@"
fi
if unshare --map-root-user --map-auto true 2>/dev/null; then
        exec unshare --map-root-user --map-auto "$@"
fi
if unshare --map-root-user true 2>/dev/null; then
        if [ -n "${TG_TEST_NEEDS_IDS:-}" ]; then
                echo "run-as-root.sh: only $(id -un) is mapped in the user namespace (no uidmap or no" \
                        "/etc/subuid range): leaving out $TG_TEST_NEEDS_IDS" >&2
                TG_TEST_SKIP=$TG_TEST_NEEDS_IDS
                export TG_TEST_SKIP
        fi
        exec unshare --map-root-user "$@"
fi
echo "run-as-root.sh: not root and no user namespace (unshare -r failed): skipped" >&2
exit 77
