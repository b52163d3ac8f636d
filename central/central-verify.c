/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify: every terminal's records in the central store, checked by lib's host verification
 * (tg_host_verify: the journal's own decoder and verifier over the raw bytes, every MAC with
 * the auditors' escrowed seed, columns against the bytes, gaps, truncation, conflicts, silence,
 * unsynchronised clocks). Reads only the auditors' views (termguard_report), so an auditor's
 * role is enough; the seeds stay in the escrow directory, never in the database.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "central.h"
#include "central-verify.h"
#include "termguard/fileio.h"
#include "termguard/hex.h"
#include "termguard/host-verify.h"
#include "termguard/timeutil.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(tg_host_verify *, tg_host_verify_free);

/* Findings printed per host; the count is always complete. */
#define FINDINGS_SHOWN_MAX 20
/* A watermark file: "HOSTID SEQ MAC KEY\n", the MAC and key in hex. */
#define WATERMARK_TEXT_MAX (36 + 1 + 20 + 1 + 2 * TG_JOURNAL_MAC_SIZE + 1 + 2 * TG_JOURNAL_MAC_SIZE + 1)

int central_parse_uuid(const char *s, uint8_t ret[TG_JOURNAL_ID_SIZE]) {
        char hex[2 * TG_JOURNAL_ID_SIZE + 1];
        size_t n = 0, got;

        if (!s || strlen(s) != 36)
                return -EINVAL;
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash != (s[i] == '-'))
                        return -EINVAL;
                if (!dash)
                        hex[n++] = s[i];
        }
        hex[n] = 0;
        return tg_hex_decode(hex, ret, TG_JOURNAL_ID_SIZE, &got) < 0 || got != TG_JOURNAL_ID_SIZE ? -EINVAL : 0;
}

/* bytea in text output ("\x..."), exactly size bytes. */
static int bytea_exact(const char *text, uint8_t *ret, size_t size) {
        size_t got;
        if (!text || strncmp(text, "\\x", 2) != 0 || strlen(text + 2) != 2 * size)
                return -EBADMSG;
        return tg_hex_decode(text + 2, ret, size, &got) < 0 || got != size ? -EBADMSG : 0;
}

static int64_t parse_i64(const char *s) {
        return s ? strtoll(s, NULL, 10) : 0;
}

int central_check_watermark_dir(const char *dir) {
        struct stat st;

        if (lstat(dir, &st) < 0) {
                fprintf(stderr, "termguard-central: watermark directory %s: %m\n", dir);
                return -errno;
        }
        if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077)) {
                fprintf(stderr,
                        "termguard-central: watermark directory %s must be a directory of this user "
                        "with mode 0700 (its keys forge records like the seeds)\n",
                        dir);
                return -EPERM;
        }
        return 0;
}

/* The host's watermark: 1 read into h, 0 when there is none, a negative errno when the file is
 * there but not this host's watermark (fail closed, as for a seed). */
static int read_watermark(const char *dir, central_host_info *h) {
        _cleanup_free_ char *path = NULL;
        char buf[WATERMARK_TEXT_MAX + 2], id[37], seq[21], mac[2 * TG_JOURNAL_MAC_SIZE + 1],
                key[2 * TG_JOURNAL_MAC_SIZE + 1], end;
        size_t got_mac = 0, got_key = 0;
        ssize_t n;
        int r = -EBADMSG;

        if (asprintf(&path, "%s/%s.verified", dir, h->host_id) < 0)
                return -ENOMEM;
        n = tg_read_file(path, buf, sizeof(buf) - 1);
        if (n == -ENOENT)
                return 0;
        if (n < 0)
                return (int) n;
        buf[n] = 0;
        if ((size_t) n <= WATERMARK_TEXT_MAX && strlen(buf) == (size_t) n &&
            sscanf(buf, "%36s %20[0-9] %64[0-9a-f] %64[0-9a-f]%c", id, seq, mac, key, &end) == 5 && end == '\n' &&
            buf[n - 1] == '\n' && strchr(buf, '\n') == buf + n - 1 && strcmp(id, h->host_id) == 0 &&
            tg_hex_decode(mac, h->verified_mac, sizeof(h->verified_mac), &got_mac) == 0 &&
            got_mac == TG_JOURNAL_MAC_SIZE &&
            tg_hex_decode(key, h->verified_key, sizeof(h->verified_key), &got_key) == 0 &&
            got_key == TG_JOURNAL_MAC_SIZE) {
                errno = 0;
                h->verified_seq = strtoull(seq, NULL, 10);
                r = errno || h->verified_seq == 0 ? -EBADMSG : 1;
        }
        explicit_bzero(buf, sizeof(buf));
        explicit_bzero(key, sizeof(key));
        if (r < 0) {
                h->verified_seq = 0;
                explicit_bzero(h->verified_key, sizeof(h->verified_key));
        }
        return r;
}

