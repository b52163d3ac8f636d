#!/bin/bash
# bench/central.sh [BUILD_DIR] [--records N] [--hosts N] [--terminals N] [--batches N] [--keep DIR]
#
# Figures of the central store on a real PostgreSQL 15 with its default settings, in a
# temporary cluster set up by termguard-central init: a city's year (3,000 terminals, 10 M
# records of the real mix, bench/central-gen.c) loaded with COPY, the usage rollup built, then
# the usage register for one fiscal year by department and month (naive over the events and
# from the rollup), the gap scan, verification of one host with every MAC, the ingest rate of
# terminals each connecting over TLS with its own certificate, sending a batch and
# disconnecting, and append-to-commit latency. Prints figures beside the anchors; decides
# nothing. Needs root (the cluster runs as the postgres user). See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
build='' records=10000000 hosts=3000 terminals=200 batches=2000 keep=''
while [ $# -gt 0 ]; do
    case $1 in
    --records) records=${2:?}; shift 2 ;;
    --hosts) hosts=${2:?}; shift 2 ;;
    --terminals) terminals=${2:?}; shift 2 ;;
    --batches) batches=${2:?}; shift 2 ;;
    --keep) keep=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "central-bench: unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "central-bench: needs root (the cluster runs as postgres)" >&2; exit 2; }
pg=/usr/lib/postgresql/15/bin
[ -x "$pg/initdb" ] || { echo "central-bench: PostgreSQL 15 missing (scripts/install-deps.sh test)" >&2; exit 2; }

if [ -z "$build" ]; then
    build="$top/build-bench"
    cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$build" -j2 --target termguard termguard-central >/dev/null
work=$(mktemp -d /var/tmp/tg-central-bench.XXXXXX)
chmod 0755 "$work"
chown postgres: "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg() { setpriv --reuid=postgres --regid=postgres --clear-groups "$@"; }
cleanup() {
    [ -f "$work/data/postmaster.pid" ] && as_pg "$pg/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
    if [ -n "$keep" ]; then rm -rf "$keep"; mv "$work" "$keep"; else rm -rf "$work"; fi
}
trap cleanup EXIT

libs=$(pkg-config --libs libpq libgcrypt json-c inih libusb-1.0)
cc -O2 -Wall -Wextra -Werror -I"$top/include" -I"$top/lib" -o "$work/central-gen" "$here/central-gen.c" \
    "$build/lib/libtermguard.a" $libs
cc -O2 -Wall -Wextra -Werror -I"$top/include" $(pkg-config --cflags libpq) -o "$work/central-ingest" \
    "$here/central-ingest.c" "$build/lib/libtermguard.a" $libs

mkdir "$work/sock" && chown postgres: "$work/sock"
mkdir -m 0700 "$work/ca" && chmod 0700 "$work"/ca
as_pg "$pg/initdb" -D "$work/data" -U postgres --auth-local=trust --auth-host=reject -E UTF8 --locale=C >/dev/null
as_pg "$pg/pg_ctl" -D "$work/data" -l "$work/log" -w start \
    -o "-k $work/sock -c listen_addresses=127.0.0.1 -p $port" >/dev/null
dsn="host=$work/sock port=$port user=postgres dbname=postgres"
central() { TG_CENTRAL_SQL_DIR="$top/central/sql" "$build/central/termguard-central" --dsn "$dsn" --ca-dir "$work/ca" "$@"; }
central init --escrow "$work/escrow" --server-name localhost >/dev/null
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "host=$work/sock port=$port user=postgres dbname=termguard" "$@"; }
# timed query: the figure psql reports (server round trip), in seconds
timed() { sql -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1 | awk '{printf "%.2f", $1/1000}'; }

echo "central-bench: PostgreSQL $(sql -c 'SHOW server_version'), defaults but fsync as configured; $(nproc) CPUs"
echo "central-bench: $records records, $hosts terminals, fiscal year 2025"

# a partition for each month of the year
sql -c "SELECT termguard.ensure_partition(t) FROM generate_series(timestamptz '2025-04-01 00:00+09',
        timestamptz '2026-03-01 00:00+09', interval '1 month') t" >/dev/null

mkfifo "$work/hosts.fifo" "$work/events.fifo" "$work/heartbeats.fifo"
t0=$(date +%s.%N)
"$work/central-gen" --hosts "$hosts" --records "$records" --escrow "$work/bench-escrow" \
    --hosts-out "$work/hosts.fifo" --events-out "$work/events.fifo" --heartbeats-out "$work/heartbeats.fifo" &
