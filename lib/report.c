/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Audit reports: periods in Asia/Tokyo, the report object and its sections. The kinds are in
 * report-kinds.c, the formats in report-format.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report-internal.h"
#include "termguard/escape.h"
#include "termguard/macro.h"
#include "termguard/timeutil.h"

/* Asia/Tokyo is UTC+09:00 all year: Japan has had no daylight saving time since 1951, so a
 * fixed offset gives the same answer as the zone database, whatever TZ the machine has (a
 * central server may well run in UTC). */
#define TOKYO_OFFSET_SEC (9 * 3600)
#define USEC_PER_SEC INT64_C(1000000)

static const char *const kind_names[_TG_REPORT_KIND_MAX] = {
        [TG_REPORT_USAGE] = "usage",     [TG_REPORT_MEDIA] = "media", [TG_REPORT_EXCEPTIONS] = "exceptions",
        [TG_REPORT_BLOCKED] = "blocked", [TG_REPORT_MFA] = "mfa",     [TG_REPORT_HOSTS] = "hosts",
};

static const char *const format_names[_TG_REPORT_FORMAT_MAX] = {
        [TG_REPORT_TABLE] = "table", [TG_REPORT_CSV] = "csv", [TG_REPORT_JSON] = "json", [TG_REPORT_HTML] = "html"};

static const char *const lang_names[_TG_REPORT_LANG_MAX] = {[TG_REPORT_LANG_EN] = "en", [TG_REPORT_LANG_JA] = "ja"};

static int lookup(const char *const *names, size_t n, const char *s) {
        for (size_t i = 0; s && i < n; i++)
                if (strcmp(names[i], s) == 0)
                        return (int) i;
        return -EINVAL;
}

const char *tg_report_kind_to_string(tg_report_kind k) {
        return k < _TG_REPORT_KIND_MAX ? kind_names[k] : NULL;
}

int tg_report_kind_from_string(const char *s) {
        return lookup(kind_names, ELEMENTSOF(kind_names), s);
}

const char *tg_report_format_to_string(tg_report_format f) {
        return f < _TG_REPORT_FORMAT_MAX ? format_names[f] : NULL;
}

int tg_report_format_from_string(const char *s) {
        return lookup(format_names, ELEMENTSOF(format_names), s);
}

int tg_report_lang_from_string(const char *s) {
        return lookup(lang_names, ELEMENTSOF(lang_names), s);
}

tg_report_lang tg_report_lang_from_locale(const char *locale) {
        return locale && strncmp(locale, "ja", 2) == 0 ? TG_REPORT_LANG_JA : TG_REPORT_LANG_EN;
}

const char *report_word(const report_words *w, tg_report_lang lang) {
        return lang == TG_REPORT_LANG_JA && w->ja ? w->ja : w->en;
}

/* Periods */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned) (y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t) doe - 719468;
}

static void civil_from_days(int64_t z, int *ret_y, unsigned *ret_m, unsigned *ret_d) {
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned) (z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        unsigned d = doy - (153 * mp + 2) / 5 + 1;
        unsigned m = mp < 10 ? mp + 3 : mp - 9;
        *ret_y = (int) ((int64_t) yoe + era * 400 + (m <= 2));
        *ret_m = m;
        *ret_d = d;
}

static bool leap(int y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int y, unsigned m) {
        static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Midnight in Tokyo at the start of that day, µs UTC. */
static int64_t tokyo_midnight(int y, unsigned m, unsigned d) {
        return (days_from_civil(y, m, d) * 86400 - TOKYO_OFFSET_SEC) * USEC_PER_SEC;
}

/* Exactly "DDDD", "-DD" ...: n digits at s. */
static bool digits(const char *s, size_t n, int *ret) {
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return true;
}

/* Years a report may name: the journal starts in this century, and 9999 is the last year
 * tg_format_iso8601 writes. */
#define YEAR_MIN 1970
#define YEAR_MAX 9998

static int parse_year_month(const char *s, int *ret_y, int *ret_m) {
        int y, m;
        if (!s || strlen(s) != 7 || s[4] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &m))
                return -EINVAL;
        if (y < YEAR_MIN || y > YEAR_MAX || m < 1 || m > 12)
                return -EINVAL;
        *ret_y = y;
        *ret_m = m;
        return 0;
}