static int write_watermark(const char *dir, const central_host_info *h, uint64_t seq,
                           const uint8_t mac[TG_JOURNAL_MAC_SIZE], const uint8_t key[TG_JOURNAL_MAC_SIZE]) {
        _cleanup_free_ char *path = NULL;
        char mac_hex[2 * TG_JOURNAL_MAC_SIZE + 1], key_hex[2 * TG_JOURNAL_MAC_SIZE + 1], buf[WATERMARK_TEXT_MAX + 1];
        int n, r;

        if (asprintf(&path, "%s/%s.verified", dir, h->host_id) < 0)
                return -ENOMEM;
        (void) tg_hex_encode(mac, TG_JOURNAL_MAC_SIZE, mac_hex, sizeof(mac_hex));
        (void) tg_hex_encode(key, TG_JOURNAL_MAC_SIZE, key_hex, sizeof(key_hex));
        n = snprintf(buf, sizeof(buf), "%s %" PRIu64 " %s %s\n", h->host_id, seq, mac_hex, key_hex);
        r = n > 0 && (size_t) n < sizeof(buf)
                    ? tg_write_file_atomic(AT_FDCWD, path, buf, (size_t) n, geteuid(), getegid(), 0600)
                    : -EINVAL;
        explicit_bzero(key_hex, sizeof(key_hex));
        explicit_bzero(buf, sizeof(buf));
        return r;
}

typedef struct {
        const central_verify_options *opt;
        const central_host_info *host;
        unsigned shown;
} host_output;

static void on_finding(const tg_host_finding *f, void *userdata) {
        host_output *o = userdata;
        if (o->opt->report)
                o->opt->report(o->host, f, o->opt->userdata);
}

