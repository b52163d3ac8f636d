/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report: the fleet's audit reports, made by the same definitions and formatters as
 * termguardctl report (lib/report*.c): the terminals' records are streamed from the auditors'
 * views in (host, seq) order, each host's from its first record (the register and exceptions
 * are built from the records before the period too); host health comes from verification.
 * The same records give the same CSV bytes as on the terminal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "central.h"
#include "central-verify.h"
#include "termguard/report.h"
#include "termguard/timeutil.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(tg_report *, tg_report_free);

/* A department or host filter is a value, never SQL: both go as parameters. */
static int feed_records(PGconn *conn, tg_report *rep, const tg_report_period *period, const char *department,
                        const char *host) {
        static const char sql[] =
                "SELECT host_id, department, coalesce(hostname, ''), seq, time_usec, boot_id, type, fields::text "
                "FROM termguard_report.events WHERE time < to_timestamp($1::bigint / 1000000.0) "
                "AND ($2::text IS NULL OR department = $2) AND ($3::uuid IS NULL OR host_id = $3::uuid) "
                "ORDER BY host_id, seq";
        char to[24];
        const char *params[] = {to, department, host};
        PGresult *res;
        int r = 0;

        snprintf(to, sizeof(to), "%" PRId64, period->to_usec);
        if (!PQsendQueryParams(conn, sql, 3, NULL, params, NULL, NULL, 0) || !PQsetSingleRowMode(conn)) {
                fprintf(stderr, "termguard-central report: %s", PQerrorMessage(conn));
                return -EIO;
        }
        while ((res = PQgetResult(conn))) {
                ExecStatusType st = PQresultStatus(res);
                if (st == PGRES_SINGLE_TUPLE && r == 0) {
                        const char *keys[TG_JOURNAL_FIELDS_MAX], *values[TG_JOURNAL_FIELDS_MAX];
                        json_object *fields = json_tokener_parse(PQgetvalue(res, 0, 7));
                        tg_report_record x = {.host_id = PQgetvalue(res, 0, 0),
                                              .department = PQgetvalue(res, 0, 1),
                                              .hostname = PQgetvalue(res, 0, 2),
                                              .seq = strtoull(PQgetvalue(res, 0, 3), NULL, 10),
                                              .time_usec = strtoll(PQgetvalue(res, 0, 4), NULL, 10),
                                              .boot_id = PQgetvalue(res, 0, 5),
                                              .type = PQgetvalue(res, 0, 6),
                                              .keys = keys,
                                              .values = values};
                        /* fields as ingest stored them: [[key, value], ...]; anything else is
                         * taken as no fields (verify reports such a row) */
                        size_t n = fields && json_object_is_type(fields, json_type_array)
                                           ? json_object_array_length(fields)
                                           : 0;
                        for (size_t i = 0; i < n && x.n_fields < TG_JOURNAL_FIELDS_MAX; i++) {
                                json_object *pair = json_object_array_get_idx(fields, i);
                                if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2)
                                        continue;
                                keys[x.n_fields] = json_object_get_string(json_object_array_get_idx(pair, 0));
                                values[x.n_fields] = json_object_get_string(json_object_array_get_idx(pair, 1));
                                if (keys[x.n_fields] && values[x.n_fields])
                                        x.n_fields++;
                        }
                        r = tg_report_add_record(rep, &x);
                        json_object_put(fields);
                } else if (st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE) {
                        fprintf(stderr, "termguard-central report: %s", PQresultErrorMessage(res));
                        r = -EIO;
                }
                PQclear(res);
        }
        return r;
}

typedef struct {
        tg_report *rep;
        const char *department;
        int r;
} hosts_feed;

static void add_host(const central_host_info *h, const tg_host_verify_result *res, void *userdata) {
        hosts_feed *f = userdata;
        char detail[256] = "";
        tg_report_host x = {.host_id = h->host_id,
                            .hostname = h->hostname,
                            .department = h->department,
                            .records = res->records,
                            .last_seq = res->last_seq,
                            .last_seen_usec = res->last_seen_usec,
                            .last_checkpoint_usec = res->last_checkpoint_usec,
                            .silent = res->silent,
                            .gaps = res->gaps,
                            .missing = res->missing,
                            .tampered = res->tampered,
                            .first_bad_seq = res->first_bad_seq,
                            .clock_unsynchronised = res->clock_unsynchronised > 0,
                            .revoked = h->revoked};
        if (f->department && strcmp(f->department, h->department) != 0)
                return;
        if (res->problems > 0) {
                snprintf(detail, sizeof(detail), "%s at seq %" PRIu64 ": %s", tg_host_finding_name(&res->first),
                         res->first.seq, tg_host_finding_text(&res->first));
                x.detail = detail;
        }
        if (f->r == 0)
                f->r = tg_report_add_host(f->rep, &x);
}

