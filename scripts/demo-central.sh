#!/bin/bash
# demo-central.sh : central reporting on one Debian 12 machine (as root). Installs what it needs,
# builds termguard, starts a throwaway PostgreSQL 15 on loopback in a temporary directory (never
# the machine's own cluster), sets it up with termguard-central init, enrols one terminal, writes
# that terminal's audit journal, forwards it with termguard-forwarder, and shows what an auditor
# sees: the verification with the escrowed seeds, the usage register (使用簿) as a table, and
# the same register as an HTML file. Everything but that file is removed on exit, also on Ctrl-C;
# the system user termguard-forwarder and group termguard-audit stay, as the package makes them.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$src/build
pg_bin=/usr/lib/postgresql/15/bin
html=$PWD/termguard-central-usage.html

if [ "$(id -u)" -ne 0 ]; then
    echo "demo-central.sh: run as root" >&2
    exit 1
fi

step() { printf '\n== %s\n' "$*"; }
# The server refuses to run as root.
as_postgres() { setpriv --reuid=postgres --regid=postgres --clear-groups "$@"; }

"$src/scripts/install-deps.sh" central
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target termguardd termguardctl termguard-forwarder termguard-central \
    journal-writer

tmp='' daemon=''
cleanup() {
    set +e
    if [ -n "$daemon" ]; then
        kill -TERM "$daemon" && wait "$daemon"
    fi
    if [ -f "$tmp/pg/data/postmaster.pid" ]; then
        (cd / && as_postgres "$pg_bin/pg_ctl" -D "$tmp/pg/data" -m fast -w stop >/dev/null)
    fi
    [ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# termguardd insists on root-only parents of its directories: /run, not the world-writable /tmp.
tmp=$(mktemp -d /run/tg-demo-central.XXXXXX)
chmod 0755 "$tmp"

step "A throwaway PostgreSQL 15 in $tmp/pg, on 127.0.0.1 only"
port=
while [ -z "$port" ]; do
    port=$((20000 + RANDOM % 20000))
    # taken when something answers there
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then port=; fi
done
mkdir -p "$tmp/pg/sock"
chown -R postgres:postgres "$tmp/pg"
(cd / && as_postgres "$pg_bin/initdb" -D "$tmp/pg/data" -U tgsuper --auth-local=trust --auth-host=reject \
    -E UTF8 --locale=C --no-sync >/dev/null)
pg_ctl() {
    (cd / && as_postgres "$pg_bin/pg_ctl" -D "$tmp/pg/data" -l "$tmp/pg/log" -w -t 60 "$@" \
        -o "-k $tmp/pg/sock -c listen_addresses=127.0.0.1 -p $port" >/dev/null)
}
pg_ctl start
echo "listening on 127.0.0.1:$port"

central() {
    TG_CENTRAL_SQL_DIR=$src/central/sql "$build/central/termguard-central" --ca-dir "$tmp/ca" \
        --dsn "host=$tmp/pg/sock port=$port user=${as:-tgsuper} dbname=${db:-postgres}" "$@"
}

step "termguard-central init: database, roles, schema, CA, TLS, pgaudit"
central init --escrow "$tmp/escrow" --server-name localhost
pg_ctl restart # pgaudit is preloaded only from a restart
echo "(restarted for pgaudit)"

step "termguard-central enroll-host: one terminal of 総務課"
central enroll-host --department 総務課 --hostname soumu-pc-012 --out "$tmp/bundle" --escrow "$tmp/escrow" \
    --central-host 127.0.0.1 --port "$port"
host_id=$(cat "$tmp/bundle/host-id")

step "The terminal: termguardctl central enroll creates its journal with the bundle's seed"
mkdir -m 0755 "$tmp/conf" "$tmp/state"
printf '[Daemon]\nStateDirectory=%s\nRuntimeDirectory=%s\n' "$tmp/state" "$tmp/run" >"$tmp/conf/termguard.conf"
ctl() { LC_ALL=C.UTF-8 "$build/ctl/termguardctl" --config "$tmp/conf" --socket "$tmp/run/control.socket" "$@"; }
ctl central enroll "$tmp/bundle" --central-dir "$tmp/central"

step "The last hour on the terminal, as termguardd records it"
# The records termguardd writes when a medium is registered, a write exception granted, and the
# medium plugged in and written to; then an unregistered stick, blocked. journal-writer appends
# them with lib's journal, as the daemon does (the host's USB stays untouched).
reader_gid=$(getent group termguard-audit | cut -d: -f3)
until=$(date -u -d '+8 hours' +%Y-%m-%dT%H:%M:%SZ)
ago=60
record() { # TYPE KEY=VALUE...: a record a few minutes after the one before
    ago=$((ago - 5))
    TG_JOURNAL_READER_GID=$reader_gid "$build/tests/journal-writer" "$tmp/state/journal" "$tmp/state/host-id" \
        append --time "$(date -u -d "-$ago min" +%Y-%m-%dT%H:%M:%SZ)" "$@" >/dev/null
    echo "  $(TZ=Asia/Tokyo date -d "-$ago min" +%H:%M) $1"
}
record register.media-added label=総務課-01 vid=0781 pid=5581 serial=4C530001 department=総務課 mode=read-only \
    actor=admin1
record exception.granted exception=1 label=総務課-01 "until=$until" "approver=課長 山田" reason=議事録の提出 \
    ticket=SR-1024 user=tanaka actor=admin1
record usb.attach device=1-1 vid=0781 pid=5581 serial=4C530001 manufacturer=SanDisk product=Cruzer user=tanaka
record usb.decision device=1-1 vid=0781 pid=5581 serial=4C530001 decision=read-write label=総務課-01 exception=1 \
    interfaces=1.0:08:allow user=tanaka trigger=attach
record media.file-written device=1-1 serial=4C530001 label=総務課-01 exception=1 "path=/議事録 11月.docx" \
    size=18342 sha256="$(printf '議事録' | sha256sum | cut -d' ' -f1)" user=tanaka
record usb.detach device=1-1 label=総務課-01 serial=4C530001 user=tanaka
record usb.attach device=1-2 vid=abcd pid=1234 serial=0815 manufacturer=Generic product="USB Disk" user=suzuki
record usb.decision device=1-2 vid=abcd pid=1234 serial=0815 decision=storage-blocked interfaces=1.0:08:deny \
    user=suzuki trigger=attach

step "termguardd (on an empty emulated sysfs) and termguard-forwarder"
mkdir -p "$tmp/umockdev/sys"
# a bus that does not exist: the idle lock leaves the machine's own sessions alone
env -u NOTIFY_SOCKET UMOCKDEV_DIR="$tmp/umockdev" DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/no-bus" \
    umockdev-wrapper "$build/agent/termguardd" --config "$tmp/conf" >"$tmp/termguardd.log" 2>&1 &
daemon=$!
for i in $(seq 300); do
    ctl status >/dev/null 2>&1 && break
    if [ "$i" -eq 300 ] || ! kill -0 "$daemon" 2>/dev/null; then
        cat "$tmp/termguardd.log" >&2
        exit 1
    fi
    sleep 0.1
done
# --once: returns when every record up to the journal's end is committed centrally
(cd / && setpriv --reuid=termguard-forwarder --regid=termguard-forwarder --init-groups \
    "$build/forwarder/termguard-forwarder" --once --journal "$tmp/state/journal" --central "$tmp/central" \
    --socket "$tmp/run/control.socket") 2>&1 | sed 's/^<[0-7]>//'
ctl status | grep -E '^ *forwarding'

step "What an auditor sees (role kansa1 in termguard_auditor): verification with the escrowed seeds"
db=termguard
psql -X -q -d "host=$tmp/pg/sock port=$port user=tgsuper dbname=termguard" \
    -c "CREATE ROLE kansa1 LOGIN IN ROLE termguard_auditor"
as=kansa1 central verify --escrow "$tmp/escrow"

# yesterday and today in Japan time: the records of the last hour, also just after midnight
period=(--from "$(TZ=Asia/Tokyo date -d yesterday +%F)" --to "$(TZ=Asia/Tokyo date +%F)")
step "The usage register (使用簿) of department 総務課"
as=kansa1 central report usage "${period[@]}" --department 総務課 --format table

step "The same register as one HTML file (open it in a browser, print to PDF)"
as=kansa1 central report usage "${period[@]}" --department 総務課 --format html --lang ja >"$html"
echo "$html"
echo "PostgreSQL's log holds $(grep -c 'AUDIT: OBJECT' "$tmp/pg/log") reads of staff records, logged by pgaudit: the ones above."
echo "terminal $host_id: its records are in the central store; the demo's cluster is removed now."