/* Streams one host's rows (events and checkpoints, in seq order) through the verifier. */
static int verify_host(PGconn *conn, const central_verify_options *opt, const central_host_info *h,
                       tg_host_verify_result *ret) {
        static const char rows_sql[] =
                "SELECT seq, boot_id, time_usec, clock, priority, type, uid, pid, comm, unit, fields::text, "
                "prev_mac, mac, raw FROM termguard_report.events WHERE host_id = $1 AND seq > $2 "
                "UNION ALL SELECT seq, boot_id, time_usec, clock, priority, type, uid, pid, comm, unit, fields::text, "
                "prev_mac, mac, raw FROM termguard_report.heartbeats WHERE host_id = $1 AND seq > $2 ORDER BY seq";
        _cleanup_pgresult_ PGresult *conflicts = NULL;
        char from[24], through[24];
        const char *params[] = {h->host_id, from}, *conflict_params[] = {h->host_id, through};
        /* resumed after an earlier verification's watermark when that reaches further than
         * retention: the rows up to it were verified, a change to them raised the tamper
         * alert (010-verify-alerts.sql) */
        bool resumed = h->have_seed && h->verified_seq > h->pruned_through;
        tg_host_verify_options vo = {.seed = h->have_seed ? h->seed : NULL,
                                     .known_last_seq = h->known_last_seq,
                                     .now_usec = h->revoked ? 0 : opt->now_usec,
                                     .silent_after_usec = opt->silent_after_usec,
                                     .enrolled_usec = h->enrolled_usec,
                                     .last_heartbeat_usec = h->last_heartbeat_usec,
                                     /* retention dropped the records up to the newest prune
                                      * mark: the chain starts after it; the checkpoints of
                                      * dropped months, kept below it, are no links any more */
                                     .have_start = resumed || h->pruned_through > 0,
                                     .start_seq = resumed ? h->verified_seq : h->pruned_through,
                                     .start_key = resumed ? h->verified_key : NULL,
                                     .report = on_finding};
        host_output out = {.opt = opt, .host = h};
        _cleanup_(tg_host_verify_freep) tg_host_verify *v = NULL;
        PGresult *res;
        int r = 0;

        vo.host_id = h->id;
        vo.userdata = &out;
        memcpy(vo.start_mac, resumed ? h->verified_mac : h->pruned_head_mac, sizeof(vo.start_mac));
        snprintf(from, sizeof(from), "%" PRIu64, vo.start_seq);
        /* conflicts: every one since retention, also those under seqs verified before */
        snprintf(through, sizeof(through), "%" PRIu64, h->pruned_through);
        r = tg_host_verify_new(&vo, &v);
        if (r < 0)
                return r;
        /* row by row: a host's year does not have to fit in memory */
        if (!PQsendQueryParams(conn, rows_sql, 2, NULL, params, NULL, NULL, 0) || !PQsetSingleRowMode(conn)) {
                fprintf(stderr, "termguard-central verify: %s", PQerrorMessage(conn));
                return -EIO;
        }
        while ((res = PQgetResult(conn))) {
                ExecStatusType st = PQresultStatus(res);
                if (st == PGRES_SINGLE_TUPLE && r == 0) {
                        uint8_t boot[TG_JOURNAL_ID_SIZE] = {0}, prev[TG_JOURNAL_MAC_SIZE] = {0},
                                mac[TG_JOURNAL_MAC_SIZE] = {0};
                        size_t raw_len = 0;
                        unsigned char *raw = PQunescapeBytea((const unsigned char *) PQgetvalue(res, 0, 13), &raw_len);
                        tg_host_row row = {
                                .seq = (uint64_t) parse_i64(PQgetvalue(res, 0, 0)),
                                .boot_id = central_parse_uuid(PQgetvalue(res, 0, 1), boot) == 0 ? boot : NULL,
                                .time_usec = parse_i64(PQgetvalue(res, 0, 2)),
                                .clock = (int) parse_i64(PQgetvalue(res, 0, 3)),
                                .priority = (int) parse_i64(PQgetvalue(res, 0, 4)),
                                .type = PQgetvalue(res, 0, 5),
                                .uid = parse_i64(PQgetvalue(res, 0, 6)),
                                .pid = parse_i64(PQgetvalue(res, 0, 7)),
                                .comm = PQgetvalue(res, 0, 8),
                                .unit = PQgetvalue(res, 0, 9),
                                .fields_json = PQgetvalue(res, 0, 10),
                                .prev_mac = bytea_exact(PQgetvalue(res, 0, 11), prev, sizeof(prev)) == 0 ? prev : NULL,
                                .mac = bytea_exact(PQgetvalue(res, 0, 12), mac, sizeof(mac)) == 0 ? mac : NULL,
                                .raw = raw ? raw : (const void *) "",
                                .raw_len = raw ? raw_len : 0,
                        };
                        int k = tg_host_verify_feed(v, &row, NULL);
                        PQfreemem(raw);
                        if (k < 0)
                                r = k;
                } else if (st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE) {
                        fprintf(stderr, "termguard-central verify: %s", PQresultErrorMessage(res));
                        r = -EIO;
                }
                PQclear(res);
        }
        if (r < 0)
                return r;
        r = central_query(conn,
                          "SELECT seq FROM termguard_report.conflicts WHERE host_id = $1 AND seq > $2 ORDER BY seq, id",
                          2, conflict_params, &conflicts);
        if (r < 0)
                return r;
        for (int i = 0; i < PQntuples(conflicts); i++)
                tg_host_verify_conflict(v, (uint64_t) parse_i64(PQgetvalue(conflicts, i, 0)));
        tg_host_verify_end(v, ret);
        if (opt->watermarks && h->have_seed) {
                uint8_t mac[TG_JOURNAL_MAC_SIZE], key[TG_JOURNAL_MAC_SIZE];
                uint64_t seq;
                if (tg_host_verify_state(v, &seq, mac, key) && seq > h->verified_seq) {
                        r = write_watermark(opt->watermarks, h, seq, mac, key);
                        /* not fatal: the next run verifies from the older watermark */
                        if (r < 0)
                                fprintf(stderr, "termguard-central verify: watermark of host %s not written: %s\n",
                                        h->host_id, strerror(-r));
                }
                explicit_bzero(key, sizeof(key));
        }
        return 0;
}

