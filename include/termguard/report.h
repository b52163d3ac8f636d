/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Audit reports: one set of definitions and formatters for the terminal's own
 * `termguardctl report` and for the central server's fleet reports. A report is fed decoded
 * journal records (from the local journal reader or from the central store) and, for host
 * health, the central verification's findings; it is written as an aligned table, CSV (UTF-8
 * with BOM), JSON or one self-contained HTML page.
 *
 * The same records fed in the same order give byte-identical CSV wherever they are fed: the
 * CSV holds nothing of the machine (no time of generation, no locale, no time zone).
 *
 * Periods and every time shown are in Asia/Tokyo. Each kind says which department it groups
 * by: a medium's department is the register's (register.media-added), a terminal's is the one
 * set at its enrolment (tg_report_record.department).
 *
 * Record values are hostile: every value is escaped (tg_escape: control characters as \xNN)
 * and cut at TG_REPORT_VALUE_MAX bytes when it is taken in, then escaped again for the format
 * (CSV quoting and formula neutralising, JSON by json-c, HTML entities, display width).
 */

#define TG_REPORT_VALUE_MAX 512     /* bytes of a record value kept (then "…") */
#define TG_REPORT_ROWS_MAX 1000000  /* rows of one section; more is -E2BIG */
#define TG_REPORT_HOSTS_MAX 1000000 /* hosts of a health report */

typedef enum {
        TG_REPORT_USAGE,      /* usage register (使用簿): uses of media, totals, department × month */
        TG_REPORT_MEDIA,      /* media register (管理一覧表) as of the period's end */
        TG_REPORT_EXCEPTIONS, /* write exceptions: granted, used, expired, revoked */
        TG_REPORT_BLOCKED,    /* blocked carry-in attempts */
        TG_REPORT_MFA,        /* MFA failures and lockouts */
        TG_REPORT_HOSTS,      /* host health from central verification (tg_report_add_host) */
        _TG_REPORT_KIND_MAX,
} tg_report_kind;

typedef enum {
        TG_REPORT_TABLE,
        TG_REPORT_CSV,
        TG_REPORT_JSON,
        TG_REPORT_HTML,
        _TG_REPORT_FORMAT_MAX,
} tg_report_format;

typedef enum {
        TG_REPORT_LANG_EN,
        TG_REPORT_LANG_JA,
        _TG_REPORT_LANG_MAX,
} tg_report_lang;

/* "usage", "media", "exceptions", "blocked", "mfa", "hosts"; -EINVAL when unknown. */
const char *tg_report_kind_to_string(tg_report_kind k);
int tg_report_kind_from_string(const char *s);
/* "table", "csv", "json", "html". */
const char *tg_report_format_to_string(tg_report_format f);
int tg_report_format_from_string(const char *s);
/* "en", "ja". */
int tg_report_lang_from_string(const char *s);
/* The language of a locale name (LC_MESSAGES/LANG value): ja for "ja*", en otherwise. */
tg_report_lang tg_report_lang_from_locale(const char *locale);

/* A period [from_usec, to_usec), µs UTC, whose bounds are midnights in Asia/Tokyo. */
typedef struct {
        int64_t from_usec, to_usec;
} tg_report_period;

/* --from/--to: two dates "YYYY-MM-DD", both days included. -EINVAL for a bad date or an end
 * before the start. */
int tg_report_period_dates(const char *from, const char *to, tg_report_period *ret);
/* --month "YYYY-MM". */
int tg_report_period_month(const char *month, tg_report_period *ret);
/* --fiscal-year "YYYY": April YYYY to March YYYY+1 (Japanese fiscal year, 年度). */
int tg_report_period_fiscal_year(const char *year, tg_report_period *ret);

/* The period options of termguardctl report and termguard-central report, as given (NULL:
 * not given): exactly one of --from/--to (both), --month and --fiscal-year. */
typedef struct {
        const char *from, *to, *month, *fiscal_year;
        /* --from/--to may also be times with their zone, --to then excluded (termguardctl's);
         * false: dates only (the central server's) */
        bool times;
} tg_report_period_args;

