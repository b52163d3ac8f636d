/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguardctl journal init, verify and log: the audit journal, read and
 * checked where it lies (root reads the files directly; an auditor may point --journal at a
 * copy). Everything a record holds is hostile until escaped: tables escape by display,
 * JSON and CSV by tg_escape.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "ctl.h"
#include "termguard/config.h"
#include "termguard/csv.h"
#include "termguard/escape.h"
#include "termguard/hex.h"
#include "termguard/journal.h"
#include "termguard/macro.h"
#include "termguard/timeutil.h"

/* A value escaped: every byte may become \xNN. */
#define ESCAPED_MAX (4 * TG_JOURNAL_VALUE_MAX + 8)

typedef struct {
        const char *journal_dir;
        const char *host_id_path; /* journal init only */
        const char *key_file, *checkpoint;
        const char *seed_out, *seed_in;
        ctl_log_query q; /* log's filters; its format is every verb's */
        bool journal_dir_given;
} journal_args;

enum {
        OPT_JOURNAL = 256,
        OPT_KEY,
        OPT_CHECKPOINT,
        OPT_SEED_OUT,
        OPT_SEED_IN,
        OPT_SINCE,
        OPT_UNTIL,
        OPT_TYPE,
        OPT_DEVICE,
        OPT_USER,
        OPT_JSON,
        OPT_CSV,
};

