/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audit reports from hand-built record streams: what each report holds, hostile values
 * in every format, periods in Asia/Tokyo whatever TZ says, and the golden CSV files
 * (tests/unit/golden/): the fixed records of records.jsonl (and the host findings of
 * hosts.jsonl) give these bytes exactly, on a terminal and centrally.
 * TG_GOLDEN_UPDATE=1 rewrites the golden files instead (then review the diff).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "termguard/macro.h"
#include "termguard/report.h"

#define RECORDS_MAX 256
#define FIELDS_MAX 32

typedef struct {
        json_object *o;
        tg_report_record rec;
        const char *keys[FIELDS_MAX], *values[FIELDS_MAX];
} loaded;

static loaded records[RECORDS_MAX];
static size_t n_records;
static json_object *hosts[8];
static size_t n_hosts;

static const char *str(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t i64(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static bool boolean(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static FILE *golden_open(const char *name, const char *mode) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", TG_GOLDEN_DIR, name);
        return fopen(path, mode);
}

static int load(void **state) {
        char line[16384];
        FILE *f = golden_open("records.jsonl", "re");
        (void) state;
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                loaded *l = &records[n_records++];
                json_object *fields;
                assert_true(n_records <= RECORDS_MAX);
                l->o = json_tokener_parse(line);
                assert_non_null(l->o);
                l->rec = (tg_report_record){.host_id = str(l->o, "host_id"),
                                            .department = str(l->o, "department"),
                                            .boot_id = str(l->o, "boot_id"),
                                            .seq = (uint64_t) i64(l->o, "seq"),
                                            .time_usec = i64(l->o, "time_usec"),
                                            .type = str(l->o, "type"),
                                            .keys = l->keys,
                                            .values = l->values};
                assert_true(json_object_object_get_ex(l->o, "fields", &fields));
                for (size_t i = 0; i < json_object_array_length(fields); i++) {
                        json_object *pair = json_object_array_get_idx(fields, i);
                        assert_true(i < FIELDS_MAX);
                        l->keys[i] = json_object_get_string(json_object_array_get_idx(pair, 0));
                        l->values[i] = json_object_get_string(json_object_array_get_idx(pair, 1));
                        l->rec.n_fields++;
                }
        }
        fclose(f);
        f = golden_open("hosts.jsonl", "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                assert_true(n_hosts < ELEMENTSOF(hosts));
                hosts[n_hosts] = json_tokener_parse(line);
                assert_non_null(hosts[n_hosts]);
                n_hosts++;
        }
        fclose(f);
        return 0;
}

static int unload(void **state) {
        (void) state;
        for (size_t i = 0; i < n_records; i++)
                json_object_put(records[i].o);
        for (size_t i = 0; i < n_hosts; i++)
                json_object_put(hosts[i]);
        return 0;
}

static tg_report_period fiscal_2026(void) {
        tg_report_period p;
        assert_int_equal(tg_report_period_fiscal_year("2026", &p), 0);
        return p;
}

/* Feeds the golden records; by_host: every record of the first host, then the next (as a
 * store might hand them over), instead of the file's order. */
static tg_report *build(tg_report_kind kind, const tg_report_period *p, bool by_host) {
        tg_report *r;
        assert_int_equal(tg_report_new(kind, p, &r), 0);
        if (kind == TG_REPORT_HOSTS) {
                for (size_t i = 0; i < n_hosts; i++) {
                        json_object *h = hosts[i];
                        tg_report_host x = {.host_id = str(h, "host_id"),
                                            .hostname = str(h, "hostname"),
                                            .department = str(h, "department"),
                                            .records = (uint64_t) i64(h, "records"),
                                            .last_seq = (uint64_t) i64(h, "last_seq"),
                                            .last_seen_usec = i64(h, "last_seen_usec"),
                                            .last_checkpoint_usec = i64(h, "last_checkpoint_usec"),
                                            .silent = boolean(h, "silent"),
                                            .gaps = (uint64_t) i64(h, "gaps"),
                                            .missing = (uint64_t) i64(h, "missing"),
                                            .tampered = boolean(h, "tampered"),
                                            .first_bad_seq = (uint64_t) i64(h, "first_bad_seq"),
                                            .clock_unsynchronised = boolean(h, "clock_unsynchronised"),
                                            .revoked = boolean(h, "revoked"),
                                            .detail = str(h, "detail")};
                        assert_int_equal(tg_report_add_host(r, &x), 0);
                }
        } else if (by_host) {
                for (int pass = 0; pass < 2; pass++)
                        for (size_t i = 0; i < n_records; i++)
                                if ((strcmp(records[i].rec.host_id, records[0].rec.host_id) == 0) == (pass == 0))
                                        assert_int_equal(tg_report_add_record(r, &records[i].rec), 0);
        } else {
                for (size_t i = 0; i < n_records; i++)
                        assert_int_equal(tg_report_add_record(r, &records[i].rec), 0);
        }
        assert_int_equal(tg_report_finish(r), 0);
        return r;
}

static char *render(const tg_report *r, tg_report_format format, tg_report_lang lang, size_t *ret_len) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        assert_int_equal(tg_report_write(r, f,
                                         &(tg_report_output){.format = format,
                                                             .lang = lang,
                                                             .scope = "test <scope> \"=1\"",
                                                             .generated_usec = INT64_C(1780000000000000)}),
                         0);
        fclose(f);
        if (ret_len)
                *ret_len = len;
        return buf;
}