typedef enum {
        TG_REPORT_PERIOD_OK,
        TG_REPORT_PERIOD_NOT_ONE,         /* no period given, or more than one */
        TG_REPORT_PERIOD_BAD_MONTH,       /* --month not YYYY-MM */
        TG_REPORT_PERIOD_BAD_FISCAL_YEAR, /* --fiscal-year not YYYY */
        TG_REPORT_PERIOD_BAD_DATES,       /* --from or --to missing or bad, or --to not after --from */
} tg_report_period_error;

/* The one period the options give. Returns 0, or -EINVAL with what was wrong in ret_error
 * (each command says it in its own words); ret is untouched on failure. */
int tg_report_period_parse(const tg_report_period_args *a, tg_report_period *ret, tg_report_period_error *ret_error);

/* The language a report is written in when --lang is not given: that of the messages locale
 * the environment asks for (LC_ALL, LC_MESSAGES, LANG, as POSIX orders them). */
tg_report_lang tg_report_lang_from_environment(void);

/* "YYYY-MM-DD HH:MM:SS" in Asia/Tokyo; buf of TG_REPORT_TIME_MAX. 0 gives "". */
#define TG_REPORT_TIME_MAX 20
void tg_report_format_time(int64_t usec, char *buf, size_t size);

/* One decoded journal record. Strings are NUL-terminated UTF-8 as stored (not yet escaped);
 * the report copies what it keeps. */
typedef struct {
        const char *host_id;    /* UUID text */
        const char *hostname;   /* NULL: unknown */
        const char *department; /* the terminal's, set at enrolment; NULL or "": unknown */
        uint64_t seq;
        int64_t time_usec;   /* UTC */
        const char *boot_id; /* text; tells device names of different boots apart */
        const char *type;    /* event type, lib/event-catalogue.c */
        const char *const *keys;
        const char *const *values;
        size_t n_fields;
} tg_report_record;

/* One host's state as central verification found it, for TG_REPORT_HOSTS. */
typedef struct {
        const char *host_id, *hostname, *department; /* department: set at enrolment */
        uint64_t records;                            /* records held for the host */
        uint64_t last_seq;
        int64_t last_seen_usec;       /* time of the newest record; 0: none */
        int64_t last_checkpoint_usec; /* 0: none */
        bool silent;                  /* no checkpoint for longer than the configured time */
        uint64_t gaps;                /* gaps in seq */
        uint64_t missing;             /* records missing in them */
        bool tampered;                /* MAC, chain, rollback or stored columns differ */
        uint64_t first_bad_seq;       /* when tampered */
        bool clock_unsynchronised;    /* records written with the clock not synchronised */
        bool revoked;
        const char *detail; /* the first finding in words; NULL: none */
} tg_report_host;

typedef struct tg_report tg_report;

int tg_report_new(tg_report_kind kind, const tg_report_period *period, tg_report **ret);
void tg_report_free(tg_report *r);
tg_report_kind tg_report_get_kind(const tg_report *r);

/* Feeds one record. Feed each host's records in seq order (hosts may interleave), and feed
 * those before the period too: the register, exceptions and uses that began earlier are built
 * from them. Records at or after the period's end are ignored. Any kind takes any record and
 * ignores what it does not report. -E2BIG past TG_REPORT_ROWS_MAX, -ENOMEM. */
int tg_report_add_record(tg_report *r, const tg_report_record *rec);
/* Feeds one host's verification result (TG_REPORT_HOSTS; -EINVAL for other kinds). */
int tg_report_add_host(tg_report *r, const tg_report_host *h);
/* Builds the sections; call once after the last record. */
int tg_report_finish(tg_report *r);

typedef struct {
        tg_report_format format;
        tg_report_lang lang;
        /* What was read, shown as given (escaped): "this terminal", "department 総務課", ...
         * NULL: nothing said. */
        const char *scope;
        /* When the report was made, shown in table, JSON and HTML (never in CSV); 0: not shown. */
        int64_t generated_usec;
} tg_report_output;

/* Writes the finished report. Returns 0 or -errno (-EIO when f failed). */
int tg_report_write(const tg_report *r, FILE *f, const tg_report_output *o);