int central_report(const central_context *ctx, int argc, char **argv) {
        const char *from = NULL, *to = NULL, *month = NULL, *fiscal_year = NULL, *department = NULL, *host = NULL,
                   *format = NULL, *lang = NULL, *escrow = NULL, *silent_after = NULL;
        central_option opts[] = {
                {"from", false, &from},
                {"to", false, &to},
                {"month", false, &month},
                {"fiscal-year", false, &fiscal_year},
                {"department", false, &department},
                {"host", false, &host},
                {"format", false, &format},
                {"lang", false, &lang},
                {"escrow", false, &escrow},
                {"silent-after", false, &silent_after},
        };
        _cleanup_pgconn_ PGconn *conn = NULL;
        _cleanup_(tg_report_freep) tg_report *rep = NULL;
        tg_report_period period;
        tg_report_period_error period_error;
        uint8_t id[TG_JOURNAL_ID_SIZE];
        int kind, fmt = TG_REPORT_TABLE, lng, n, r;
        char **args, scope[512];

        r = central_parse("report", argc, argv, opts, ELEMENTSOF(opts), 1, 1, &args, &n);
        if (r < 0)
                return r;
        kind = tg_report_kind_from_string(args[0]);
        if (kind < 0) {
                fprintf(stderr,
                        "termguard-central report: unknown report %s (usage, media, exceptions, blocked, mfa, "
                        "hosts)\n",
                        args[0]);
                return -EINVAL;
        }
        if (tg_report_period_parse(
                    &(tg_report_period_args){.from = from, .to = to, .month = month, .fiscal_year = fiscal_year},
                    &period, &period_error) < 0) {
                fprintf(stderr, "termguard-central report: give one period: --from DATE --to DATE, --month YYYY-MM "
                                "or --fiscal-year YYYY (dates in Japan time)\n");
                return -EINVAL;
        }
        if (format && (fmt = tg_report_format_from_string(format)) < 0) {
                fprintf(stderr, "termguard-central report: --format is table, csv, json or html\n");
                return -EINVAL;
        }
        lng = lang ? tg_report_lang_from_string(lang) : (int) tg_report_lang_from_environment();
        if (lng < 0) {
                fprintf(stderr, "termguard-central report: --lang is ja or en\n");
                return -EINVAL;
        }
        if (host && central_parse_uuid(host, id) < 0) {
                fprintf(stderr, "termguard-central report: --host wants a host id (UUID): %s\n", host);
                return -EINVAL;
        }
        if (department && (!*department || strlen(department) > 256)) {
                fprintf(stderr, "termguard-central report: --department wants a department name\n");
                return -EINVAL;
        }
        r = central_connect(ctx, CENTRAL_DATABASE, &conn);
        if (r < 0)
                return r;
        r = tg_report_new((tg_report_kind) kind, &period, &rep);
        if (r < 0)
                return r;
        if (kind == TG_REPORT_HOSTS) {
                hosts_feed f = {.rep = rep, .department = department};
                central_verify_options o = {.host = host, .escrow = escrow, .done = add_host, .userdata = &f};
                if (silent_after) {
                        if (tg_parse_duration(silent_after, &o.silent_after_usec) < 0 || o.silent_after_usec <= 0) {
                                fprintf(stderr, "termguard-central report: --silent-after wants a duration\n");
                                return -EINVAL;
                        }
                        o.silent_after_usec *= 1000000;
                }
                r = central_verify_hosts(conn, &o);
                if (r >= 0)
                        r = f.r;
        } else
                r = feed_records(conn, rep, &period, department, host);
        if (r < 0)
                return r;
        r = tg_report_finish(rep);
        if (r < 0)
                return r;
        if (lng == TG_REPORT_LANG_JA)
                snprintf(scope, sizeof(scope), "%s%s%s%s", department ? "部署 " : "全端末",
                         department ? department : "", host ? "、端末 " : "", host ? host : "");
        else
                snprintf(scope, sizeof(scope), "%s%s%s%s", department ? "department " : "all terminals",
                         department ? department : "", host ? ", host " : "", host ? host : "");
        r = tg_report_write(rep, stdout,
                            &(tg_report_output){.format = (tg_report_format) fmt,
                                                .lang = (tg_report_lang) lng,
                                                .scope = scope,
                                                .generated_usec = (int64_t) time(NULL) * 1000000});
        if (r == 0 && fflush(stdout) != 0)
                r = -EIO;
        return r;
}