/* The seed of host_id from the escrow directory: 1, 0 when there is none, or a negative errno
 * when the file is there but unusable (another host's, damaged). */
static int read_seed(const char *escrow, central_host_info *h) {
        _cleanup_free_ char *path = NULL;
        uint8_t id[TG_JOURNAL_ID_SIZE];
        int r;

        if (asprintf(&path, "%s/%s.seed", escrow, h->host_id) < 0)
                return -ENOMEM;
        r = tg_journal_seed_read(path, h->seed, id);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (memcmp(id, h->id, sizeof(id)) != 0) {
                explicit_bzero(h->seed, sizeof(h->seed));
                return -EBADMSG;
        }
        h->have_seed = true;
        return 1;
}

int central_verify_hosts(PGconn *conn, const central_verify_options *opt) {
        _cleanup_pgresult_ PGresult *hosts = NULL, *now = NULL;
        const char *params[] = {opt->host};
        int r, failed = 0;

        r = central_query(conn, "SELECT (extract(epoch FROM now()) * 1000000)::bigint", 0, NULL, &now);
        if (r < 0)
                return r;
        central_verify_options o = *opt;
        if (o.now_usec == 0)
                o.now_usec = parse_i64(PQgetvalue(now, 0, 0));
        r = central_query(
                conn,
                "SELECT h.host_id, h.department, coalesce(h.hostname, ''), "
                "(extract(epoch FROM h.enrolled_at) * 1000000)::bigint, h.revoked_at IS NOT NULL, h.last_seq, "
                "coalesce((SELECT (extract(epoch FROM max(b.received_at)) * 1000000)::bigint "
                "FROM termguard_report.heartbeats b WHERE b.host_id = h.host_id), 0), "
                "coalesce(m.pruned_through, 0), m.head_mac "
                "FROM termguard_report.hosts h LEFT JOIN LATERAL (SELECT pruned_through, head_mac "
                "FROM termguard_report.prune_marks p WHERE p.host_id = h.host_id "
                "ORDER BY pruned_through DESC, id DESC LIMIT 1) m ON true "
                "WHERE $1::uuid IS NULL OR h.host_id = $1::uuid ORDER BY h.host_id",
                1, params, &hosts);
        if (r < 0)
                return r;
        if (opt->host && PQntuples(hosts) == 0) {
                fprintf(stderr, "termguard-central verify: no host %s\n", opt->host);
                return -ENOENT;
        }
        for (int i = 0; i < PQntuples(hosts); i++) {
                central_host_info h = {
                        .host_id = PQgetvalue(hosts, i, 0),
                        .department = PQgetvalue(hosts, i, 1),
                        .hostname = PQgetvalue(hosts, i, 2),
                        .enrolled_usec = parse_i64(PQgetvalue(hosts, i, 3)),
                        .revoked = strcmp(PQgetvalue(hosts, i, 4), "t") == 0,
                        .known_last_seq = (uint64_t) parse_i64(PQgetvalue(hosts, i, 5)),
                        .last_heartbeat_usec = parse_i64(PQgetvalue(hosts, i, 6)),
                        .pruned_through = (uint64_t) parse_i64(PQgetvalue(hosts, i, 7)),
                };
                tg_host_verify_result res;
                if (central_parse_uuid(h.host_id, h.id) < 0)
                        return -EBADMSG;
                if (h.pruned_through > 0 &&
                    bytea_exact(PQgetvalue(hosts, i, 8), h.pruned_head_mac, sizeof(h.pruned_head_mac)) < 0) {
                        /* the table's CHECK holds it to 32 bytes: fail closed all the same */
                        fprintf(stderr, "termguard-central verify: prune mark of host %s unreadable\n", h.host_id);
                        return -EBADMSG;
                }
                if (opt->escrow) {
                        r = read_seed(opt->escrow, &h);
                        if (r < 0) {
                                /* fail closed: a seed that is there but unusable is not "no seed" */
                                fprintf(stderr, "termguard-central verify: escrow file of host %s unusable: %s\n",
                                        h.host_id, strerror(-r));
                                return r;
                        }
                }
                if (opt->watermarks && h.have_seed) {
                        r = read_watermark(opt->watermarks, &h);
                        if (r < 0) {
                                explicit_bzero(h.seed, sizeof(h.seed));
                                fprintf(stderr, "termguard-central verify: watermark of host %s unusable: %s\n",
                                        h.host_id, strerror(-r));
                                return r;
                        }
                }
                r = verify_host(conn, &o, &h, &res);
                explicit_bzero(h.seed, sizeof(h.seed));
                explicit_bzero(h.verified_key, sizeof(h.verified_key));
                if (r < 0)
                        return r;
                if (opt->done)
                        opt->done(&h, &res, opt->userdata);
                if (res.problems > 0)
                        failed++;
        }
        return failed;
}

