/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguardctl report usage|media|exceptions|blocked|mfa: the audit reports of lib/report.c
 * on this terminal's own journal, read where it lies (root, or a member of the journal's
 * auditor group). The central server writes the same reports, byte for byte the same CSV,
 * for the whole fleet.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "termguard/config.h"
#include "termguard/journal.h"
#include "termguard/macro.h"
#include "termguard/report.h"
#include "termguard/timeutil.h"

/* The terminal's department as enrolment set it (termguardctl central enroll), one line. */
#define DEPARTMENT_FILE "central/department"
#define DEPARTMENT_MAX 128

typedef struct {
        const char *journal_dir;
        const char *from, *to, *month, *fiscal_year;
        const char *out;
        tg_report_format format;
        int lang; /* -1: from the locale */
} report_args;

enum {
        OPT_JOURNAL = 256,
        OPT_FROM,
        OPT_TO,
        OPT_MONTH,
        OPT_FISCAL_YEAR,
        OPT_FORMAT,
        OPT_OUT,
        OPT_LANG,
        OPT_JSON,
        OPT_CSV,
};

static const struct option report_options[] = {
        {"journal", required_argument, NULL, OPT_JOURNAL},
        {"from", required_argument, NULL, OPT_FROM},
        {"to", required_argument, NULL, OPT_TO},
        {"month", required_argument, NULL, OPT_MONTH},
        {"fiscal-year", required_argument, NULL, OPT_FISCAL_YEAR},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"out", required_argument, NULL, OPT_OUT},
        {"lang", required_argument, NULL, OPT_LANG},
        {"json", no_argument, NULL, OPT_JSON},
        {"csv", no_argument, NULL, OPT_CSV},
        {"help", no_argument, NULL, 'h'},
        {},
};

static const char usage_text[] =
        N_("report usage|media|exceptions|blocked|mfa (--from DATE --to DATE | --month YYYY-MM | --fiscal-year YYYY) "
           "[--format table|csv|json|html] [--out FILE] [--lang ja|en] [--journal DIR]");

static int usage_error(void) {
        fprintf(stderr, _("Usage: termguardctl %s\n"), _(usage_text));
        return EXIT_USAGE;
}

static int parse_period(const report_args *a, tg_report_period *p) {
        tg_report_period_error e;
        if (tg_report_period_parse(&(tg_report_period_args){.from = a->from,
                                                            .to = a->to,
                                                            .month = a->month,
                                                            .fiscal_year = a->fiscal_year,
                                                            .times = true},
                                   p, &e) == 0)
                return 0;
        switch (e) {
        case TG_REPORT_PERIOD_BAD_MONTH:
                fprintf(stderr, _("termguardctl: not a month (YYYY-MM): %s\n"), a->month);
                break;
        case TG_REPORT_PERIOD_BAD_FISCAL_YEAR:
                fprintf(stderr, _("termguardctl: not a fiscal year (YYYY): %s\n"), a->fiscal_year);
                break;
        case TG_REPORT_PERIOD_BAD_DATES:
                fprintf(stderr, "%s\n",
                        _("termguardctl: --from and --to need dates (YYYY-MM-DD, Japan time) or times with "
                          "their zone, --from before --to."));
                break;
        default:
                fprintf(stderr, "%s\n",
                        _("termguardctl: give one period: --from DATE --to DATE, --month YYYY-MM or --fiscal-year "
                          "YYYY."));
                break;
        }
        return -EINVAL;
}

static int report_option(int option, const char *value, void *userdata) {
        report_args *a = userdata;
        int k;
        switch (option) {
        case OPT_JOURNAL: a->journal_dir = value; break;
        case OPT_FROM: a->from = value; break;
        case OPT_TO: a->to = value; break;
        case OPT_MONTH: a->month = value; break;
        case OPT_FISCAL_YEAR: a->fiscal_year = value; break;
        case OPT_OUT: a->out = value; break;
        case OPT_JSON: a->format = TG_REPORT_JSON; break;
        case OPT_CSV: a->format = TG_REPORT_CSV; break;
        case OPT_FORMAT:
                k = tg_report_format_from_string(value);
                if (k < 0) {
                        fprintf(stderr, _("termguardctl: unknown report format %s\n"), value);
                        return usage_error();
                }
                a->format = (tg_report_format) k;
                break;
        case OPT_LANG:
                a->lang = tg_report_lang_from_string(value);
                if (a->lang < 0) {
                        fprintf(stderr, _("termguardctl: unknown report language %s (ja or en)\n"), value);
                        return usage_error();
                }
                break;
        }
        return 0;
}

static int parse_args(const ctl_context *ctx, int argc, char **argv, report_args *a) {
        *a = (report_args){.format = ctx->json ? TG_REPORT_JSON : TG_REPORT_TABLE, .lang = -1};
        return ctl_parse_options(argc, argv, report_options, _(usage_text), report_option, a);
}

/* The enrolment's department, or "" before enrolment. */
static void read_department(const char *config_root, char *buf, size_t size) {
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        buf[0] = 0;
        if (asprintf(&path, "%s/%s", config_root, DEPARTMENT_FILE) < 0)
                return;
        f = fopen(path, "re");
        if (!f || !fgets(buf, (int) size, f)) {
                buf[0] = 0;
                return;
        }
        buf[strcspn(buf, "\r\n")] = 0;
}