static int parse_date(const char *s, int *ret_y, unsigned *ret_m, unsigned *ret_d) {
        int y, m, d;
        if (!s || strlen(s) != 10 || s[7] != '-')
                return -EINVAL;
        char ym[8];
        memcpy(ym, s, 7);
        ym[7] = 0;
        if (parse_year_month(ym, &y, &m) < 0 || !digits(s + 8, 2, &d))
                return -EINVAL;
        if (d < 1 || (unsigned) d > month_days(y, (unsigned) m))
                return -EINVAL;
        *ret_y = y;
        *ret_m = (unsigned) m;
        *ret_d = (unsigned) d;
        return 0;
}

int tg_report_period_dates(const char *from, const char *to, tg_report_period *ret) {
        int y1, y2;
        unsigned m1, d1, m2, d2;
        if (parse_date(from, &y1, &m1, &d1) < 0 || parse_date(to, &y2, &m2, &d2) < 0)
                return -EINVAL;
        int64_t a = tokyo_midnight(y1, m1, d1);
        int64_t b = tokyo_midnight(y2, m2, d2) + 86400 * USEC_PER_SEC; /* the last day included */
        if (b <= a)
                return -EINVAL;
        *ret = (tg_report_period){.from_usec = a, .to_usec = b};
        return 0;
}

int tg_report_period_month(const char *month, tg_report_period *ret) {
        int y, m;
        if (parse_year_month(month, &y, &m) < 0)
                return -EINVAL;
        *ret = (tg_report_period){.from_usec = tokyo_midnight(y, (unsigned) m, 1),
                                  .to_usec = m == 12 ? tokyo_midnight(y + 1, 1, 1)
                                                     : tokyo_midnight(y, (unsigned) m + 1, 1)};
        return 0;
}

int tg_report_period_fiscal_year(const char *year, tg_report_period *ret) {
        int y;
        if (!year || strlen(year) != 4 || !digits(year, 4, &y) || y < YEAR_MIN || y > YEAR_MAX - 1)
                return -EINVAL;
        *ret = (tg_report_period){.from_usec = tokyo_midnight(y, 4, 1), .to_usec = tokyo_midnight(y + 1, 4, 1)};
        return 0;
}

/* A bound of --from/--to: a date (a whole day in Asia/Tokyo; the end includes its day) or,
 * where taken, a time with its zone (the end excludes it). */
static int parse_bound(const char *s, bool end, bool times, int64_t *ret) {
        tg_report_period p;
        int64_t t;
        if (tg_report_period_dates(s, s, &p) == 0) {
                *ret = end ? p.to_usec : p.from_usec;
                return 0;
        }
        if (times && tg_parse_iso8601(s, &t) == 0) {
                *ret = t * USEC_PER_SEC;
                return 0;
        }
        return -EINVAL;
}

int tg_report_period_parse(const tg_report_period_args *a, tg_report_period *ret, tg_report_period_error *ret_error) {
        int given = !!a->month + !!a->fiscal_year + !!(a->from || a->to);
        tg_report_period_error e = TG_REPORT_PERIOD_OK;
        tg_report_period p = {0};

        if (given != 1)
                e = TG_REPORT_PERIOD_NOT_ONE;
        else if (a->month && tg_report_period_month(a->month, &p) < 0)
                e = TG_REPORT_PERIOD_BAD_MONTH;
        else if (a->fiscal_year && tg_report_period_fiscal_year(a->fiscal_year, &p) < 0)
                e = TG_REPORT_PERIOD_BAD_FISCAL_YEAR;
        else if ((a->from || a->to) && (!a->from || !a->to || parse_bound(a->from, false, a->times, &p.from_usec) < 0 ||
                                        parse_bound(a->to, true, a->times, &p.to_usec) < 0 || p.to_usec <= p.from_usec))
                e = TG_REPORT_PERIOD_BAD_DATES;
        if (e != TG_REPORT_PERIOD_OK) {
                *ret_error = e;
                return -EINVAL;
        }
        *ret = p;
        *ret_error = e;
        return 0;
}

tg_report_lang tg_report_lang_from_environment(void) {
        /* The locale messages are asked in, as POSIX orders the variables: read from the
         * environment rather than from setlocale(), which falls back to C when that locale is
         * not generated on this machine, and the report's words do not depend on it. */
        static const char *const vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                const char *v = getenv(vars[i]);
                if (v && *v)
                        return tg_report_lang_from_locale(v);
        }
        return tg_report_lang_from_locale(NULL);
}