/* The verb. */

typedef struct {
        json_object *hosts; /* --format json */
        json_object *findings;
        unsigned shown;
        bool header; /* the host's line is out */
        uint64_t intact, not_intact, unverified_macs;
} verify_output;

static void print_host_name(const central_host_info *h) {
        printf("host %s (%s%s%s)", h->host_id, h->department, *h->hostname ? ", " : "", h->hostname);
}

static void print_finding(const central_host_info *h, const tg_host_finding *f, void *userdata) {
        verify_output *out = userdata;
        if (out->shown++ >= FINDINGS_SHOWN_MAX)
                return;
        if (out->findings) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "kind", json_object_new_string(tg_host_finding_name(f)));
                json_object_object_add(o, "note", json_object_new_boolean(f->note));
                json_object_object_add(o, "seq", json_object_new_uint64(f->seq));
                json_object_object_add(o, "expected", json_object_new_uint64(f->expected));
                if (f->column)
                        json_object_object_add(o, "column", json_object_new_string(f->column));
                json_object_object_add(o, "text", json_object_new_string(tg_host_finding_text(f)));
                json_object_array_add(out->findings, o);
                return;
        }
        if (!out->header) {
                print_host_name(h);
                putchar('\n');
                out->header = true;
        }
        printf("  %s: seq %" PRIu64, f->note ? "note" : "PROBLEM", f->seq);
        if (f->expected)
                printf(" (expected %" PRIu64 ")", f->expected);
        printf(": %s: %s", tg_host_finding_name(f), tg_host_finding_text(f));
        if (f->column)
                printf(" (%s)", f->column);
        if (f->kind == TG_HOST_FINDING_SILENT) {
                char t[TG_ISO8601_MAX];
                if (f->since_usec > 0) {
                        tg_format_iso8601(f->since_usec / 1000000, t, sizeof(t));
                        printf(" (last checkpoint %s)", t);
                } else
                        printf(" (no checkpoint ever)");
        }
        putchar('\n');
}