static int feed(tg_journal_reader *reader, tg_report *rep, const char *department, int *bad) {
        const tg_journal_record *rec;
        const char *keys[TG_JOURNAL_FIELDS_MAX], *values[TG_JOURNAL_FIELDS_MAX];
        char host[CTL_ID_TEXT_MAX], boot[CTL_ID_TEXT_MAX];
        int r;

        while ((r = tg_journal_reader_next(reader, &rec)) != 0) {
                tg_report_record x = {.keys = keys, .values = values, .department = department};
                if (r == -EBADMSG) {
                        (*bad)++; /* verify says where; the report goes on with the next segment */
                        continue;
                }
                if (r < 0)
                        return r;
                ctl_id_text(tg_journal_record_host_id(rec), host);
                ctl_id_text(tg_journal_record_boot_id(rec), boot);
                x.host_id = host;
                x.boot_id = boot;
                x.seq = tg_journal_record_seq(rec);
                x.time_usec = tg_journal_record_time(rec);
                x.type = tg_journal_record_type(rec);
                x.n_fields = tg_journal_record_n_fields(rec);
                for (size_t i = 0; i < x.n_fields; i++)
                        tg_journal_record_field(rec, i, &keys[i], &values[i]);
                r = tg_report_add_record(rep, &x);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --out: written to a temporary file beside FILE (mkostemp: mode 0600, only the caller reads
 * it; the report names staff and their files), then renamed over FILE once complete: a
 * failed report leaves no half file, and a symbolic link at FILE is replaced, not followed. */
static FILE *open_out(const char *path, char **ret_tmp) {
        _cleanup_free_ char *tmp = NULL;
        FILE *f;
        int fd;
        if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
                errno = ENOMEM;
                return NULL;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return NULL;
        f = fdopen(fd, "w");
        if (!f) {
                int saved = errno;
                close(fd);
                (void) unlink(tmp);
                errno = saved;
                return NULL;
        }
        *ret_tmp = TAKE_PTR(tmp);
        return f;
}

int ctl_report(const ctl_context *ctx, int argc, char **argv) {
        static char dir[TG_PATH_MAX + 16];
        char department[DEPARTMENT_MAX + 2], host[256] = "", scope[DEPARTMENT_MAX + 300], err[512];
        tg_journal_reader *reader = NULL;
        tg_report *rep = NULL;
        _cleanup_free_ char *tmp = NULL;
        tg_report_period period;
        report_args a;
        tg_config cfg;
        FILE *out;
        int kind = tg_report_kind_from_string(argv[0]), r, bad = 0;

        if (kind < 0 || kind == TG_REPORT_HOSTS) /* host health is the central server's */
                return usage_error();
        r = parse_args(ctx, argc, argv, &a);
        if (r)
                return r < 0 ? 0 : r;
        if (parse_period(&a, &period) < 0)
                return usage_error();
        if (a.lang < 0)
                a.lang = (int) tg_report_lang_from_environment();
        if (!a.journal_dir) {
                /* where termguardd keeps it: StateDirectory=/journal */
                if (tg_config_load(ctx->config_root, &cfg, err, sizeof(err)) < 0) {
                        fprintf(stderr, _("termguardctl: configuration error: %s\n"), err);
                        return EXIT_DAEMON_ERROR;
                }
                snprintf(dir, sizeof(dir), "%s/journal", cfg.state_dir);
                a.journal_dir = dir;
        }
        read_department(ctx->config_root, department, sizeof(department));
        r = tg_journal_reader_open(a.journal_dir, &reader);
        if (r < 0)
                return ctl_journal_open_failed(a.journal_dir, r);
        r = tg_report_new((tg_report_kind) kind, &period, &rep);
        if (r == 0)
                r = feed(reader, rep, department, &bad);
        tg_journal_reader_free(reader);
        if (r == 0)
                r = tg_report_finish(rep);
        if (r < 0) {
                tg_report_free(rep);
                fprintf(stderr, _("termguardctl: reading the journal failed: %s\n"), strerror(-r));
                return EXIT_DAEMON_ERROR;
        }
        (void) gethostname(host, sizeof(host) - 1);
        snprintf(scope, sizeof(scope), "%s%s%s%s", host, *department ? " (" : "", department, *department ? ")" : "");
        out = a.out ? open_out(a.out, &tmp) : stdout;
        if (!out) {
                fprintf(stderr, _("termguardctl: cannot write %s: %s\n"), a.out, strerror(errno));
                tg_report_free(rep);
                return EXIT_DAEMON_ERROR;
        }
        r = tg_report_write(rep, out,
                            &(tg_report_output){.format = a.format,
                                                .lang = (tg_report_lang) a.lang,
                                                .scope = scope,
                                                .generated_usec = tg_now() * 1000000});
        tg_report_free(rep);
        if (a.out && fclose(out) != 0 && r == 0)
                r = -EIO;
        if (a.out && r == 0 && rename(tmp, a.out) < 0)
                r = -errno;
        if (r < 0) {
                if (a.out)
                        (void) unlink(tmp);
                fprintf(stderr, _("termguardctl: cannot write the report: %s\n"), strerror(-r));
                return EXIT_DAEMON_ERROR;
        }
        if (bad) {
                fprintf(stderr,
                        _("termguardctl: %d damaged parts of the journal were skipped; run termguardctl verify.\n"),
                        bad);
                return EXIT_JOURNAL_DAMAGED;
        }
        return 0;
}