static json_object *render_json(const tg_report *r) {
        _cleanup_free_ char *text = render(r, TG_REPORT_JSON, TG_REPORT_LANG_EN, NULL);
        size_t n = strlen(text);
        assert_true(n > 0 && text[n - 1] == '\n');
        json_object *o = json_tokener_parse(text);
        assert_non_null(o);
        return o;
}

static json_object *section(json_object *o, const char *id) {
        json_object *s, *rows;
        assert_true(json_object_object_get_ex(o, "sections", &s));
        assert_true(json_object_object_get_ex(s, id, &rows));
        return rows;
}

static json_object *row(json_object *o, const char *id, size_t i) {
        json_object *rows = section(o, id);
        assert_true(i < json_object_array_length(rows));
        return json_object_array_get_idx(rows, i);
}

static size_t n_rows(json_object *o, const char *id) {
        return json_object_array_length(section(o, id));
}

/* ---- periods ---- */

static void periods_are_tokyo_days(void **state) {
        tg_report_period p;
        char t[TG_REPORT_TIME_MAX];
        (void) state;
        /* 2026-04-01T00:00+09:00 = 2026-03-31T15:00Z */
        p = fiscal_2026();
        assert_int_equal(p.from_usec, INT64_C(1774969200) * 1000000);
        assert_int_equal(p.to_usec, INT64_C(1806505200) * 1000000);
        assert_int_equal(tg_report_period_month("2028-02", &p), 0);
        assert_int_equal(p.to_usec - p.from_usec, INT64_C(29) * 86400 * 1000000); /* leap year */
        assert_int_equal(tg_report_period_month("2026-12", &p), 0);
        tg_report_format_time(p.to_usec, t, sizeof(t));
        assert_string_equal(t, "2027-01-01 00:00:00");
        assert_int_equal(tg_report_period_dates("2026-04-01", "2026-04-01", &p), 0);
        assert_int_equal(p.to_usec - p.from_usec, INT64_C(86400) * 1000000); /* --to includes its day */
        tg_report_format_time(p.from_usec, t, sizeof(t));
        assert_string_equal(t, "2026-04-01 00:00:00");
        tg_report_format_time(0, t, sizeof(t));
        assert_string_equal(t, "");
}