gen=$!
# the generator writes hosts last: read it into a file while the two tables load
cat "$work/hosts.fifo" >"$work/hosts.copy" &
sql -c "\\copy termguard.heartbeats (host_id, seq, time, time_usec, boot_id, clock, priority, type, uid, pid, comm, unit, fields, prev_mac, mac, raw, received_at) FROM '$work/heartbeats.fifo'" &
hb=$!
sql -c "\\copy termguard.events (host_id, seq, time, time_usec, boot_id, clock, priority, type, uid, pid, comm, unit, fields, prev_mac, mac, raw, received_at) FROM '$work/events.fifo'"
wait $hb $gen
wait
sql -c "\\copy termguard.hosts (host_id, role, department, hostname, enrolled_at, revoked_at, last_seq, last_received_at) FROM '$work/hosts.copy'"
t1=$(date +%s.%N)
n=$(sql -c "SELECT (SELECT count(*) FROM termguard.events) + (SELECT count(*) FROM termguard.heartbeats)")
awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "load (COPY, generated on the fly, indexes and tripwire in place): %d rows in %.0f s, %.0f rows/s   [anchor: bulk COPY 307k rows/s]\n", n, b-a, n/(b-a) }'

t=$(timed "INSERT INTO termguard.usage_monthly (host_id, month, type, count)
           SELECT host_id, termguard.month_of(time), type, count(*) FROM termguard.events GROUP BY 1, 2, 3")
echo "usage rollup built once from the events: $t s (ingest keeps it up to date afterwards)"
sql -c "VACUUM ANALYZE" >/dev/null
echo "size: $(sql -c "SELECT pg_size_pretty(pg_database_size('termguard'))")"

naive="SELECT h.department, date_trunc('month', e.time AT TIME ZONE 'Asia/Tokyo')::date AS month,
       count(*) FILTER (WHERE e.type = 'usb.decision') AS decisions,
       count(*) FILTER (WHERE e.type = 'usb.attach') AS uses,
       count(*) FILTER (WHERE e.type = 'media.file-written') AS files
  FROM termguard.events e JOIN termguard.hosts h USING (host_id)
 WHERE e.time >= '2025-04-01 00:00+09' AND e.time < '2026-04-01 00:00+09'
 GROUP BY 1, 2 ORDER BY 1, 2"
# sum() over no rows is NULL where count() is 0: a department's month without one of the
# three types (common at small sizes) would print empty where the naive query prints 0.
rollup="SELECT department, month,
       coalesce(sum(count) FILTER (WHERE type = 'usb.decision'), 0) AS decisions,
       coalesce(sum(count) FILTER (WHERE type = 'usb.attach'), 0) AS uses,
       coalesce(sum(count) FILTER (WHERE type = 'media.file-written'), 0) AS files
  FROM termguard_report.usage_monthly
 WHERE month >= '2025-04-01' AND month < '2026-04-01'
 GROUP BY 1, 2 ORDER BY 1, 2"
sql -c "$naive" >/dev/null # warm the cache once, as the anchor's figures are
echo "usage register, one year by department and month:"
echo "  naive over the events:  $(timed "$naive") s   [anchor: 16.4 s naive; department x month alone 3.4 s]"
echo "  from the rollup:        $(timed "$rollup") s   [goal: under 2 s]"
if [ "$(sql -c "$naive")" = "$(sql -c "$rollup")" ]; then
    echo "  (both give the same rows)"
else
    echo "  (the rows DIFFER; naive <, rollup >, the first few:)"
    diff <(sql -c "$naive") <(sql -c "$rollup") | grep '^[<>]' | head -10 | sed 's/^/    /' || true
fi
# The rollup itself, row for row: (host, month, type) rows of usage_monthly that differ from
# the events grouped the same way (every month: records outside the fiscal year and in
# events_default included). After the one-time build this is 0 by construction; after the
# ingest runs below it checks what the ingest function maintained.
rollup_off() {
    sql -c "SELECT count(*) FROM (
        (SELECT host_id, termguard.month_of(time), type, count(*) FROM termguard.events GROUP BY 1, 2, 3
         EXCEPT ALL SELECT host_id, month, type, count FROM termguard.usage_monthly)
        UNION ALL
        (SELECT host_id, month, type, count FROM termguard.usage_monthly
         EXCEPT ALL SELECT host_id, termguard.month_of(time), type, count(*) FROM termguard.events GROUP BY 1, 2, 3)) d"
}