static void print_host(const central_host_info *h, const tg_host_verify_result *res, void *userdata) {
        verify_output *out = userdata;
        unsigned shown = out->shown;

        out->shown = 0;
        if (res->problems == 0)
                out->intact++;
        else
                out->not_intact++;
        if (!res->macs_checked)
                out->unverified_macs++;
        if (out->hosts) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "host_id", json_object_new_string(h->host_id));
                json_object_object_add(o, "department", json_object_new_string(h->department));
                json_object_object_add(o, "hostname", json_object_new_string(h->hostname));
                json_object_object_add(o, "intact", json_object_new_boolean(res->problems == 0));
                json_object_object_add(o, "macs_checked", json_object_new_boolean(res->macs_checked));
                json_object_object_add(o, "records", json_object_new_uint64(res->records));
                json_object_object_add(o, "first_seq", json_object_new_uint64(res->first_seq));
                json_object_object_add(o, "last_seq", json_object_new_uint64(res->last_seq));
                json_object_object_add(o, "problems", json_object_new_uint64(res->problems));
                json_object_object_add(o, "tampered", json_object_new_boolean(res->tampered));
                json_object_object_add(o, "first_bad_seq", json_object_new_uint64(res->first_bad_seq));
                json_object_object_add(o, "gaps", json_object_new_uint64(res->gaps));
                json_object_object_add(o, "missing", json_object_new_uint64(res->missing));
                json_object_object_add(o, "conflicts", json_object_new_uint64(res->conflicts));
                json_object_object_add(o, "silent", json_object_new_boolean(res->silent));
                json_object_object_add(o, "clock_unsynchronised", json_object_new_uint64(res->clock_unsynchronised));
                json_object_object_add(o, "revoked", json_object_new_boolean(h->revoked));
                json_object_object_add(o, "pruned_through", json_object_new_uint64(h->pruned_through));
                json_object_object_add(o, "verified_before",
                                       json_object_new_uint64(h->have_seed && h->verified_seq > h->pruned_through
                                                                      ? h->verified_seq
                                                                      : 0));
                if (res->problems > 0)
                        json_object_object_add(o, "first", json_object_new_string(tg_host_finding_name(&res->first)));
                json_object_object_add(o, "findings", out->findings);
                json_object_array_add(out->hosts, o);
                out->findings = json_object_new_array();
                return;
        }
        /* the findings were printed under the host's name as they came; its verdict follows */
        if (shown > FINDINGS_SHOWN_MAX)
                printf("  ... %u more\n", shown - FINDINGS_SHOWN_MAX);
        if (out->header) {
                printf("  => ");
        } else {
                print_host_name(h);
                printf(": ");
        }
        out->header = false;
        if (res->problems == 0)
                printf("intact");
        else if (res->problems > 0 && (res->tampered || res->gaps))
                printf("NOT INTACT, first bad record seq %" PRIu64 " (%s)",
                       res->tampered ? res->first_bad_seq : res->first.seq, tg_host_finding_name(&res->first));
        else
                printf("NOT INTACT (%s)", tg_host_finding_name(&res->first));
        printf(", %" PRIu64 " records, seq %" PRIu64 "..%" PRIu64, res->records, res->first_seq, res->last_seq);
        if (h->have_seed && h->verified_seq > h->pruned_through)
                printf(" (up to %" PRIu64 " verified before)", h->verified_seq);
        else if (h->pruned_through > 0)
                printf(" (up to %" PRIu64 " pruned)", h->pruned_through);
        printf(", %s%s\n", res->macs_checked ? "MACs checked" : "chain links only (no escrowed seed)",
               h->revoked ? ", revoked" : "");
}