static void bad_periods_are_refused(void **state) {
        static const char *const months[] = {"2026-13",  "2026-00", "2026-1",      "26-01",  "2026/01",
                                             "2026-01x", "",        "１２３４-01", "1969-12"};
        static const char *const dates[] = {"2026-02-29", "2026-04-31", "2026-4-01", "2026-04-01T00:00",
                                            "0000-01-01", "2026-04-00", "abcd-ef-gh"};
        tg_report_period p = {1, 2};
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(months); i++)
                assert_int_equal(tg_report_period_month(months[i], &p), -EINVAL);
        for (size_t i = 0; i < ELEMENTSOF(dates); i++)
                assert_int_equal(tg_report_period_dates(dates[i], "2026-05-01", &p), -EINVAL);
        assert_int_equal(tg_report_period_dates("2026-05-02", "2026-05-01", &p), -EINVAL);
        assert_int_equal(tg_report_period_fiscal_year("26", &p), -EINVAL);
        assert_int_equal(tg_report_period_fiscal_year("2026x", &p), -EINVAL);
        assert_int_equal(tg_report_period_month(NULL, &p), -EINVAL);
        assert_int_equal(p.from_usec, 1); /* untouched */
        assert_int_equal(tg_report_kind_from_string("usage "), -EINVAL);
        assert_int_equal(tg_report_format_from_string("pdf"), -EINVAL);
        assert_int_equal(tg_report_lang_from_string("fr"), -EINVAL);
        assert_int_equal(tg_report_lang_from_locale("ja_JP.UTF-8"), TG_REPORT_LANG_JA);
        assert_int_equal(tg_report_lang_from_locale("C"), TG_REPORT_LANG_EN);
        assert_int_equal(tg_report_lang_from_locale(NULL), TG_REPORT_LANG_EN);
        p = (tg_report_period){5, 5};
        tg_report *r = NULL;
        assert_int_equal(tg_report_new(TG_REPORT_USAGE, &p, &r), -EINVAL);
        assert_null(r);
}

/* The period options as both report commands take them: one of --from/--to, --month,
 * --fiscal-year; times with their zone only where the command takes them. */
static void period_options(void **state) {
        static const struct {
                tg_report_period_args a;
                tg_report_period_error error;
        } bad[] = {
                {{0}, TG_REPORT_PERIOD_NOT_ONE},
                {{.month = "2026-04", .fiscal_year = "2026"}, TG_REPORT_PERIOD_NOT_ONE},
                {{.month = "2026-04", .from = "2026-04-01", .to = "2026-04-02"}, TG_REPORT_PERIOD_NOT_ONE},
                {{.month = "2026-13"}, TG_REPORT_PERIOD_BAD_MONTH},
                {{.fiscal_year = "26"}, TG_REPORT_PERIOD_BAD_FISCAL_YEAR},
                {{.from = "2026-04-01"}, TG_REPORT_PERIOD_BAD_DATES},
                {{.to = "2026-04-01", .times = true}, TG_REPORT_PERIOD_BAD_DATES},
                {{.from = "2026-04-02", .to = "2026-04-01"}, TG_REPORT_PERIOD_BAD_DATES},
                {{.from = "2026-04-01", .to = "yesterday", .times = true}, TG_REPORT_PERIOD_BAD_DATES},
                /* a time is no date where times are not taken */
                {{.from = "2026-04-01T00:00:00+09:00", .to = "2026-04-02"}, TG_REPORT_PERIOD_BAD_DATES},
                /* a time's end excludes it: the same instant is an empty period */
                {{.from = "2026-04-01T09:00:00+09:00", .to = "2026-04-01T00:00:00Z", .times = true},
                 TG_REPORT_PERIOD_BAD_DATES},
        };
        tg_report_period p = {1, 2}, q;
        tg_report_period_error e = TG_REPORT_PERIOD_OK;
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(tg_report_period_parse(&bad[i].a, &p, &e), -EINVAL);
                assert_int_equal(e, bad[i].error);
                assert_int_equal(p.from_usec, 1); /* untouched */
        }
        assert_int_equal(tg_report_period_parse(&(tg_report_period_args){.fiscal_year = "2026"}, &p, &e), 0);
        assert_int_equal(e, TG_REPORT_PERIOD_OK);
        q = fiscal_2026();
        assert_memory_equal(&p, &q, sizeof(p));
        assert_int_equal(tg_report_period_parse(&(tg_report_period_args){.month = "2026-12"}, &p, &e), 0);
        assert_int_equal(tg_report_period_month("2026-12", &q), 0);
        assert_memory_equal(&p, &q, sizeof(p));
        /* dates: both days included, with or without times taken */
        for (int times = 0; times < 2; times++) {
                tg_report_period_args a = {.from = "2026-04-01", .to = "2026-04-30", .times = times};
                assert_int_equal(tg_report_period_parse(&a, &p, &e), 0);
                assert_int_equal(tg_report_period_month("2026-04", &q), 0);
                assert_memory_equal(&p, &q, sizeof(p));
        }
        /* times with their zone: from included, to excluded, mixed with a date */
        assert_int_equal(
                tg_report_period_parse(
                        &(tg_report_period_args){.from = "2026-04-01T00:00:00Z", .to = "2026-04-02", .times = true}, &p,
                        &e),
                0);
        assert_int_equal(p.from_usec, INT64_C(1775001600) * 1000000);
        assert_int_equal(p.to_usec, q.from_usec + INT64_C(2) * 86400 * 1000000);
}