static void tokyo_civil(int64_t usec, int *y, unsigned *mo, unsigned *d, int64_t *sec_of_day) {
        int64_t s = usec / USEC_PER_SEC - (usec % USEC_PER_SEC < 0) + TOKYO_OFFSET_SEC;
        int64_t days = s / 86400 - (s % 86400 < 0);
        *sec_of_day = s - days * 86400;
        civil_from_days(days, y, mo, d);
}

void tg_report_format_time(int64_t usec, char *buf, size_t size) {
        int y;
        unsigned mo, d;
        int64_t sod;
        if (usec == 0) {
                snprintf(buf, size, "%s", "");
                return;
        }
        tokyo_civil(usec, &y, &mo, &d, &sod);
        snprintf(buf, size, "%04d-%02u-%02u %02d:%02d:%02d", y, mo, d, (int) (sod / 3600), (int) (sod / 60 % 60),
                 (int) (sod % 60));
}

void report_month(int64_t usec, char buf[static 8]) {
        int y;
        unsigned mo, d;
        int64_t sod;
        tokyo_civil(usec, &y, &mo, &d, &sod);
        snprintf(buf, 8, "%04u-%02u", (unsigned) y % 10000u, mo % 100u);
}

/* Values */

const char *report_get(const tg_report_record *rec, const char *key) {
        for (size_t i = 0; i < rec->n_fields; i++)
                if (rec->keys[i] && strcmp(rec->keys[i], key) == 0)
                        return rec->values[i];
        return NULL;
}

const char *report_escape(const char *s, char *buf) {
        if (!s)
                s = "";
        tg_escape(s, strlen(s), TG_REPORT_VALUE_MAX, buf, REPORT_CELL_MAX);
        return buf;
}

const char *report_value(const tg_report_record *rec, const char *key, char *buf) {
        return report_escape(report_get(rec, key), buf);
}

/* Sections */

report_section *report_section_new(tg_report *r, const char *id, report_words title, const report_column *columns,
                                   size_t n_columns) {
        if (r->n_sections >= REPORT_SECTIONS_MAX)
                abort(); /* a kind defines more sections than fit: a programming error */
        report_section *s = &r->sections[r->n_sections++];
        *s = (report_section){.id = id,
                              .title = title,
                              .columns = columns,
                              .n_columns = n_columns,
                              .host_column = -1,
                              .chart_label = -1,
                              .chart_value = -1};
        return s;
}

int report_section_add(report_section *s, int64_t order_time, uint64_t order_seq, const char *const *cells) {
        if (s->n_rows >= TG_REPORT_ROWS_MAX)
                return -E2BIG;
        if (s->n_rows == s->alloc) {
                size_t alloc = s->alloc ? s->alloc * 2 : 32;
                size_t *c = realloc(s->cells, alloc * s->n_columns * sizeof(*c));
                if (!c)
                        return -ENOMEM;
                s->cells = c;
                int64_t *t = realloc(s->order_time, alloc * sizeof(*t));
                if (!t)
                        return -ENOMEM;
                s->order_time = t;
                uint64_t *q = realloc(s->order_seq, alloc * sizeof(*q));
                if (!q)
                        return -ENOMEM;
                s->order_seq = q;
                s->alloc = alloc;
        }
        size_t need = 0, *row = &s->cells[s->n_rows * s->n_columns];
        for (size_t i = 0; i < s->n_columns; i++)
                need += strlen(cells[i] ? cells[i] : "") + 1;
        if (s->text_len + need > s->text_alloc) {
                size_t alloc = s->text_alloc ? s->text_alloc : 4096;
                while (alloc < s->text_len + need)
                        alloc *= 2;
                char *t = realloc(s->text, alloc);
                if (!t)
                        return -ENOMEM;
                s->text = t;
                s->text_alloc = alloc;
        }
        for (size_t i = 0; i < s->n_columns; i++) {
                const char *c = cells[i] ? cells[i] : "";
                size_t len = strlen(c) + 1;
                memcpy(s->text + s->text_len, c, len);
                row[i] = s->text_len;
                s->text_len += len;
        }
        s->order_time[s->n_rows] = order_time;
        s->order_seq[s->n_rows] = order_seq;
        s->n_rows++;
        return 0;
}