static const struct option journal_options[] = {
        {"journal", required_argument, NULL, OPT_JOURNAL},
        {"key", required_argument, NULL, OPT_KEY},
        {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
        {"seed-out", required_argument, NULL, OPT_SEED_OUT},
        {"seed-in", required_argument, NULL, OPT_SEED_IN},
        {"since", required_argument, NULL, OPT_SINCE},
        {"from", required_argument, NULL, OPT_SINCE},
        {"until", required_argument, NULL, OPT_UNTIL},
        {"to", required_argument, NULL, OPT_UNTIL},
        {"type", required_argument, NULL, OPT_TYPE},
        {"device", required_argument, NULL, OPT_DEVICE},
        {"user", required_argument, NULL, OPT_USER},
        {"json", no_argument, NULL, OPT_JSON},
        {"csv", no_argument, NULL, OPT_CSV},
        {"help", no_argument, NULL, 'h'},
        {},
};

static int parse_time(const char *s, int64_t *ret) {
        int64_t t;
        if (tg_parse_iso8601(s, &t) < 0) {
                fprintf(stderr, _("termguardctl: not a time with its zone (e.g. 2026-12-01T00:00:00+09:00): %s\n"), s);
                return -EINVAL;
        }
        *ret = t * 1000000;
        return 0;
}

static int journal_option(int option, const char *value, void *userdata) {
        journal_args *a = userdata;
        switch (option) {
        case OPT_JOURNAL:
                a->journal_dir = value;
                a->journal_dir_given = true;
                break;
        case OPT_KEY: a->key_file = value; break;
        case OPT_CHECKPOINT: a->checkpoint = value; break;
        case OPT_SEED_OUT: a->seed_out = value; break;
        case OPT_SEED_IN: a->seed_in = value; break;
        case OPT_SINCE:
                if (parse_time(value, &a->q.since) < 0)
                        return EXIT_USAGE;
                a->q.have_since = true;
                break;
        case OPT_UNTIL:
                if (parse_time(value, &a->q.until) < 0)
                        return EXIT_USAGE;
                a->q.have_until = true;
                break;
        case OPT_TYPE: a->q.type = value; break;
        case OPT_DEVICE: a->q.device = value; break;
        case OPT_USER: a->q.user = value; break;
        case OPT_JSON: a->q.format = CTL_LOG_JSON; break;
        case OPT_CSV: a->q.format = CTL_LOG_CSV; break;
        }
        return 0;
}

/* Parses the options every journal verb shares; which ones a verb takes is its own check.
 * Returns 0, -1 after --help, or an exit status. */
static int parse_args(const ctl_context *ctx, int argc, char **argv, journal_args *a, const char *usage,
                      bool need_config) {
        static char dir[TG_PATH_MAX + 16];
        tg_config cfg;
        char err[512];
        int r;

        *a = (journal_args){.q.format = ctx->json ? CTL_LOG_JSON : CTL_LOG_TABLE};
        r = ctl_parse_options(argc, argv, journal_options, usage, journal_option, a);
        if (r)
                return r;
        if (!a->journal_dir || need_config) {
                /* where termguardd keeps them: StateDirectory=/journal and /host-id */
                static char host_id[TG_PATH_MAX + 16];
                if (tg_config_load(ctx->config_root, &cfg, err, sizeof(err)) < 0) {
                        fprintf(stderr, _("termguardctl: configuration error: %s\n"), err);
                        return EXIT_DAEMON_ERROR;
                }
                snprintf(dir, sizeof(dir), "%s/journal", cfg.state_dir);
                snprintf(host_id, sizeof(host_id), "%s/host-id", cfg.state_dir);
                if (!a->journal_dir)
                        a->journal_dir = dir;
                a->host_id_path = host_id;
        }
        return 0;
}

int ctl_journal_open_failed(const char *dir, int r) {
        if (r == -EACCES || r == -EPERM)
                fprintf(stderr,
                        _("termguardctl: cannot read the journal in %s: %s\n"
                          "Only root reads the journal on this terminal; auditors verify a copy or use the central "
                          "reports.\n"),
                        dir, strerror(-r));
        else
                fprintf(stderr, _("termguardctl: cannot read the journal in %s: %s\n"), dir, strerror(-r));
        return r == -EACCES || r == -EPERM ? EXIT_DENIED : EXIT_DAEMON_ERROR;
}

/* journal init */

int ctl_journal_init(const ctl_context *ctx, int argc, char **argv) {
        static const char usage[] = N_("journal init (--seed-out FILE | --seed-in FILE) [--journal DIR]");
        uint8_t seed[TG_JOURNAL_SEED_SIZE], host[TG_JOURNAL_ID_SIZE], seed_host[TG_JOURNAL_ID_SIZE];
        journal_args a;
        int r = parse_args(ctx, argc, argv, &a, _(usage), true);

        if (r)
                return r < 0 ? 0 : r;
        if (!a.seed_out == !a.seed_in) {
                fprintf(stderr, "%s\n", _("termguardctl: give exactly one of --seed-out FILE and --seed-in FILE."));
                return EXIT_USAGE;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "%s\n", _("termguardctl: journal init must be run as root (for example with sudo)."));
                return EXIT_DENIED;
        }
        r = tg_journal_host_id(a.host_id_path, host);
        if (r < 0) {
                fprintf(stderr, _("termguardctl: cannot read or create the host id %s: %s\n"), a.host_id_path,
                        strerror(-r));
                return EXIT_DAEMON_ERROR;
        }
        if (a.seed_in) {
                r = tg_journal_seed_read(a.seed_in, seed, seed_host);
                if (r < 0) {
                        fprintf(stderr, _("termguardctl: cannot read the seed file %s: %s\n"), a.seed_in, strerror(-r));
                        return EXIT_USAGE;
                }
                if (memcmp(seed_host, host, sizeof(host)) != 0) {
                        explicit_bzero(seed, sizeof(seed));
                        fprintf(stderr, "%s\n",
                                _("termguardctl: the seed file was made for another host id; set the host id first."));
                        return EXIT_USAGE;
                }
        } else {
                if (getrandom(seed, sizeof(seed), 0) != (ssize_t) sizeof(seed)) {
                        fprintf(stderr, "%s\n", _("termguardctl: no random numbers from the kernel."));
                        return EXIT_DAEMON_ERROR;
                }
                /* Written for escrow before the journal uses it: a seed nobody holds would
                 * make the MACs unverifiable. */
                r = tg_journal_seed_write(a.seed_out, seed, host);
                if (r < 0) {
                        explicit_bzero(seed, sizeof(seed));
                        fprintf(stderr, _("termguardctl: cannot write the seed file %s: %s\n"), a.seed_out,
                                strerror(-r));
                        return EXIT_DAEMON_ERROR;
                }
        }
        r = tg_journal_init(a.journal_dir, seed, &(tg_journal_options){.host_id_path = a.host_id_path});
        explicit_bzero(seed, sizeof(seed));
        if (r < 0) {
                if (a.seed_out)
                        (void) unlink(a.seed_out);
                if (r == -EEXIST)
                        fprintf(stderr, _("termguardctl: %s already holds a journal; its key is never replaced.\n"),
                                a.journal_dir);
                else
                        fprintf(stderr, _("termguardctl: cannot create the journal in %s: %s\n"), a.journal_dir,
                                strerror(-r));
                return EXIT_DAEMON_ERROR;
        }
        printf(_("Journal created in %s.\n"), a.journal_dir);
        if (a.seed_out)
                printf(_("Give %s to the auditors for safekeeping, then delete it from this terminal (shred -u).\n"),
                       a.seed_out);
        return 0;
}