/* Without --lang, a report speaks the messages locale's language, as POSIX orders the
 * variables; a locale that is not generated here counts all the same. */
static void language_from_the_environment(void **state) {
        static const struct {
                const char *lc_all, *lc_messages, *lang;
                tg_report_lang want;
        } cases[] = {
                {NULL, NULL, NULL, TG_REPORT_LANG_EN},
                {NULL, NULL, "ja_JP.UTF-8", TG_REPORT_LANG_JA},
                {NULL, "C", "ja_JP.UTF-8", TG_REPORT_LANG_EN},
                {"ja_JP.UTF-8", "C", "C", TG_REPORT_LANG_JA},
                {"", "ja_JP.eucJP", "C", TG_REPORT_LANG_JA}, /* empty counts as unset */
                {"xx_YY", NULL, "ja_JP.UTF-8", TG_REPORT_LANG_EN},
        };
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *const names[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
                const char *const values[] = {cases[i].lc_all, cases[i].lc_messages, cases[i].lang};
                for (size_t v = 0; v < ELEMENTSOF(names); v++) {
                        if (values[v])
                                assert_int_equal(setenv(names[v], values[v], 1), 0);
                        else
                                assert_int_equal(unsetenv(names[v]), 0);
                }
                assert_int_equal(tg_report_lang_from_environment(), cases[i].want);
        }
        assert_int_equal(unsetenv("LC_ALL"), 0);
        assert_int_equal(unsetenv("LC_MESSAGES"), 0);
        assert_int_equal(unsetenv("LANG"), 0);
}

/* ---- the reports' contents ---- */

static void usage_register(void **state) {
        tg_report_period p = fiscal_2026();
        tg_report *r = build(TG_REPORT_USAGE, &p, false);
        json_object *o = render_json(r), *u;
        (void) state;
        /* the tanaka use (exception 7), the blocked stick (once, though judged twice), the sato
         * use, the kato use still attached at the end; not the keyboard */
        assert_int_equal(n_rows(o, "uses"), 4);
        u = row(o, "uses", 0);
        assert_string_equal(str(u, "medium"), "総務課-01");
        assert_string_equal(str(u, "user"), "tanaka");
        assert_string_equal(str(u, "attached"), "2026-04-01 09:00:00");
        assert_string_equal(str(u, "detached"), "2026-04-01 10:00:00");
        assert_string_equal(str(u, "exception"), "7");
        assert_string_equal(str(u, "terminal_department"), "総務課");
        /* the register's department when it was used (総務課-01 was removed in July) */
        assert_string_equal(str(u, "medium_department"), "総務課");
        assert_int_equal(i64(u, "files_written"), 2);
        u = row(o, "uses", 1);
        assert_string_equal(str(u, "decision"), "storage-blocked");
        assert_string_equal(str(u, "serial"), "@SUM(1)");
        u = row(o, "uses", 3);
        assert_string_equal(str(u, "medium"), "税務課-07");
        assert_string_equal(str(u, "detached"), ""); /* its detach lies after the period */
        assert_string_equal(str(u, "medium_department"), "税務課");
        assert_int_equal(n_rows(o, "files"), 3);
        assert_string_equal(str(row(o, "files", 0), "path"), "/議事録 2026-04.docx");
        assert_int_equal(i64(row(o, "files", 0), "size"), 18342);
        /* every month of the fiscal year, April first */
        assert_int_equal(n_rows(o, "per_month"), 12);
        assert_string_equal(str(row(o, "per_month", 0), "month"), "2026-04");
        assert_int_equal(i64(row(o, "per_month", 0), "uses"), 2);
        assert_int_equal(i64(row(o, "per_month", 0), "files_written"), 2);
        assert_string_equal(str(row(o, "per_month", 11), "month"), "2027-03");
        assert_int_equal(i64(row(o, "per_month", 11), "uses"), 1);
        /* department × month: sorted by department, then month */
        assert_int_equal(n_rows(o, "department_month"), 4);
        assert_string_equal(str(row(o, "department_month", 0), "medium_department"), ""); /* unregistered */
        assert_string_equal(str(row(o, "department_month", 0), "month"), "2026-04");
        assert_string_equal(str(row(o, "department_month", 2), "medium_department"), "税務課");
        assert_string_equal(str(row(o, "department_month", 2), "month"), "2027-03");
        assert_string_equal(str(row(o, "department_month", 3), "medium_department"), "総務課");
        assert_int_equal(i64(row(o, "department_month", 3), "files_written"), 2);
        json_object *users = section(o, "per_user");
        assert_int_equal(json_object_array_length(users), 4);
        assert_string_equal(str(json_object_array_get_idx(users, 2), "user"), "suzuki");
        assert_int_equal(i64(json_object_array_get_idx(users, 2), "blocked"), 1);
        assert_string_equal(str(o, "department_basis"),
                            "the medium's department in the media register when it was used (empty: not registered "
                            "then); the terminal's department as set at its enrolment is shown beside it");
        json_object_put(o);
        tg_report_free(r);
}

