#!/bin/bash
# install-deps.sh [build|demo|central|test] : installs the Debian 12 packages termguard needs.
#   build: compile and install;  demo: + QEMU VM;  central: + PostgreSQL (scripts/demo-central.sh);
#   test (default): everything the tests use.
set -euo pipefail
what=${1:-test}

# systemd and udev provide the pkg-config files that say where units and rules go.
# build-essential: dpkg-buildpackage refuses to build without it (an implicit build dependency).
build=(build-essential cmake gcc make pkg-config libsystemd-dev libudev-dev libusb-1.0-0-dev libinih-dev
       libjson-c-dev libgcrypt20-dev liboath-dev libcrypt-dev libmount-dev libcmocka-dev gettext systemd udev
       oathtool libpam0g-dev libqrencode-dev libpcsclite-dev libx11-dev libxss-dev libpq-dev libssl-dev)
# debootstrap, debian-archive-keyring, e2fsprogs (mkfs.ext4 -d): the Debian root with systemd
# as init that the VM tier boots for the unit's confinement (tests/vm/fetch-debian-root.sh).
# acl: setfacl/getfacl in the VM, to give and read node ACLs as logind does for the seat user.
vm=(qemu-system-x86 busybox-static kmod cpio dosfstools exfatprogs util-linux debootstrap debian-archive-keyring
    e2fsprogs acl)
# clang-format: the formatting gate; uidmap: newuidmap, so that an unprivileged unit run maps
# more ids than the caller's own (tests/unit/run-as-root.sh). clang and libclang-rt-14-dev
# (libFuzzer and the sanitizer runtimes, only recommended by clang): the fuzz tier.
# dbus-daemon, python3-dbus, python3-dbusmock: the idle lock's private system bus and simulated logind;
# pcscd, vsmartcard-vpcd (a virtual IC card reader) and iproute2: IC card removal.
# xvfb and xdotool: a real X server and real input for the session helper; locales: the ja_JP
# locale's source, compiled by the notification tests (localedef) to check them in Japanese.
# openssl: a foreign CA's certificate in the central store's tier.
# chromium: renders the HTML audit report headless (tests/integration/test_report_html.py);
# fonts-ipafont-gothic: Japanese glyphs in its screenshot.
# postgresql-15 (initdb, pg_ctl, pg_dump, pg_restore) and postgresql-client-15 (psql): the central
# store, a real server in a temporary directory; postgresql-15-pgaudit: termguard-central init logs
# reads of staff records with it; umockdev: termguardd on an emulated sysfs, the host's USB untouched.
central=(postgresql-15 postgresql-client-15 postgresql-15-pgaudit umockdev)
test=(openssl libumockdev-dev gir1.2-umockdev-1.0 python3 python3-gi usbguard dbus-daemon python3-dbus python3-dbusmock
      pcscd vsmartcard-vpcd iproute2 xvfb xdotool chromium fonts-ipafont-gothic locales
      dpkg-dev debhelper lintian debootstrap clang-format uidmap clang libclang-rt-14-dev)

case $what in
build) pkgs=("${build[@]}") ;;
demo) pkgs=("${build[@]}" "${vm[@]}") ;;
central) pkgs=("${build[@]}" "${central[@]}") ;;
test) pkgs=("${build[@]}" "${vm[@]}" "${central[@]}" "${test[@]}") ;;
*) echo "usage: install-deps.sh [build|demo|central|test]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: run as root (apt-get install)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt or dpkg run (unattended-upgrades, a second shell) instead of failing.
lock=(-o DPkg::Lock::Timeout=600)
apt-get "${lock[@]}" update -q
# usbguard's package starts its service where systemd runs; forbid service starts.
policy=/usr/sbin/policy-rc.d
created_policy=
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created_policy=1
fi
apt-get "${lock[@]}" install -y -q --no-install-recommends "${pkgs[@]}"
[ -z "$created_policy" ] || rm -f "$policy"