/* verify */

static const struct {
        const char *name, *text;
} problem_names[] = {
        [TG_JOURNAL_PROBLEM_CORRUPT] = {"corrupt", N_("record damaged (length, checksum or contents)")},
        [TG_JOURNAL_PROBLEM_MAC] = {"mac", N_("record altered: its MAC does not match")},
        [TG_JOURNAL_PROBLEM_CHAIN] = {"chain", N_("chain broken: the record before it was changed or removed")},
        [TG_JOURNAL_PROBLEM_GAP] = {"gap", N_("records missing before it")},
        [TG_JOURNAL_PROBLEM_REORDER] = {"reorder", N_("record out of order")},
        [TG_JOURNAL_PROBLEM_TRUNCATED] = {"truncated", N_("journal cut short")},
        [TG_JOURNAL_PROBLEM_ROLLBACK] = {"rollback", N_("record differs from the checkpoint: journal rolled back")},
        [TG_JOURNAL_PROBLEM_HOST] = {"host", N_("record of another host")},
        [TG_JOURNAL_PROBLEM_SKIPPED] = {"skipped", N_("seqs skipped after a crash (noted by the journal)")},
        [TG_JOURNAL_PROBLEM_LOST] = {"lost", N_("durable records lost (noted by the journal)")},
};

#define REPORTED_MAX 1000

typedef struct {
        json_object *list; /* JSON output */
        size_t n;
} verify_output;

static void print_problem(const tg_journal_problem *p, void *userdata) {
        verify_output *out = userdata;
        if (out->n++ >= REPORTED_MAX)
                return;
        if (out->list) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "kind", json_object_new_string(problem_names[p->kind].name));
                json_object_object_add(o, "seq", json_object_new_uint64(p->seq));
                json_object_object_add(o, "expected", json_object_new_uint64(p->expected));
                json_object_object_add(o, "file", json_object_new_string(p->file ? p->file : ""));
                json_object_object_add(o, "offset", json_object_new_uint64(p->offset));
                json_object_array_add(out->list, o);
                return;
        }
        printf(_("%s: seq %" PRIu64 " (expected %" PRIu64 "), %s offset %" PRIu64 ": %s\n"),
               p->kind == TG_JOURNAL_PROBLEM_SKIPPED ? _("note") : _("PROBLEM"), p->seq, p->expected,
               p->file ? p->file : "-", p->offset, _(problem_names[p->kind].text));
}

static int read_checkpoint(const char *arg, tg_journal_verify_options *o) {
        char buf[TG_JOURNAL_HEAD_TEXT_MAX + 2];
        FILE *f;

        if (tg_journal_head_parse(arg, &o->checkpoint_seq, o->checkpoint_mac) == 0)
                goto ok;
        f = fopen(arg, "re");
        if (!f || !fgets(buf, sizeof(buf), f)) {
                if (f)
                        fclose(f);
                return -EINVAL;
        }
        fclose(f);
        buf[strcspn(buf, "\r\n")] = 0;
        if (tg_journal_head_parse(buf, &o->checkpoint_seq, o->checkpoint_mac) < 0)
                return -EINVAL;
ok:
        o->have_checkpoint = true;
        return 0;
}