gaps_naive="SELECT count(*) FROM (SELECT seq - lag(seq) OVER (PARTITION BY host_id ORDER BY seq) AS d
  FROM (SELECT host_id, seq FROM termguard.events UNION ALL SELECT host_id, seq FROM termguard.heartbeats) s) x
 WHERE d > 1"
gaps_count="SELECT count(*) FROM termguard.hosts h
 WHERE h.last_seq <> (SELECT count(*) FROM termguard.events e WHERE e.host_id = h.host_id)
                   + (SELECT count(*) FROM termguard.heartbeats b WHERE b.host_id = h.host_id)"
echo "gap scan over every host:"
echo "  window over all seqs:   $(timed "$gaps_naive") s   [anchor: 4.9 s]"
echo "  count per host vs last_seq (index-only): $(timed "$gaps_count") s"

one=$(sql -c "SELECT host_id FROM termguard.hosts ORDER BY host_id LIMIT 1")
t0=$(date +%s.%N)
central verify --host "$one" --escrow "$work/bench-escrow" --silent-after 7d >/dev/null || true
t1=$(date +%s.%N)
per=$(sql -c "SELECT last_seq FROM termguard.hosts WHERE host_id = '$one'")
awk -v n="$per" -v a="$t0" -v b="$t1" 'BEGIN { printf "verify one host, every MAC with its escrowed seed: %d records in %.2f s (%.0f records/s)\n", n, b-a, n/(b-a) }'

# ingest: enrolled terminals, each with its certificate; one set of them sends each batch over
# a new TLS connection, another set (the same batches, records new to those terminals) keeps
# its connection between its batches, as the forwarder does while records keep coming
enroll_set() {
    : >"$work/bundles-$1"
    for i in $(seq 1 "$terminals"); do
        central enroll-host --department "総務課" --out "$work/bundle-$1-$i" --escrow "$work/escrow" \
            --central-host 127.0.0.1 --port "$port" >/dev/null
        echo "$work/bundle-$1-$i" >>"$work/bundles-$1"
    done
}
enroll_set new
enroll_set kept
# each terminal's batches, 50 records each, in its seq order
"$work/central-gen" --batches --batch-size 50 --hosts "$terminals" --records $((batches * 50)) >"$work/batches"
# where the server's time goes: PL/pgSQL functions (track_functions) and WAL flushes
sql -c "ALTER SYSTEM SET track_functions = 'pl'" -c "ALTER SYSTEM SET track_wal_io_timing = on" \
    -c "SELECT pg_reload_conf()" >/dev/null
server_figures() {
    sql -F ' ' -c "SELECT '  ' || rpad(funcname, 20) || lpad(calls::text, 8) || ' calls, self ' ||
                          lpad(round(self_time::numeric / 1000, 2)::text, 8) || ' s, total ' ||
                          lpad(round(total_time::numeric / 1000, 2)::text, 8) || ' s'
                     FROM pg_stat_user_functions ORDER BY self_time DESC LIMIT 8" \
        -c "SELECT '  WAL: ' || wal_sync || ' flushes, ' || round(wal_sync_time::numeric / 1000, 2) || ' s flushing, ' ||
                   pg_size_pretty(wal_bytes) || ' written' FROM pg_stat_wal"
    sql -c "SELECT pg_stat_reset(), pg_stat_reset_shared('wal')" >/dev/null
}
for mode in new kept; do
    sql -c "SELECT pg_stat_reset(), pg_stat_reset_shared('wal')" >/dev/null
    if [ "$mode" = new ]; then
        echo "ingest, $terminals terminals, batches of 50 records of the mix, 4 at a time, a new TLS connection per batch:"
        "$work/central-ingest" rate 4 "$work/bundles-new" <"$work/batches" | sed 's/^/  /' || true
    else
        echo "ingest, $terminals other terminals, the same batches, 4 at a time, each terminal's connection kept:"
        "$work/central-ingest" rate 4 "$work/bundles-kept" keep <"$work/batches" | sed 's/^/  /' || true
    fi
    echo "  server side (PL/pgSQL functions by self time; WAL):"
    server_figures
done
echo "  [anchor: bulk COPY 307k rows/s]"
echo "  usage rollup after these ingests: $(rollup_off) (host, month, type) rows not matching the events"
# a terminal of its own: its journal starts at seq 1 like the centre's record of it
central enroll-host --department "総務課" --out "$work/bundle-latency" --escrow "$work/escrow" \
    --central-host 127.0.0.1 --port "$port" >/dev/null
mkdir -m 0700 "$work/latency"
"$work/central-ingest" latency 200 "$work/bundle-latency" "$work/latency/journal"