typedef struct {
        const report_section *s;
        size_t row;
} row_ref;

static int cmp_rows(const void *a, const void *b) {
        const row_ref *x = a, *y = b;
        const report_section *s = x->s;
        if (s->order_time[x->row] != s->order_time[y->row])
                return s->order_time[x->row] < s->order_time[y->row] ? -1 : 1;
        if (s->host_column >= 0) {
                int c = strcmp(report_cell(s, x->row, (size_t) s->host_column),
                               report_cell(s, y->row, (size_t) s->host_column));
                if (c)
                        return c;
        }
        if (s->order_seq[x->row] != s->order_seq[y->row])
                return s->order_seq[x->row] < s->order_seq[y->row] ? -1 : 1;
        return x->row < y->row ? -1 : x->row > y->row; /* stable */
}

/* Rows in (time, host, seq) order: the same whether one terminal's journal or the central
 * store, which may hand over hosts interleaved, fed them. */
static void sort_section(report_section *s) {
        row_ref *refs;
        size_t *cells;
        int64_t *t;
        uint64_t *q;
        if (!s->sort || s->n_rows < 2)
                return;
        refs = malloc(s->n_rows * sizeof(*refs));
        cells = malloc(s->n_rows * s->n_columns * sizeof(*cells));
        t = malloc(s->n_rows * sizeof(*t));
        q = malloc(s->n_rows * sizeof(*q));
        if (refs && cells && t && q) {
                for (size_t i = 0; i < s->n_rows; i++)
                        refs[i] = (row_ref){s, i};
                qsort(refs, s->n_rows, sizeof(*refs), cmp_rows);
                for (size_t i = 0; i < s->n_rows; i++) {
                        memcpy(&cells[i * s->n_columns], &s->cells[refs[i].row * s->n_columns],
                               s->n_columns * sizeof(*cells));
                        t[i] = s->order_time[refs[i].row];
                        q[i] = s->order_seq[refs[i].row];
                }
                memcpy(s->cells, cells, s->n_rows * s->n_columns * sizeof(*cells));
                memcpy(s->order_time, t, s->n_rows * sizeof(*t));
                memcpy(s->order_seq, q, s->n_rows * sizeof(*q));
        }
        /* without memory the rows stay in the order fed, which is still complete */
        free(refs);
        free(cells);
        free(t);
        free(q);
}

void report_sections_sort(tg_report *r) {
        for (size_t i = 0; i < r->n_sections; i++)
                sort_section(&r->sections[i]);
}

/* The report */

int tg_report_new(tg_report_kind kind, const tg_report_period *period, tg_report **ret) {
        tg_report *r;
        int k;
        if (kind >= _TG_REPORT_KIND_MAX || !period || period->to_usec <= period->from_usec)
                return -EINVAL;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->kind = kind;
        r->period = *period;
        k = report_kinds[kind]->init(r);
        if (k < 0) {
                tg_report_free(r);
                return k;
        }
        *ret = r;
        return 0;
}

void tg_report_free(tg_report *r) {
        if (!r)
                return;
        if (report_kinds[r->kind]->free)
                report_kinds[r->kind]->free(r);
        for (size_t i = 0; i < r->n_sections; i++) {
                report_section *s = &r->sections[i];
                free(s->cells);
                free(s->text);
                free(s->order_time);
                free(s->order_seq);
        }
        free(r);
}

tg_report_kind tg_report_get_kind(const tg_report *r) {
        return r->kind;
}

int tg_report_add_record(tg_report *r, const tg_report_record *rec) {
        if (r->finished || !rec || !rec->type)
                return -EINVAL;
        if (rec->time_usec >= r->period.to_usec || !report_kinds[r->kind]->add_record)
                return 0;
        return report_kinds[r->kind]->add_record(r, rec);
}

int tg_report_add_host(tg_report *r, const tg_report_host *h) {
        if (r->finished || !h || !report_kinds[r->kind]->add_host)
                return -EINVAL;
        return report_kinds[r->kind]->add_host(r, h);
}

int tg_report_finish(tg_report *r) {
        int k;
        if (r->finished)
                return -EINVAL;
        k = report_kinds[r->kind]->finish ? report_kinds[r->kind]->finish(r) : 0;
        if (k < 0)
                return k;
        report_sections_sort(r);
        r->finished = true;
        return 0;
}