int ctl_journal_verify(const ctl_context *ctx, int argc, char **argv) {
        static const char usage[] = N_("verify [--key SEEDFILE] [--checkpoint FILE|SEQ:MAC] [--journal DIR] [--json]");
        uint8_t seed[TG_JOURNAL_SEED_SIZE];
        verify_output out = {0};
        tg_journal_verify_options o = {.report = print_problem, .userdata = &out};
        tg_journal_verify_result res;
        journal_args a;
        int r = parse_args(ctx, argc, argv, &a, _(usage), false);

        if (r)
                return r < 0 ? 0 : r;
        if (a.key_file) {
                r = tg_journal_seed_read(a.key_file, seed, NULL);
                if (r < 0) {
                        fprintf(stderr, _("termguardctl: cannot read the seed file %s: %s\n"), a.key_file,
                                strerror(-r));
                        return EXIT_USAGE;
                }
                o.seed = seed;
        }
        if (a.checkpoint && read_checkpoint(a.checkpoint, &o) < 0) {
                fprintf(stderr, _("termguardctl: --checkpoint expects SEQ:MAC or a file holding it: %s\n"),
                        a.checkpoint);
                return EXIT_USAGE;
        }
        if (a.q.format == CTL_LOG_JSON)
                out.list = json_object_new_array();
        r = tg_journal_verify(a.journal_dir, &o, &res);
        explicit_bzero(seed, sizeof(seed));
        if (r < 0) {
                json_object_put(out.list);
                return ctl_journal_open_failed(a.journal_dir, r);
        }
        if (out.list) {
                json_object *j = json_object_new_object();
                json_object_object_add(j, "intact", json_object_new_boolean(res.problems == 0));
                json_object_object_add(j, "records", json_object_new_uint64(res.records));
                json_object_object_add(j, "first_seq", json_object_new_uint64(res.first_seq));
                json_object_object_add(j, "last_seq", json_object_new_uint64(res.last_seq));
                json_object_object_add(j, "macs_checked", json_object_new_boolean(res.macs_checked));
                json_object_object_add(j, "checkpoint_checked", json_object_new_boolean(o.have_checkpoint));
                json_object_object_add(j, "problems", json_object_new_uint64(res.problems));
                json_object_object_add(j, "notes", json_object_new_uint64(res.notes));
                json_object_object_add(j, "findings", out.list);
                ctl_print_json(j, _TG_F_MAX);
                json_object_put(j);
        } else {
                if (out.n > REPORTED_MAX)
                        printf(_("(%zu more findings not shown)\n"), out.n - REPORTED_MAX);
                printf(_("%" PRIu64 " records, seq %" PRIu64 " to %" PRIu64 "; MACs %s; checkpoint %s.\n"), res.records,
                       res.first_seq, res.last_seq,
                       res.macs_checked ? _("checked with the key") : _("not checked (no key)"),
                       o.have_checkpoint ? _("compared") : _("not given"));
                if (res.problems == 0)
                        printf("%s\n", _("Journal intact."));
                else
                        printf(_("JOURNAL NOT INTACT: %" PRIu64 " problems, the first at seq %" PRIu64 " in %s.\n"),
                               res.problems, res.first.seq, res.first.file && *res.first.file ? res.first.file : "-");
        }
        return res.problems == 0 ? 0 : EXIT_JOURNAL_DAMAGED;
}

/* log */

static void escape_value(const char *s, char *buf) {
        tg_escape(s ? s : "", s ? strlen(s) : 0, TG_JOURNAL_VALUE_MAX, buf, ESCAPED_MAX);
}

static const char *record_user(const tg_journal_record *rec, char *buf, size_t size) {
        const char *u = tg_journal_record_get(rec, "user");
        struct passwd *pw;
        if (u && *u)
                return u;
        pw = getpwuid(tg_journal_record_uid(rec));
        if (pw)
                snprintf(buf, size, "%s", pw->pw_name);
        else
                snprintf(buf, size, "%u", (unsigned) tg_journal_record_uid(rec));
        return buf;
}

static const char *record_device(const tg_journal_record *rec) {
        const char *label = tg_journal_record_get(rec, "label");
        const char *device = tg_journal_record_get(rec, "device");
        return label && *label ? label : device ? device : "";
}

static int64_t view_time(const void *rec) {
        return tg_journal_record_time(rec);
}