static void usage_register_of_one_month(void **state) {
        tg_report_period p;
        tg_report *r;
        json_object *o;
        (void) state;
        assert_int_equal(tg_report_period_month("2026-05", &p), 0);
        r = build(TG_REPORT_USAGE, &p, false);
        o = render_json(r);
        assert_int_equal(n_rows(o, "uses"), 1);
        assert_string_equal(str(row(o, "uses", 0), "user"), "sato");
        assert_int_equal(n_rows(o, "files"), 1);
        assert_int_equal(n_rows(o, "per_month"), 1);
        json_object_put(o);
        tg_report_free(r);
}

static void media_register(void **state) {
        tg_report_period p = fiscal_2026();
        tg_report *r = build(TG_REPORT_MEDIA, &p, false);
        json_object *o = render_json(r), *m;
        (void) state;
        /* OLD-01 was removed before the period: not listed. Sorted by label (bytes). */
        assert_int_equal(n_rows(o, "media"), 3);
        m = row(o, "media", 0);
        assert_string_equal(str(m, "label"), "=HYPERLINK(\"http://x\",\"y\")");
        assert_string_equal(str(m, "medium_department"), "<b>税務課</b>");
        assert_string_equal(str(m, "status"), "registered");
        assert_string_equal(str(m, "mode"), "read-write");
        m = row(o, "media", 1);
        assert_string_equal(str(m, "label"), "税務課-07");
        assert_string_equal(str(m, "added_by"), "admin3");
        assert_string_equal(str(m, "added_at"), "2026-06-01 09:00:00");
        m = row(o, "media", 2);
        assert_string_equal(str(m, "label"), "総務課-01");
        assert_string_equal(str(m, "status"), "removed");
        assert_string_equal(str(m, "removed_by"), "admin2");
        assert_string_equal(str(m, "removed_at"), "2026-07-01 09:00:00");
        assert_int_equal(n_rows(o, "changes"), 2);
        assert_string_equal(str(row(o, "changes", 0), "change"), "added");
        assert_string_equal(str(row(o, "changes", 1), "change"), "removed");
        json_object_put(o);
        tg_report_free(r);
}