int central_verify(const central_context *ctx, int argc, char **argv) {
        const char *host = NULL, *escrow = NULL, *silent_after = NULL, *format = NULL, *watermarks = NULL;
        central_option opts[] = {
                {"host", false, &host},
                {"escrow", false, &escrow},
                {"watermarks", false, &watermarks},
                {"silent-after", false, &silent_after},
                {"format", false, &format},
        };
        verify_output out = {0};
        central_verify_options o = {.report = print_finding, .done = print_host, .userdata = &out};
        _cleanup_pgconn_ PGconn *conn = NULL;
        uint8_t id[TG_JOURNAL_ID_SIZE];
        char **args;
        int n, r;

        r = central_parse("verify", argc, argv, opts, ELEMENTSOF(opts), 0, 0, &args, &n);
        if (r < 0)
                return r;
        if (host && central_parse_uuid(host, id) < 0) {
                fprintf(stderr, "termguard-central verify: --host wants a host id (UUID): %s\n", host);
                return -EINVAL;
        }
        if (silent_after && (tg_parse_duration(silent_after, &o.silent_after_usec) < 0 || o.silent_after_usec <= 0 ||
                             o.silent_after_usec > INT64_MAX / 1000000)) {
                fprintf(stderr, "termguard-central verify: --silent-after wants a duration (90m, 2h, 1d): %s\n",
                        silent_after);
                return -EINVAL;
        }
        o.silent_after_usec *= 1000000;
        if (format && strcmp(format, "json") != 0 && strcmp(format, "text") != 0) {
                fprintf(stderr, "termguard-central verify: --format is text or json\n");
                return -EINVAL;
        }
        if (format && strcmp(format, "json") == 0) {
                out.hosts = json_object_new_array();
                out.findings = json_object_new_array();
        }
        if (watermarks && !escrow) {
                fprintf(stderr, "termguard-central verify: --watermarks needs --escrow (a watermark is a key)\n");
                return -EINVAL;
        }
        if (watermarks && central_check_watermark_dir(watermarks) < 0)
                return -EINVAL;
        o.host = host;
        o.escrow = escrow;
        o.watermarks = watermarks;
        r = central_connect(ctx, CENTRAL_DATABASE, &conn);
        if (r < 0)
                return r;
        r = central_verify_hosts(conn, &o);
        if (r < 0) {
                json_object_put(out.hosts);
                json_object_put(out.findings);
                return r;
        }
        if (out.hosts) {
                json_object *top = json_object_new_object();
                json_object_object_add(top, "intact", json_object_new_boolean(out.not_intact == 0));
                json_object_object_add(top, "hosts", out.hosts);
                puts(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(top);
                json_object_put(out.findings);
        } else {
                printf("%" PRIu64 " hosts intact, %" PRIu64 " not intact", out.intact, out.not_intact);
                if (out.unverified_macs)
                        printf("; MACs not checked for %" PRIu64 " (no escrowed seed)", out.unverified_macs);
                putchar('\n');
        }
        return out.not_intact > 0 ? CENTRAL_EXIT_NOT_INTACT : 0;
}

/* pgaudit: the library preloaded (a restart makes it take effect), the audit role and its
 * settings (audit.sql). Fails when pgaudit is not installed: reads of staff records that
 * nobody logs are not a setup termguard makes. */
int central_configure_audit(const central_context *ctx, PGconn *conn) {
        _cleanup_pgresult_ PGresult *avail = NULL, *preload = NULL, *loaded = NULL;
        _cleanup_free_ char *list = NULL, *sql = NULL;
        char *lit;
        int r;

        r = central_query(conn, "SELECT FROM pg_available_extensions WHERE name = 'pgaudit'", 0, NULL, &avail);
        if (r < 0)
                return r;
        if (PQntuples(avail) == 0) {
                fprintf(stderr, "termguard-central: pgaudit is not installed (apt-get install postgresql-15-pgaudit): "
                                "reads of staff records would not be logged\n");
                return -ENOPKG;
        }
        r = central_query(conn, "SELECT current_setting('shared_preload_libraries')", 0, NULL, &preload);
        if (r < 0)
                return r;
        if (!strstr(PQgetvalue(preload, 0, 0), "pgaudit")) {
                const char *old = PQgetvalue(preload, 0, 0);
                if (asprintf(&list, "%s%spgaudit", old, *old ? "," : "") < 0)
                        return -ENOMEM;
                lit = PQescapeLiteral(conn, list, strlen(list));
                if (!lit)
                        return -ENOMEM;
                r = asprintf(&sql, "ALTER SYSTEM SET shared_preload_libraries = %s", lit);
                PQfreemem(lit);
                if (r < 0)
                        return -ENOMEM;
                r = central_exec(conn, sql);
                if (r < 0)
                        return r;
                printf("pgaudit added to shared_preload_libraries: restart PostgreSQL for reads to be logged\n");
        }
        r = central_run_file(conn, ctx->sql_dir, "audit.sql");
        if (r < 0)
                return r;
        /* once loaded (after the restart), the extension itself */
        r = central_query(conn, "SELECT FROM pg_settings WHERE name = 'pgaudit.role'", 0, NULL, &loaded);
        if (r < 0)
                return r;
        if (PQntuples(loaded) > 0)
                return central_exec(conn, "CREATE EXTENSION IF NOT EXISTS pgaudit");
        return 0;
}