static const char *view_type(const void *rec) {
        return tg_journal_record_type(rec);
}

static const char *view_field(const void *rec, const char *key) {
        return tg_journal_record_get(rec, key);
}

static const char *view_user(const void *rec, char *buf, size_t size) {
        return record_user(rec, buf, size);
}

static const ctl_log_view journal_view = {
        .time = view_time,
        .type = view_type,
        .field = view_field,
        .user = view_user,
};

/* An id as a UUID, as the host-id file and journal.initialized write it. */
void ctl_id_text(const uint8_t *id, char buf[CTL_ID_TEXT_MAX]) {
        char hex[2 * TG_JOURNAL_ID_SIZE + 1];
        (void) tg_hex_encode(id, TG_JOURNAL_ID_SIZE, hex, sizeof(hex));
        snprintf(buf, CTL_ID_TEXT_MAX, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* The fields not shown in their own column, as "key=value key=value". */
static char *details(const tg_journal_record *rec, bool escaped) {
        static const char *const shown[] = {"user", "label", "device"};
        char *buf = NULL, *val = escaped ? malloc(ESCAPED_MAX) : NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        bool first = true;

        if (!f || (escaped && !val)) {
                if (f)
                        fclose(f);
                free(buf);
                free(val);
                fputs("termguardctl: out of memory\n", stderr);
                exit(EXIT_DAEMON_ERROR);
        }
        for (size_t i = 0; i < tg_journal_record_n_fields(rec); i++) {
                const char *k, *v;
                bool skip = false;
                tg_journal_record_field(rec, i, &k, &v);
                for (size_t s = 0; s < ELEMENTSOF(shown); s++)
                        skip = skip || strcmp(k, shown[s]) == 0;
                if (skip)
                        continue;
                if (escaped)
                        escape_value(v, val);
                fprintf(f, "%s%s=%s", first ? "" : " ", k, escaped ? val : v);
                first = false;
        }
        fclose(f);
        free(val);
        return buf;
}

static void log_json(const tg_journal_record *rec, char *val) {
        json_object *o = json_object_new_object(), *fields = json_object_new_object();
        char t[40], id[CTL_ID_TEXT_MAX];

        json_object_object_add(o, "seq", json_object_new_uint64(tg_journal_record_seq(rec)));
        ctl_log_time(tg_journal_record_time(rec), t, sizeof(t));
        json_object_object_add(o, "time", json_object_new_string(t));
        json_object_object_add(o, "time_usec", json_object_new_int64(tg_journal_record_time(rec)));
        json_object_object_add(o, "clock",
                               json_object_new_string(tg_journal_clock_to_string(tg_journal_record_clock(rec))));
        ctl_id_text(tg_journal_record_host_id(rec), id);
        json_object_object_add(o, "host_id", json_object_new_string(id));
        ctl_id_text(tg_journal_record_boot_id(rec), id);
        json_object_object_add(o, "boot_id", json_object_new_string(id));
        json_object_object_add(o, "type", json_object_new_string(tg_journal_record_type(rec)));
        json_object_object_add(o, "priority", json_object_new_int(tg_journal_record_priority(rec)));
        json_object_object_add(o, "uid", json_object_new_uint64(tg_journal_record_uid(rec)));
        json_object_object_add(o, "pid", json_object_new_int64(tg_journal_record_pid(rec)));
        escape_value(tg_journal_record_comm(rec), val);
        json_object_object_add(o, "comm", json_object_new_string(val));
        escape_value(tg_journal_record_unit(rec), val);
        json_object_object_add(o, "unit", json_object_new_string(val));
        for (size_t i = 0; i < tg_journal_record_n_fields(rec); i++) {
                const char *k, *v;
                tg_journal_record_field(rec, i, &k, &v);
                escape_value(v, val);
                json_object_object_add(fields, k, json_object_new_string(val));
        }
        json_object_object_add(o, "fields", fields);
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
}

static void log_csv(const tg_journal_record *rec, char *val) {
        char t[40], num[24], user[64], id[CTL_ID_TEXT_MAX];
        _cleanup_free_ char *rest = details(rec, true);

        snprintf(num, sizeof(num), "%" PRIu64, tg_journal_record_seq(rec));
        tg_csv_cell(stdout, num, true);
        ctl_log_time(tg_journal_record_time(rec), t, sizeof(t));
        tg_csv_cell(stdout, t, false);
        tg_csv_cell(stdout, tg_journal_clock_to_string(tg_journal_record_clock(rec)), false);
        ctl_id_text(tg_journal_record_host_id(rec), id);
        tg_csv_cell(stdout, id, false);
        tg_csv_cell(stdout, tg_journal_record_type(rec), false);
        escape_value(record_user(rec, user, sizeof(user)), val);
        tg_csv_cell(stdout, val, false);
        escape_value(record_device(rec), val);
        tg_csv_cell(stdout, val, false);
        snprintf(num, sizeof(num), "%u", (unsigned) tg_journal_record_uid(rec));
        tg_csv_cell(stdout, num, false);
        escape_value(tg_journal_record_comm(rec), val);
        tg_csv_cell(stdout, val, false);
        tg_csv_cell(stdout, rest, false);
        tg_csv_end_row(stdout);
}

int ctl_journal_log(const ctl_context *ctx, int argc, char **argv) {
        static const char usage[] =
                N_("log [--since TIME] [--until TIME] [--type TYPE] [--device DEVICE] [--user USER] "
                   "[--json|--csv] [--journal DIR]");
        _cleanup_free_ char *val = malloc(ESCAPED_MAX);
        tg_journal_reader *reader = NULL;
        const tg_journal_record *rec;
        ctl_table *t = NULL;
        journal_args a;
        int r = parse_args(ctx, argc, argv, &a, _(usage), false), bad = 0;

        if (r)
                return r < 0 ? 0 : r;
        if (!val)
                return EXIT_DAEMON_ERROR;
        /* The journal is root's: anyone else gets their own records from termguardd (a copy
         * named with --journal is read where it lies, as far as the files let them). */
        if (geteuid() != 0 && !a.journal_dir_given)
                return ctl_journal_log_own(ctx, &a.q);
        r = tg_journal_reader_open(a.journal_dir, &reader);
        if (r < 0)
                return ctl_journal_open_failed(a.journal_dir, r);
        if (a.q.format == CTL_LOG_CSV) {
                static const char *const header[] = {"seq",  "time",   "clock",      "host_id", "type",
                                                     "user", "device", "sender_uid", "sender",  "details"};
                tg_csv_begin(stdout);
                for (size_t i = 0; i < ELEMENTSOF(header); i++)
                        tg_csv_cell(stdout, header[i], i == 0);
                tg_csv_end_row(stdout);
        } else if (a.q.format == CTL_LOG_TABLE) {
                t = ctl_table_new(6);
                ctl_table_add(t, _("TIME (UTC)"), _("SEQ"), _("TYPE"), _("USER"), _("DEVICE"), _("DETAILS"));
        }
        while ((r = tg_journal_reader_next(reader, &rec)) != 0) {
                if (r == -EBADMSG) {
                        bad++; /* verify says where; the listing goes on with the next segment */
                        continue;
                }
                if (r < 0)
                        break;
                if (!ctl_log_matches(&journal_view, rec, &a.q))
                        continue;
                if (a.q.format == CTL_LOG_JSON)
                        log_json(rec, val);
                else if (a.q.format == CTL_LOG_CSV)
                        log_csv(rec, val);
                else {
                        char tm[40], seq[24], user[64];
                        _cleanup_free_ char *rest = details(rec, false);
                        ctl_log_time(tg_journal_record_time(rec), tm, sizeof(tm));
                        snprintf(seq, sizeof(seq), "%" PRIu64, tg_journal_record_seq(rec));
                        ctl_table_add(t, tm, seq, tg_journal_record_type(rec), record_user(rec, user, sizeof(user)),
                                      record_device(rec), rest);
                }
        }
        if (t) {
                ctl_table_print(t, stdout);
                ctl_table_free(t);
        }
        tg_journal_reader_free(reader);
        if (r < 0) {
                fprintf(stderr, _("termguardctl: reading the journal failed: %s\n"), strerror(-r));
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