static void exceptions(void **state) {
        tg_report_period p = fiscal_2026();
        tg_report *r = build(TG_REPORT_EXCEPTIONS, &p, false);
        json_object *o = render_json(r), *e;
        (void) state;
        assert_int_equal(n_rows(o, "exceptions"), 2);
        e = row(o, "exceptions", 0); /* granted before the period, expired in it */
        assert_string_equal(str(e, "exception"), "7");
        assert_string_equal(str(e, "approver"), "課長 山田");
        assert_string_equal(str(e, "reason"), "議事録の提出");
        assert_string_equal(str(e, "ticket"), "R8-0123");
        assert_string_equal(str(e, "user"), "tanaka");
        assert_string_equal(str(e, "until"), "2026-04-10 09:00:00"); /* 00:00Z in Tokyo */
        assert_string_equal(str(e, "status"), "expired");
        assert_int_equal(i64(e, "uses"), 1);
        assert_int_equal(i64(e, "files_written"), 2);
        e = row(o, "exceptions", 1);
        assert_string_equal(str(e, "exception"), "8");
        assert_string_equal(str(e, "status"), "revoked");
        assert_string_equal(str(e, "ended_by"), "admin2");
        assert_string_equal(str(e, "medium_department"), "<b>税務課</b>");
        /* granted (8), used (7, 8), expired (7), revoked (8); the grant of 7 was before */
        assert_int_equal(n_rows(o, "events"), 5);
        assert_string_equal(str(row(o, "events", 0), "event"), "used");
        assert_string_equal(str(row(o, "events", 1), "event"), "expired");
        assert_string_equal(str(row(o, "events", 2), "event"), "granted");
        assert_string_equal(str(row(o, "events", 4), "event"), "revoked");
        json_object_put(o);
        tg_report_free(r);

        /* a month after both ended: nothing in force */
        assert_int_equal(tg_report_period_month("2026-08", &p), 0);
        r = build(TG_REPORT_EXCEPTIONS, &p, false);
        o = render_json(r);
        assert_int_equal(n_rows(o, "exceptions"), 0);
        assert_int_equal(n_rows(o, "events"), 0);
        json_object_put(o);
        tg_report_free(r);
}

static void blocked_and_mfa(void **state) {
        tg_report_period p = fiscal_2026();
        tg_report *r = build(TG_REPORT_BLOCKED, &p, false);
        json_object *o = render_json(r);
        (void) state;
        assert_int_equal(n_rows(o, "attempts"), 1); /* judged again on reload: one attempt */
        assert_string_equal(str(row(o, "attempts", 0), "user"), "suzuki");
        assert_string_equal(str(row(o, "attempts", 0), "terminal_department"), "税務課");
        assert_string_equal(str(row(o, "attempts", 0), "manufacturer"), "<script>alert(1)</script>");
        /* control characters escaped when taken in, the bidi override shown as its code */
        assert_string_equal(str(row(o, "attempts", 0), "product"), "Bad\\x1b]0;pwned\\x07\\u202eexe.txt");
        assert_int_equal(i64(row(o, "per_month", 0), "attempts"), 1);
        json_object_put(o);
        tg_report_free(r);

        r = build(TG_REPORT_MFA, &p, false);
        o = render_json(r);
        assert_int_equal(n_rows(o, "events"), 5); /* kato's failure lies after the period */
        assert_int_equal(n_rows(o, "per_user"), 2);
        json_object *u = row(o, "per_user", 1);
        assert_string_equal(str(u, "user"), "suzuki");
        assert_int_equal(i64(u, "failures"), 2);
        assert_int_equal(i64(u, "lockouts"), 1);
        assert_int_equal(i64(u, "refused_locked"), 1);
        const char *detail = str(row(o, "events", 4), "detail");
        assert_true(strncmp(detail, "line1\\x0aline2\\x0d\\x0a長", 24) == 0);
        assert_true(strlen(detail) <= TG_REPORT_VALUE_MAX + 16); /* cut */
        assert_non_null(strstr(detail, "…"));
        json_object_put(o);
        tg_report_free(r);
}

static void host_health(void **state) {
        tg_report_period p = fiscal_2026();
        tg_report *r = build(TG_REPORT_HOSTS, &p, false);
        json_object *o = render_json(r);
        (void) state;
        assert_int_equal(n_rows(o, "hosts"), 2);
        assert_string_equal(str(row(o, "hosts", 0), "status"), "silent");
        assert_string_equal(str(row(o, "hosts", 1), "status"), "tampered gapped clock-unsynchronised");
        assert_string_equal(str(row(o, "hosts", 1), "first_bad_seq"), "5");
        assert_string_equal(str(row(o, "hosts", 0), "first_bad_seq"), "");
        json_object_put(o);
        tg_report_free(r);
        /* the other kinds take no host findings */
        assert_int_equal(tg_report_new(TG_REPORT_USAGE, &p, &r), 0);
        assert_int_equal(tg_report_add_host(r, &(tg_report_host){.host_id = "x"}), -EINVAL);
        tg_report_free(r);
}

