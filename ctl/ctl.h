/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>
#include <libintl.h>

#include "termguard/control-proto.h"

#define _(s) gettext(s)
#define N_(s) (s)

enum { EXIT_DAEMON_ERROR = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3, EXIT_DENIED = 4, EXIT_JOURNAL_DAMAGED = 5 };

/* What every verb gets: the global options. */
typedef struct {
        const char *socket_path;
        const char *config_root;
        bool json;
} ctl_context;

/* ctl-call.c: sends req to termguardd and returns its ok reply in ret; on failure prints why
 * and returns the exit status. */
int ctl_call(const ctl_context *ctx, const tg_ctl_request *req, tg_ctl_reply *ret);
/* Prints o (or its field f, unless f is _TG_F_MAX) as JSON, ending with a newline. */
void ctl_print_json(json_object *o, tg_ctl_field f);

/* ctl-table.c: a table whose columns line up by display width (Japanese text takes two
 * columns a character); cells are shown with control characters escaped. */
typedef struct ctl_table ctl_table;
#define CTL_TABLE_COLUMNS_MAX 8
ctl_table *ctl_table_new(size_t n_columns);
/* Adds a row (the headers are the first) of n_columns cells; NULL cells print as "". */
void ctl_table_add(ctl_table *t, ...);
/* The same, the cells in an array. */
void ctl_table_add_array(ctl_table *t, const char *const *cells);
void ctl_table_print(ctl_table *t, FILE *f);
void ctl_table_free(ctl_table *t);

/* ctl-call.c: a list verb (devices, media list, exception list, token list): sends req, then
 * prints the reply's list f as JSON (--json) or as a table: headers (n_columns msgids,
 * translated here), then one row a list item, added by row(). Returns 0 or the exit status. */
typedef void (*ctl_list_row)(ctl_table *t, json_object *item);
int ctl_call_list(const ctl_context *ctx, const tg_ctl_request *req, tg_ctl_field f, const char *const *headers,
                  size_t n_columns, ctl_list_row row);
/* ctl-call.c: a verb that changes something (media, exception and token add/grant/remove/
 * revoke, lock): sends req, then prints the reply as JSON (--json) or message, translated
 * already: as it is, or with the reply's field f for its one %s unless f is _TG_F_MAX.
 * Returns 0 or the exit status. */
int ctl_call_change(const ctl_context *ctx, const tg_ctl_request *req, const char *message, tg_ctl_field f);
/* A list item's device id, "VID:PID". */
typedef struct {
        char s[16];
} ctl_usb_id;
ctl_usb_id ctl_list_usb_id(json_object *item);

/* ctl-options.c: the options of a verb that parses its own (journal init, verify, log, report)
 * with getopt_long; an option whose val is 'h' is --help. Each option found goes to handle()
 * (value NULL for one without), which returns 0 or, having said why, an exit status. --help
 * prints the usage (translated already) and returns -1; an unknown option, a missing value or
 * an argument left over is said with the usage and returns EXIT_USAGE. */
struct option;
typedef int (*ctl_option_handler)(int option, const char *value, void *userdata);
int ctl_parse_options(int argc, char **argv, const struct option *options, const char *usage, ctl_option_handler handle,
                      void *userdata);

/* The verbs: the request holds the verb's options and arguments, set from the command line. */
int ctl_status(const ctl_context *ctx, tg_ctl_request *req, char **args);
int ctl_devices(const ctl_context *ctx, tg_ctl_request *req, char **args);
int ctl_media_list(const ctl_context *ctx, tg_ctl_request *req, char **args);
int ctl_media_change(const ctl_context *ctx, tg_ctl_request *req, char **args);
int ctl_exception_list(const ctl_context *ctx, tg_ctl_request *req, char **args);
int ctl_exception_change(const ctl_context *ctx, tg_ctl_request *req, char **args);
int ctl_lock(const ctl_context *ctx, tg_ctl_request *req, char **args);
int ctl_token_list(const ctl_context *ctx, tg_ctl_request *req, char **args);
int ctl_token_change(const ctl_context *ctx, tg_ctl_request *req, char **args);

/* ctl-journal.c: the audit journal, read where it lies; each parses its own options. */
int ctl_journal_init(const ctl_context *ctx, int argc, char **argv);
int ctl_journal_verify(const ctl_context *ctx, int argc, char **argv);
int ctl_journal_log(const ctl_context *ctx, int argc, char **argv);
/* ctl-journal.c: what to say when the journal cannot be read; returns the exit status. */
int ctl_journal_open_failed(const char *dir, int r);
/* A journal id (host, boot) as UUID text. */
#define CTL_ID_TEXT_MAX 37
void ctl_id_text(const uint8_t *id, char buf[CTL_ID_TEXT_MAX]);
/* ctl-report.c: report usage|media|exceptions|blocked|mfa (argv[0] names the kind) */
int ctl_report(const ctl_context *ctx, int argc, char **argv);

/* termguardctl log: what the options ask for, for root's reading of the journal
 * (ctl-journal.c) and a staff user's own records (ctl-journal-own.c). */
typedef enum { CTL_LOG_TABLE, CTL_LOG_JSON, CTL_LOG_CSV } ctl_log_format;
typedef struct {
        int64_t since, until; /* µs */
        bool have_since, have_until;
        const char *type, *device, *user;
        ctl_log_format format;
} ctl_log_query;
/* ctl-log.c: a record as the filter sees it, whatever holds it. */
typedef struct {
        int64_t (*time)(const void *rec);                             /* µs UTC */
        const char *(*type)(const void *rec);                         /* never NULL */
        const char *(*field)(const void *rec, const char *key);       /* NULL: not in the record */
        const char *(*user)(const void *rec, char *buf, size_t size); /* NULL: none */
} ctl_log_view;
/* Whether rec passes q's time bounds, type glob, device (device, label or serial) and user. */
bool ctl_log_matches(const ctl_log_view *view, const void *rec, const ctl_log_query *q);
/* A record's time as log shows it: ISO 8601 UTC with microseconds. */
void ctl_log_time(int64_t usec, char *buf, size_t size);
/* ctl-journal-own.c: termguardctl log for a user who is not root: termguardd sends the
 * caller's own records, filtered here as the options say. */
int ctl_journal_log_own(const ctl_context *ctx, const ctl_log_query *q);

/* ctl-central.c: the terminal's enrolment in the central store. */
int ctl_central_enroll(const ctl_context *ctx, int argc, char **argv);

/* termguardctl mfa SUBCOMMAND USER */
int ctl_mfa(const char *config_root, int argc, char **argv, bool json);
