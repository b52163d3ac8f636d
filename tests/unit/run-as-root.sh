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
# In the namespace the host's / and /run belong to an unmapped id, and the code under test also
# insists that every directory above its state is root's: so the command runs in a private root
# (a tmpfs, root's there) where the host's top-level directories are bound in, except /run,
# which is a new empty directory of that root.
set -eu
if [ "$(id -u)" -eq 0 ]; then
        exec "$@"
fi

private_root='
set -eu
root=$(mktemp -d)
mount -t tmpfs -o mode=0755 termguard-test-root "$root"
for d in /*; do
        name=${d#/}
        case $name in
        run) continue ;;
        *)
                if [ -L "$d" ]; then
                        ln -s "$(readlink "$d")" "$root/$name"
                elif [ -d "$d" ]; then
                        mkdir "$root/$name" && mount --rbind "$d" "$root/$name"
                fi
                ;;
        esac
done
mkdir -m 0755 "$root/run"
cwd=$(pwd)
exec chroot "$root" /bin/sh -c "cd \"\$1\" && shift && exec \"\$@\"" sh "$cwd" "$@"
'
if unshare --map-root-user --map-auto true 2>/dev/null; then
        exec unshare --map-root-user --map-auto --mount /bin/sh -c "$private_root" sh "$@"
fi
if unshare --map-root-user true 2>/dev/null; then
        if [ -n "${TG_TEST_NEEDS_IDS:-}" ]; then
                echo "run-as-root.sh: only $(id -un) is mapped in the user namespace (no uidmap or no" \
                        "/etc/subuid range): leaving out $TG_TEST_NEEDS_IDS" >&2
                TG_TEST_SKIP=$TG_TEST_NEEDS_IDS
                export TG_TEST_SKIP
        fi
        exec unshare --map-root-user --mount /bin/sh -c "$private_root" sh "$@"
fi
echo "run-as-root.sh: not root and no user namespace (unshare -r failed): skipped" >&2
exit 77