/* ---- formats and hostile values ---- */

static bool has_control(const char *s, size_t len, bool allow_newlines) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                if ((c < 0x20 && !(allow_newlines && (c == '\n' || c == '\r'))) || c == 0x7f)
                        return true;
        }
        return false;
}

static void formats_escape_hostile_values(void **state) {
        tg_report_period p = fiscal_2026();
        (void) state;
        for (tg_report_kind k = 0; k < _TG_REPORT_KIND_MAX; k++) {
                tg_report *r = build(k, &p, false);
                for (tg_report_format f = 0; f < _TG_REPORT_FORMAT_MAX; f++)
                        for (tg_report_lang lang = 0; lang < _TG_REPORT_LANG_MAX; lang++) {
                                size_t len;
                                _cleanup_free_ char *out = render(r, f, lang, &len);
                                assert_int_equal(strlen(out), len); /* no NUL */
                                assert_false(has_control(out, len, true));
                                assert_null(strstr(out, "\xe2\x80\xae")); /* U+202E never raw */
                                assert_true(len > 0 && out[len - 1] == '\n');
                                if (f == TG_REPORT_HTML) {
                                        assert_null(strstr(out, "<script"));
                                        assert_null(strstr(out, "<img"));
                                        assert_null(strstr(out, "<b>"));
                                        assert_null(strstr(out, "<zeimu"));
                                        assert_null(strstr(out, "http://x") ? strstr(out, "href")
                                                                            : NULL); /* text, never a link */
                                        assert_non_null(strstr(out, "Content-Security-Policy"));
                                        assert_non_null(strstr(out, lang == TG_REPORT_LANG_JA ? "<html lang=\"ja\">"
                                                                                              : "<html lang=\"en\">"));
                                        assert_null(strstr(out, "src=\"http"));
                                }
                                if (f == TG_REPORT_CSV) {
                                        assert_true(memcmp(out, "\xef\xbb\xbf", 3) == 0);
                                        assert_null(strstr(out, ",\"=")); /* a cell never starts a formula */
                                        assert_null(strstr(out, ",\"+"));
                                        assert_null(strstr(out, ",\"-"));
                                        assert_null(strstr(out, ",\"@"));
                                        assert_null(strstr(out, "\r\n\"="));
                                        assert_null(strstr(out, "\r\n\"-"));
                                }
                        }
                tg_report_free(r);
        }
}

static void html_words_follow_the_language(void **state) {
        tg_report_period p = fiscal_2026();
        tg_report *r = build(TG_REPORT_USAGE, &p, false);
        _cleanup_free_ char *ja = render(r, TG_REPORT_HTML, TG_REPORT_LANG_JA, NULL);
        _cleanup_free_ char *en = render(r, TG_REPORT_HTML, TG_REPORT_LANG_EN, NULL);
        _cleanup_free_ char *table = render(r, TG_REPORT_TABLE, TG_REPORT_LANG_JA, NULL);
        (void) state;
        assert_non_null(strstr(ja, "<h1>外部記録媒体 使用簿</h1>"));
        assert_non_null(strstr(en, "<h1>Usage register of removable media</h1>"));
        assert_non_null(strstr(ja, "<svg class=\"chart\" id=\"c-per_month\""));
        assert_int_equal(strstr(ja, "<rect class=\"bar\"") != NULL, 1);
        assert_non_null(strstr(en, "&lt;b&gt;") ? en : NULL);
        assert_non_null(strstr(en, "test &lt;scope&gt; &quot;=1&quot;"));
        assert_non_null(strstr(en, "@media print"));
        assert_non_null(strstr(table, "外部記録媒体 使用簿\n期間: 2026-04-01 .. 2027-03-31\n"));
        assert_non_null(strstr(table, "日本時間 (UTC+09:00)"));
        tg_report_free(r);
}

static void writing_fails_cleanly(void **state) {
        tg_report_period p = fiscal_2026();
        tg_report *r;
        FILE *f;
        (void) state;
        assert_int_equal(tg_report_new(TG_REPORT_MFA, &p, &r), 0);
        f = fopen("/dev/null", "we");
        assert_int_equal(tg_report_write(r, f, &(tg_report_output){.format = TG_REPORT_CSV}),
                         -EINVAL); /* not finished */
        fclose(f);
        assert_int_equal(tg_report_add_record(r, &(tg_report_record){.type = NULL}), -EINVAL);
        assert_int_equal(tg_report_finish(r), 0);
        assert_int_equal(tg_report_finish(r), -EINVAL);
        assert_int_equal(tg_report_add_record(r, &records[0].rec), -EINVAL); /* finished */
        f = fopen("/dev/full", "we");
        if (f) {
                for (tg_report_format fm = 0; fm < _TG_REPORT_FORMAT_MAX; fm++)
                        assert_int_equal(tg_report_write(r, f, &(tg_report_output){.format = fm}), -EIO);
                fclose(f);
        }
        f = fopen("/dev/null", "we");
        assert_int_equal(tg_report_write(r, f, &(tg_report_output){.format = _TG_REPORT_FORMAT_MAX}), -EINVAL);
        fclose(f);
        tg_report_free(r);
}

/* ---- golden CSV ---- */

static void golden_csv(void **state) {
        tg_report_period p = fiscal_2026();
        bool update = getenv("TG_GOLDEN_UPDATE") != NULL;
        (void) state;
        for (tg_report_kind k = 0; k < _TG_REPORT_KIND_MAX; k++) {
                char name[64], *expected;
                size_t len, elen;
                tg_report *r = build(k, &p, false), *r2 = build(k, &p, true);
                _cleanup_free_ char *out = render(r, TG_REPORT_CSV, TG_REPORT_LANG_JA, &len);
                _cleanup_free_ char *out2 = render(r2, TG_REPORT_CSV, TG_REPORT_LANG_EN, NULL);
                FILE *f;
                snprintf(name, sizeof(name), "%s.csv", tg_report_kind_to_string(k));
                /* neither the language nor the hosts' interleaving changes a byte */
                assert_string_equal(out, out2);
                if (update) {
                        f = golden_open(name, "we");
                        assert_non_null(f);
                        assert_int_equal(fwrite(out, 1, len, f), len);
                        assert_int_equal(fclose(f), 0);
                } else {
                        f = golden_open(name, "re");
                        assert_non_null(f);
                        expected = calloc(1, 1 << 20);
                        assert_non_null(expected);
                        elen = fread(expected, 1, (1 << 20) - 1, f);
                        fclose(f);
                        if (elen != len || memcmp(expected, out, len) != 0)
                                fail_msg("%s differs from the golden file:\n%s", name, out);
                        free(expected);
                }
                tg_report_free(r);
                tg_report_free(r2);
        }
}

/* Whatever zone the machine is in, the report is in Tokyo's. */
static void golden_csv_under_another_zone(void **state) {
        setenv("TZ", "America/Los_Angeles", 1);
        tzset();
        golden_csv(state);
        setenv("TZ", "UTC", 1);
        tzset();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(periods_are_tokyo_days),
                cmocka_unit_test(bad_periods_are_refused),
                cmocka_unit_test(period_options),
                cmocka_unit_test(language_from_the_environment),
                cmocka_unit_test(usage_register),
                cmocka_unit_test(usage_register_of_one_month),
                cmocka_unit_test(media_register),
                cmocka_unit_test(exceptions),
                cmocka_unit_test(blocked_and_mfa),
                cmocka_unit_test(host_health),
                cmocka_unit_test(formats_escape_hostile_values),
                cmocka_unit_test(html_words_follow_the_language),
                cmocka_unit_test(writing_fails_cleanly),
                cmocka_unit_test(golden_csv),
                cmocka_unit_test(golden_csv_under_another_zone),
        };
        return cmocka_run_group_tests(tests, load, unload);
}
