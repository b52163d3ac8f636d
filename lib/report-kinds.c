/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The report kinds: which records each reads and the sections it makes. Record names and
 * fields are those of lib/event-catalogue.c. Cells hold values escaped by report_value();
 * words that are data (a decision, a status) stay the records' own English codes in every
 * language, so that CSV and JSON are the same for every reader.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report-internal.h"
#include "termguard/macro.h"
#include "termguard/timeutil.h"
#include "termguard/usage-report.h"

/* gcc 12's analyzer loses strings strdup'd into elements of the growing arrays below (media,
 * exceptions, users) and reports each as leaked; they are freed with their arrays, and the
 * unit tests run under LeakSanitizer (cmake -DTG_SANITIZE=ON) prove it. Only this check is
 * silenced, and only here. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpragmas" /* gcc without -fanalyzer */
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif

#define W(en, ja) ((report_words){en, ja})
#define COL(id, en, ja)                                                                                                \
        { id, W(en, ja), false }
#define NUM(id, en, ja)                                                                                                \
        { id, W(en, ja), true }
#define CELLS_MAX 20

typedef char cell_buf[REPORT_CELL_MAX];

static const char *num(uint64_t v, char *buf) {
        snprintf(buf, REPORT_CELL_MAX, "%" PRIu64, v);
        return buf;
}

static const char *when(int64_t usec, char *buf) {
        tg_report_format_time(usec, buf, REPORT_CELL_MAX);
        return buf;
}

static bool in_period(const tg_report *r, int64_t t) {
        return t >= r->period.from_usec && t < r->period.to_usec;
}

static int set_str(char **dst, const char *s) {
        char *p = strdup(s ? s : "");
        if (!p)
                return -ENOMEM;
        free(*dst);
        *dst = p;
        return 0;
}

/* The first of n sorted elements not less than key: lookups stay O(log n) with a fleet's
 * thousands of media, users and exceptions. */
static size_t lower_bound(const void *base, size_t n, size_t size, const void *key,
                          int (*cmp)(const void *key, const void *elem)) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (cmp(key, (const char *) base + mid * size) > 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* Room for one more element at index at of a sorted array (*n elements, *alloc allocated). */
static void *insert_at(void **base, size_t *n, size_t *alloc, size_t size, size_t at, int *ret) {
        if (*n >= TG_REPORT_ROWS_MAX) {
                *ret = -E2BIG;
                return NULL;
        }
        if (*n == *alloc) {
                size_t a = *alloc ? *alloc * 2 : 32;
                void *p = realloc(*base, a * size);
                if (!p) {
                        *ret = -ENOMEM;
                        return NULL;
                }
                *base = p;
                *alloc = a;
        }
        char *b = *base;
        memmove(b + (at + 1) * size, b + at * size, (*n - at) * size);
        (*n)++;
        memset(b + at * size, 0, size);
        return b + at * size;
}

/* A value escaped, or "" (never NULL) to compare against. */
static const char *val_or_empty(const char *s) {
        return s ? s : "";
}

/* The media register, as register.media-added and register.media-removed build it. Labels are
 * unique in a register; centrally the same medium's changes come from every terminal that
 * received the register, so the newest change wins. */

typedef struct {
        int64_t time;
        char *department; /* NULL: removed from the register then */
} medium_change;

typedef struct {
        char *label, *vid, *pid, *serial, *department, *mode, *added_by, *removed_by;
        int64_t added_at, removed_at, changed_at;
        bool registered;
        medium_change *history; /* in time order: the department a use had when it happened */
        size_t n_history;
} medium;

typedef struct {
        medium *media;
        size_t n, alloc;
} media_register;

static int cmp_label(const void *key, const void *elem) {
        return strcmp(key, ((const medium *) elem)->label);
}

/* Sorted by label. */
static medium *register_find(media_register *reg, const char *label) {
        size_t i = lower_bound(reg->media, reg->n, sizeof(*reg->media), label, cmp_label);
        return i < reg->n && strcmp(reg->media[i].label, label) == 0 ? &reg->media[i] : NULL;
}

/* The medium's department in the register at time t ("" unregistered then). */
static const char *register_department(media_register *reg, const char *label, int64_t t) {
        medium *m = label && *label ? register_find(reg, label) : NULL;
        const char *dept = "";
        for (size_t i = 0; m && i < m->n_history && m->history[i].time <= t; i++)
                dept = m->history[i].department ? m->history[i].department : "";
        return dept;
}

static int history_add(medium *m, int64_t t, const char *department) {
        medium_change *p;
        size_t at = m->n_history;
        if (m->n_history >= TG_REPORT_ROWS_MAX)
                return -E2BIG;
        p = realloc(m->history, (m->n_history + 1) * sizeof(*p));
        if (!p)
                return -ENOMEM;
        m->history = p;
        while (at > 0 && p[at - 1].time > t) /* hosts' reports of one change may come in any order */
                at--;
        memmove(&p[at + 1], &p[at], (m->n_history - at) * sizeof(*p));
        p[at] = (medium_change){.time = t, .department = department ? strdup(department) : NULL};
        m->n_history++;
        return department && !p[at].department ? -ENOMEM : 0;
}

/* Applies a register change record; returns 1 when rec was one, 0 when not, -errno. */
static int register_apply(media_register *reg, const tg_report_record *rec) {
        bool added = strcmp(rec->type, "register.media-added") == 0;
        cell_buf label, b;
        medium *m;
        int k = 0;

        if (!added && strcmp(rec->type, "register.media-removed") != 0)
                return 0;
        report_value(rec, "label", label);
        if (!*label)
                return 1;
        m = register_find(reg, label);
        if (!m) {
                size_t at = lower_bound(reg->media, reg->n, sizeof(*reg->media), label, cmp_label);
                m = insert_at((void **) &reg->media, &reg->n, &reg->alloc, sizeof(*m), at, &k);
                if (!m)
                        return k;
                if (set_str(&m->label, label) < 0)
                        return -ENOMEM;
        }
        k = history_add(m, rec->time_usec, added ? report_value(rec, "department", b) : NULL);
        if (k < 0)
                return k;
        if (rec->time_usec < m->changed_at)
                return 1; /* an older copy of a change another terminal reported later */
        m->changed_at = rec->time_usec;
        if (added) {
                static const char *const keys[] = {"vid", "pid", "serial", "department", "mode", "actor"};
                char **dst[] = {&m->vid, &m->pid, &m->serial, &m->department, &m->mode, &m->added_by};
                for (size_t i = 0; i < ELEMENTSOF(keys) && k == 0; i++)
                        k = set_str(dst[i], report_value(rec, keys[i], b));
                m->added_at = rec->time_usec;
                m->registered = true;
                m->removed_at = 0;
                if (k == 0)
                        k = set_str(&m->removed_by, "");
        } else {
                k = set_str(&m->removed_by, report_value(rec, "actor", b));
                m->removed_at = rec->time_usec;
                m->registered = false;
        }
        return k < 0 ? k : 1;
}

static void register_free(media_register *reg) {
        for (size_t i = 0; i < reg->n; i++) {
                medium *m = &reg->media[i];
                char *s[] = {m->label, m->vid, m->pid, m->serial, m->department, m->mode, m->added_by, m->removed_by};
                for (size_t k = 0; k < ELEMENTSOF(s); k++)
                        free(s[k]);
                for (size_t k = 0; k < m->n_history; k++)
                        free(m->history[k].department);
                free(m->history);
        }
        free(reg->media);
        *reg = (media_register){0};
}

/* Months of the period, "YYYY-MM" each, for per-month sections that show empty months too. */
#define MONTHS_MAX 1200 /* a century of months; longer periods are cut (the chart would be unreadable) */

typedef struct {
        char month[8];
        uint64_t a, b;
} month_count;

typedef struct {
        month_count *m;
        size_t n;
} month_counts;

static int months_init(const tg_report *r, month_counts *mc) {
        char prev[8] = "";
        mc->n = 0;
        mc->m = calloc(MONTHS_MAX, sizeof(*mc->m));
        if (!mc->m)
                return -ENOMEM;
        /* step by 28 days: every month is seen at least once */
        for (int64_t t = r->period.from_usec; t < r->period.to_usec && mc->n < MONTHS_MAX;
             t += INT64_C(28) * 86400 * 1000000) {
                char m[8];
                report_month(t, m);
                if (strcmp(m, prev) != 0) {
                        memcpy(mc->m[mc->n++].month, m, sizeof(m));
                        memcpy(prev, m, sizeof(m));
                }
        }
        char last[8];
        report_month(r->period.to_usec - 1, last);
        if (strcmp(last, prev) != 0 && mc->n < MONTHS_MAX)
                memcpy(mc->m[mc->n++].month, last, sizeof(last));
        return 0;
}

static month_count *months_find(month_counts *mc, int64_t t) {
        char m[8];
        report_month(t, m);
        for (size_t i = 0; i < mc->n; i++)
                if (strcmp(mc->m[i].month, m) == 0)
                        return &mc->m[i];
        return NULL;
}

/* ---- usage register ---- */

static const report_column usage_use_columns[] = {
        COL("attached", "Attached", "接続"),
        COL("detached", "Detached", "取外し"),
        COL("host_id", "Terminal", "端末"),
        COL("terminal_department", "Terminal dept.", "端末の部署"),
        COL("medium", "Medium", "媒体"),
        COL("medium_department", "Medium dept.", "媒体の部署"),
        COL("vid", "VID", "VID"),
        COL("pid", "PID", "PID"),
        COL("serial", "Serial", "シリアル"),
        COL("user", "User", "利用者"),
        COL("decision", "Decision", "判定"),
        COL("exception", "Exception", "例外"),
        NUM("files_written", "Files written", "書込みファイル数"),
};

static const report_column usage_file_columns[] = {
        COL("time", "Time", "日時"),         COL("host_id", "Terminal", "端末"),    COL("medium", "Medium", "媒体"),
        COL("user", "User", "利用者"),       COL("path", "File", "ファイル"),       NUM("size", "Bytes", "バイト数"),
        COL("sha256", "SHA-256", "SHA-256"), COL("exception", "Exception", "例外"),
};

static const report_column usage_medium_columns[] = {
        COL("medium", "Medium", "媒体"),
        COL("medium_department", "Medium dept.", "媒体の部署"),
        NUM("uses", "Uses", "使用回数"),
        NUM("blocked", "Blocked", "ブロック"),
        NUM("files_written", "Files written", "書込みファイル数"),
        COL("first", "First use", "最初の使用"),
        COL("last", "Last use", "最後の使用"),
};

static const report_column usage_user_columns[] = {
        COL("user", "User", "利用者"),           NUM("uses", "Uses", "使用回数"),
        NUM("blocked", "Blocked", "ブロック"),   NUM("files_written", "Files written", "書込みファイル数"),
        COL("first", "First use", "最初の使用"), COL("last", "Last use", "最後の使用"),
};

static const report_column usage_dept_month_columns[] = {
        COL("medium_department", "Medium dept.", "媒体の部署"),
        COL("month", "Month", "月"),
        NUM("uses", "Uses", "使用回数"),
        NUM("files_written", "Files written", "書込みファイル数"),
};

static const report_column usage_month_columns[] = {
        COL("month", "Month", "月"),
        NUM("uses", "Uses", "使用回数"),
        NUM("files_written", "Files written", "書込みファイル数"),
};

typedef struct {
        tg_usage_report usage;
        media_register reg;
        report_section *uses, *files, *per_medium, *per_user, *dept_month, *per_month;
} usage_state;

static int usage_init(tg_report *r) {
        usage_state *st = calloc(1, sizeof(*st));
        if (!st)
                return -ENOMEM;
        r->state = st;
        tg_usage_report_init(&st->usage, r->period.from_usec, r->period.to_usec);
        st->uses = report_section_new(r, "uses", W("Uses of media", "媒体の使用"), usage_use_columns,
                                      ELEMENTSOF(usage_use_columns));
        st->uses->host_column = 2;
        st->files = report_section_new(r, "files", W("Files written", "書き込まれたファイル"), usage_file_columns,
                                       ELEMENTSOF(usage_file_columns));
        st->files->sort = true;
        st->files->host_column = 1;
        st->per_medium = report_section_new(r, "per_medium", W("Per medium", "媒体別"), usage_medium_columns,
                                            ELEMENTSOF(usage_medium_columns));
        st->per_user = report_section_new(r, "per_user", W("Per user", "利用者別"), usage_user_columns,
                                          ELEMENTSOF(usage_user_columns));
        st->dept_month = report_section_new(r, "department_month", W("Department × month", "部署×月"),
                                            usage_dept_month_columns, ELEMENTSOF(usage_dept_month_columns));
        st->per_month = report_section_new(r, "per_month", W("Uses per month", "月別の使用回数"), usage_month_columns,
                                           ELEMENTSOF(usage_month_columns));
        st->per_month->chart_label = 0;
        st->per_month->chart_value = 1;
        return 0;
}

static int usage_add(tg_report *r, const tg_report_record *rec) {
        usage_state *st = r->state;
        int k = register_apply(&st->reg, rec);
        if (k != 0)
                return k < 0 ? k : 0;
        if (strcmp(rec->type, "media.file-written") == 0 && in_period(r, rec->time_usec)) {
                cell_buf c[8];
                const char *user = report_get(rec, "user");
                const char *label = report_get(rec, "label");
                const char *cells[] = {
                        when(rec->time_usec, c[0]),
                        report_escape(rec->host_id, c[1]),
                        report_escape(label && *label ? label : report_get(rec, "serial"), c[2]),
                        report_escape(user && *user ? user : report_get(rec, "seat_user"), c[3]),
                        report_value(rec, "path", c[4]),
                        report_value(rec, "size", c[5]),
                        report_value(rec, "sha256", c[6]),
                        report_value(rec, "exception", c[7]),
                };
                k = report_section_add(st->files, rec->time_usec, rec->seq, cells);
                if (k < 0)
                        return k;
        }
        tg_usage_record u = {.time_usec = rec->time_usec,
                             .host_id = rec->host_id,
                             .department = rec->department,
                             .boot_id = rec->boot_id,
                             .type = rec->type,
                             .keys = rec->keys,
                             .values = rec->values,
                             .n_fields = rec->n_fields};
        return tg_usage_report_add(&st->usage, &u);
}

static int cmp_use(const void *a, const void *b) {
        const tg_usage_use *x = a, *y = b;
        if (x->attached_usec != y->attached_usec)
                return x->attached_usec < y->attached_usec ? -1 : 1;
        return strcmp(x->host_id, y->host_id);
}

static int add_totals(report_section *s, media_register *reg, const tg_usage_total *t, size_t n, bool by_medium) {
        for (size_t i = 0; i < n; i++) {
                cell_buf c[7];
                size_t k = 0;
                const char *cells[7];
                cells[k++] = report_escape(t[i].key, c[0]);
                if (by_medium)
                        cells[k++] = report_escape(register_department(reg, t[i].key, t[i].last_usec), c[1]);
                cells[k++] = num(t[i].uses, c[2]);
                cells[k++] = num(t[i].blocked, c[3]);
                cells[k++] = num(t[i].files_written, c[4]);
                cells[k++] = when(t[i].first_usec, c[5]);
                cells[k++] = when(t[i].last_usec, c[6]);
                int e = report_section_add(s, 0, 0, cells);
                if (e < 0)
                        return e;
        }
        return 0;
}

typedef struct {
        char *department;
        char month[8];
        uint64_t uses, files;
} dept_month;

static int cmp_dept_month(const void *a, const void *b) {
        const dept_month *x = a, *y = b;
        int c = strcmp(x->department, y->department);
        return c ? c : strcmp(x->month, y->month);
}

static int usage_dept_month(tg_report *r, usage_state *st, month_counts *mc) {
        dept_month *dm = calloc(st->usage.n_uses ? st->usage.n_uses : 1, sizeof(*dm));
        size_t n = 0;
        int k = 0;
        if (!dm)
                return -ENOMEM;
        for (size_t i = 0; i < st->usage.n_uses; i++) {
                const tg_usage_use *u = &st->usage.uses[i];
                /* a use that began before the period counts in its first month */
                int64_t t = u->attached_usec < r->period.from_usec ? r->period.from_usec : u->attached_usec;
                const char *dept = register_department(&st->reg, u->label, u->attached_usec);
                month_count *m = months_find(mc, t);
                char month[8];
                dept_month *x = NULL;
                if (m) {
                        m->a++;
                        m->b += u->files_written;
                }
                report_month(t, month);
                x = &dm[n++];
                x->department = (char *) dept; /* owned by the register */
                memcpy(x->month, month, sizeof(month));
                x->uses = 1;
                x->files = u->files_written;
        }
        /* one entry a use, sorted, then the equal ones merged */
        if (n > 0)
                qsort(dm, n, sizeof(*dm), cmp_dept_month);
        size_t merged = 0;
        for (size_t i = 0; i < n; i++) {
                if (merged > 0 && cmp_dept_month(&dm[merged - 1], &dm[i]) == 0) {
                        dm[merged - 1].uses += dm[i].uses;
                        dm[merged - 1].files += dm[i].files;
                } else
                        dm[merged++] = dm[i];
        }
        n = merged;
        for (size_t i = 0; i < n && k == 0; i++) {
                cell_buf c[4];
                const char *cells[] = {dm[i].department, dm[i].month, num(dm[i].uses, c[2]), num(dm[i].files, c[3])};
                k = report_section_add(st->dept_month, 0, 0, cells);
        }
        free(dm);
        for (size_t i = 0; i < mc->n && k == 0; i++) {
                cell_buf c[3];
                const char *cells[] = {mc->m[i].month, num(mc->m[i].a, c[1]), num(mc->m[i].b, c[2])};
                k = report_section_add(st->per_month, 0, 0, cells);
        }
        return k;
}

static int usage_finish(tg_report *r) {
        usage_state *st = r->state;
        tg_usage_total *media = NULL, *users = NULL;
        size_t n_media = 0, n_users = 0;
        month_counts mc = {0};
        int k;

        tg_usage_report_finish(&st->usage);
        if (st->usage.n_uses > 0)
                qsort(st->usage.uses, st->usage.n_uses, sizeof(*st->usage.uses), cmp_use);
        for (size_t i = 0; i < st->usage.n_uses; i++) {
                const tg_usage_use *u = &st->usage.uses[i];
                cell_buf c[13];
                const char *cells[] = {
                        when(u->attached_usec, c[0]),
                        when(u->detached_usec, c[1]),
                        report_escape(u->host_id, c[2]),
                        report_escape(u->department, c[3]),
                        report_escape(u->medium, c[4]),
                        report_escape(register_department(&st->reg, u->label, u->attached_usec), c[5]),
                        report_escape(u->vid, c[6]),
                        report_escape(u->pid, c[7]),
                        report_escape(u->serial, c[8]),
                        report_escape(u->user, c[9]),
                        report_escape(u->decision, c[10]),
                        report_escape(u->exception, c[11]),
                        num(u->files_written, c[12]),
                };
                k = report_section_add(st->uses, u->attached_usec, 0, cells);
                if (k < 0)
                        return k;
        }
        k = tg_usage_report_totals(&st->usage, false, &media, &n_media);
        if (k == 0)
                k = tg_usage_report_totals(&st->usage, true, &users, &n_users);
        if (k == 0)
                k = add_totals(st->per_medium, &st->reg, media, n_media, true);
        if (k == 0)
                k = add_totals(st->per_user, &st->reg, users, n_users, false);
        if (k == 0)
                k = months_init(r, &mc);
        if (k == 0)
                k = usage_dept_month(r, st, &mc);
        free(mc.m);
        free(media);
        free(users);
        return k;
}

static void usage_free(tg_report *r) {
        usage_state *st = r->state;
        if (!st)
                return;
        tg_usage_report_clear(&st->usage);
        register_free(&st->reg);
        free(st);
}

/* ---- media register ---- */

static const report_column media_columns[] = {
        COL("label", "Label", "ラベル"),
        COL("medium_department", "Department", "部署"),
        COL("mode", "Mode", "モード"),
        COL("vid", "VID", "VID"),
        COL("pid", "PID", "PID"),
        COL("serial", "Serial", "シリアル"),
        COL("status", "Status", "状態"),
        COL("added_at", "Registered", "登録日時"),
        COL("added_by", "Registered by", "登録者"),
        COL("removed_at", "Removed", "抹消日時"),
        COL("removed_by", "Removed by", "抹消者"),
};

static const report_column media_change_columns[] = {
        COL("time", "Time", "日時"),
        COL("host_id", "Terminal", "端末"),
        COL("change", "Change", "変更"),
        COL("label", "Label", "ラベル"),
        COL("medium_department", "Department", "部署"),
        COL("mode", "Mode", "モード"),
        COL("actor", "By", "変更者"),
};

typedef struct {
        media_register reg;
        report_section *media, *changes;
} media_state;

static int media_init(tg_report *r) {
        media_state *st = calloc(1, sizeof(*st));
        if (!st)
                return -ENOMEM;
        r->state = st;
        st->media = report_section_new(r, "media", W("Registered media at the end of the period", "期間末の登録媒体"),
                                       media_columns, ELEMENTSOF(media_columns));
        st->changes = report_section_new(r, "changes", W("Register changes in the period", "期間中の登録変更"),
                                         media_change_columns, ELEMENTSOF(media_change_columns));
        st->changes->sort = true;
        st->changes->host_column = 1;
        return 0;
}

static int media_add(tg_report *r, const tg_report_record *rec) {
        media_state *st = r->state;
        int k = register_apply(&st->reg, rec);
        if (k <= 0 || !in_period(r, rec->time_usec))
                return k < 0 ? k : 0;
        cell_buf c[7];
        bool added = strcmp(rec->type, "register.media-added") == 0;
        const char *cells[] = {
                when(rec->time_usec, c[0]),
                report_escape(rec->host_id, c[1]),
                added ? "added" : "removed",
                report_value(rec, "label", c[3]),
                report_value(rec, "department", c[4]),
                report_value(rec, "mode", c[5]),
                report_value(rec, "actor", c[6]),
        };
        return report_section_add(st->changes, rec->time_usec, rec->seq, cells);
}

static int media_finish(tg_report *r) {
        media_state *st = r->state;
        for (size_t i = 0; i < st->reg.n; i++) {
                const medium *m = &st->reg.media[i];
                cell_buf c[2];
                /* registered at the end, or removed during the period: the auditor sees both */
                if (!m->registered && m->removed_at < r->period.from_usec)
                        continue;
                const char *cells[] = {m->label,
                                       val_or_empty(m->department),
                                       val_or_empty(m->mode),
                                       val_or_empty(m->vid),
                                       val_or_empty(m->pid),
                                       val_or_empty(m->serial),
                                       m->registered ? "registered" : "removed",
                                       when(m->added_at, c[0]),
                                       val_or_empty(m->added_by),
                                       when(m->removed_at, c[1]),
                                       val_or_empty(m->removed_by)};
                int k = report_section_add(st->media, 0, 0, cells);
                if (k < 0)
                        return k;
        }
        return 0;
}

static void media_free(tg_report *r) {
        media_state *st = r->state;
        if (!st)
                return;
        register_free(&st->reg);
        free(st);
}

/* ---- exceptions ---- */

static const report_column exception_columns[] = {
        COL("host_id", "Terminal", "端末"),
        COL("exception", "Exception", "例外"),
        COL("label", "Medium", "媒体"),
        COL("medium_department", "Medium dept.", "媒体の部署"),
        COL("user", "User", "利用者"),
        COL("approver", "Approver", "承認者"),
        COL("reason", "Reason", "理由"),
        COL("ticket", "Ticket", "決裁番号"),
        COL("granted_at", "Granted", "付与日時"),
        COL("granted_by", "Granted by", "付与者"),
        COL("until", "Until", "期限"),
        COL("status", "Status", "状態"),
        COL("ended_at", "Ended", "終了日時"),
        COL("ended_by", "Ended by", "終了者"),
        NUM("uses", "Uses", "使用回数"),
        NUM("files_written", "Files written", "書込みファイル数"),
};

static const report_column exception_event_columns[] = {
        COL("time", "Time", "日時"),           COL("host_id", "Terminal", "端末"), COL("event", "Event", "事象"),
        COL("exception", "Exception", "例外"), COL("label", "Medium", "媒体"),     COL("user", "User", "利用者"),
        COL("actor", "By", "実施者"),
};

enum {
        EX_HOST,
        EX_ID,
        EX_LABEL,
        EX_USER,
        EX_APPROVER,
        EX_REASON,
        EX_TICKET,
        EX_GRANTED_BY,
        EX_UNTIL,
        EX_ENDED_BY,
        EX_STATUS,
        _EX_MAX
};

typedef struct {
        char *s[_EX_MAX];
        int64_t granted_at, ended_at;
        uint64_t uses, files;
} exception;

typedef struct {
        media_register reg;
        exception *ex;
        size_t n, alloc;
        report_section *list, *events;
} exceptions_state;

static int exceptions_init(tg_report *r) {
        exceptions_state *st = calloc(1, sizeof(*st));
        if (!st)
                return -ENOMEM;
        r->state = st;
        st->list = report_section_new(r, "exceptions",
                                      W("Write exceptions in force during the period", "期間中に有効だった書込み例外"),
                                      exception_columns, ELEMENTSOF(exception_columns));
        st->events =
                report_section_new(r, "events", W("Granted, used, expired, revoked", "付与・使用・期限切れ・取消し"),
                                   exception_event_columns, ELEMENTSOF(exception_event_columns));
        st->events->sort = true;
        st->events->host_column = 1;
        return 0;
}

typedef struct {
        const char *host, *id;
} exception_key;

static int cmp_exception(const void *key, const void *elem) {
        const exception_key *k = key;
        const exception *e = elem;
        int c = strcmp(k->host, e->s[EX_HOST]);
        return c ? c : strcmp(k->id, e->s[EX_ID]);
}

/* Exception ids are the terminal's own: the same id on two hosts is two exceptions. Sorted by
 * (host, id). */
static exception *exception_get(exceptions_state *st, const char *host, const char *id, int *ret) {
        exception_key key = {host, id};
        size_t at = lower_bound(st->ex, st->n, sizeof(*st->ex), &key, cmp_exception);
        if (at < st->n && cmp_exception(&key, &st->ex[at]) == 0)
                return &st->ex[at];
        exception *e = insert_at((void **) &st->ex, &st->n, &st->alloc, sizeof(*e), at, ret);
        if (!e)
                return NULL;
        for (size_t i = 0; i < _EX_MAX; i++)
                if (set_str(&e->s[i], i == EX_HOST ? host : i == EX_ID ? id : i == EX_STATUS ? "active" : "") < 0) {
                        *ret = -ENOMEM;
                        return NULL;
                }
        return e;
}

static int exceptions_add(tg_report *r, const tg_report_record *rec) {
        exceptions_state *st = r->state;
        cell_buf host, id, b;
        const char *event = NULL;
        exception *e;
        int k = register_apply(&st->reg, rec);

        if (k != 0)
                return k < 0 ? k : 0;
        if (strcmp(rec->type, "exception.granted") == 0)
                event = "granted";
        else if (strcmp(rec->type, "exception.revoked") == 0)
                event = "revoked";
        else if (strcmp(rec->type, "exception.expired") == 0)
                event = "expired";
        else if (strcmp(rec->type, "usb.decision") == 0)
                event = "used";
        else if (strcmp(rec->type, "media.file-written") == 0)
                event = "file-written";
        else
                return 0;
        report_value(rec, "exception", id);
        if (!*id)
                return 0; /* a decision without an exception */
        report_escape(rec->host_id, host);
        k = 0;
        e = exception_get(st, host, id, &k);
        if (!e)
                return k;
        if (strcmp(event, "granted") == 0) {
                static const struct {
                        int i;
                        const char *key;
                } take[] = {{EX_LABEL, "label"},   {EX_USER, "user"},     {EX_APPROVER, "approver"},
                            {EX_REASON, "reason"}, {EX_TICKET, "ticket"}, {EX_GRANTED_BY, "actor"},
                            {EX_UNTIL, "until"}};
                for (size_t i = 0; i < ELEMENTSOF(take) && k == 0; i++)
                        k = set_str(&e->s[take[i].i], report_value(rec, take[i].key, b));
                e->granted_at = rec->time_usec;
        } else if (strcmp(event, "revoked") == 0 || strcmp(event, "expired") == 0) {
                k = set_str(&e->s[EX_STATUS], event);
                if (k == 0)
                        k = set_str(&e->s[EX_ENDED_BY], report_value(rec, "actor", b));
                e->ended_at = rec->time_usec;
        } else if (in_period(r, rec->time_usec)) {
                if (strcmp(event, "used") == 0)
                        e->uses++;
                else
                        e->files++;
        }
        if (k < 0 || !in_period(r, rec->time_usec) || strcmp(event, "file-written") == 0)
                return k;
        cell_buf c[7];
        const char *label = report_get(rec, "label");
        const char *cells[] = {
                when(rec->time_usec, c[0]),
                host,
                event,
                id,
                report_escape(label && *label ? label : e->s[EX_LABEL], c[4]),
                report_value(rec, "user", c[5]),
                report_value(rec, "actor", c[6]),
        };
        return report_section_add(st->events, rec->time_usec, rec->seq, cells);
}

static int exceptions_finish(tg_report *r) {
        exceptions_state *st = r->state;
        for (size_t i = 0; i < st->n; i++) {
                exception *e = &st->ex[i];
                cell_buf c[5];
                int64_t until;
                /* in force at some time in the period: granted before its end (or only seen in
                 * use), not ended before its start */
                if (e->ended_at && e->ended_at < r->period.from_usec)
                        continue;
                if (!e->granted_at && !e->uses && !e->files)
                        continue;
                const char *until_text = e->s[EX_UNTIL];
                if (tg_parse_iso8601(until_text, &until) == 0)
                        until_text = when(until * 1000000, c[4]);
                const char *cells[] = {e->s[EX_HOST],
                                       e->s[EX_ID],
                                       e->s[EX_LABEL],
                                       register_department(&st->reg, e->s[EX_LABEL], e->granted_at),
                                       e->s[EX_USER],
                                       e->s[EX_APPROVER],
                                       e->s[EX_REASON],
                                       e->s[EX_TICKET],
                                       when(e->granted_at, c[0]),
                                       e->s[EX_GRANTED_BY],
                                       until_text,
                                       e->ended_at >= r->period.to_usec ? "active" : e->s[EX_STATUS],
                                       when(e->ended_at, c[1]),
                                       e->s[EX_ENDED_BY],
                                       num(e->uses, c[2]),
                                       num(e->files, c[3])};
                int k = report_section_add(st->list, e->granted_at, 0, cells);
                if (k < 0)
                        return k;
        }
        st->list->sort = true;
        st->list->host_column = 0;
        return 0;
}

static void exceptions_free(tg_report *r) {
        exceptions_state *st = r->state;
        if (!st)
                return;
        for (size_t i = 0; i < st->n; i++)
                for (size_t k = 0; k < _EX_MAX; k++)
                        free(st->ex[i].s[k]);
        free(st->ex);
        register_free(&st->reg);
        free(st);
}

/* ---- blocked carry-in attempts ---- */

static const report_column blocked_columns[] = {
        COL("time", "Time", "日時"),
        COL("host_id", "Terminal", "端末"),
        COL("terminal_department", "Terminal dept.", "端末の部署"),
        COL("user", "User", "利用者"),
        COL("device", "Port", "ポート"),
        COL("vid", "VID", "VID"),
        COL("pid", "PID", "PID"),
        COL("serial", "Serial", "シリアル"),
        COL("manufacturer", "Manufacturer", "製造者"),
        COL("product", "Product", "製品"),
        COL("decision", "Decision", "判定"),
};

static const report_column blocked_user_columns[] = {
        COL("user", "User", "利用者"),
        COL("terminal_department", "Terminal dept.", "端末の部署"),
        NUM("attempts", "Attempts", "件数"),
};

static const report_column month_attempt_columns[] = {
        COL("month", "Month", "月"),
        NUM("attempts", "Attempts", "件数"),
};

/* A per-(user, department) counter for the totals sections. */
typedef struct {
        char *user, *department;
        uint64_t n[3];
} user_count;

typedef struct {
        user_count *u;
        size_t n, alloc;
} user_counts;

static int cmp_user_count(const void *a, const void *b) {
        const user_count *x = a, *y = b;
        int c = strcmp(x->user, y->user);
        return c ? c : strcmp(x->department, y->department);
}

/* Sorted by (user, department). */
static user_count *user_counts_get(user_counts *uc, const char *user, const char *dept, int *ret) {
        user_count key = {.user = (char *) user, .department = (char *) dept};
        size_t at = lower_bound(uc->u, uc->n, sizeof(*uc->u), &key, cmp_user_count);
        if (at < uc->n && cmp_user_count(&key, &uc->u[at]) == 0)
                return &uc->u[at];
        user_count *x = insert_at((void **) &uc->u, &uc->n, &uc->alloc, sizeof(*x), at, ret);
        if (!x)
                return NULL;
        x->user = strdup(user);
        x->department = strdup(dept);
        if (!x->user || !x->department) {
                *ret = -ENOMEM; /* freed with the others */
                return NULL;
        }
        return x;
}

static void user_counts_free(user_counts *uc) {
        for (size_t i = 0; i < uc->n; i++) {
                free(uc->u[i].user);
                free(uc->u[i].department);
        }
        free(uc->u);
}

/* Attachments already counted as blocked: a device judged again (a reload, a register change)
 * is no new attempt until it is detached. */
typedef struct {
        char **keys;
        size_t n, alloc;
} key_set;

static bool key_set_has(key_set *ks, const char *key, size_t *ret_i) {
        for (size_t i = 0; i < ks->n; i++)
                if (strcmp(ks->keys[i], key) == 0) {
                        if (ret_i)
                                *ret_i = i;
                        return true;
                }
        return false;
}

static int key_set_add(key_set *ks, const char *key) {
        if (ks->n == ks->alloc) {
                size_t alloc = ks->alloc ? ks->alloc * 2 : 16;
                char **p = realloc(ks->keys, alloc * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                ks->keys = p;
                ks->alloc = alloc;
        }
        ks->keys[ks->n] = strdup(key);
        if (!ks->keys[ks->n])
                return -ENOMEM;
        ks->n++;
        return 0;
}

static void key_set_remove(key_set *ks, const char *key) {
        size_t i;
        if (!key_set_has(ks, key, &i))
                return;
        free(ks->keys[i]);
        ks->keys[i] = ks->keys[--ks->n];
}

static void key_set_free(key_set *ks) {
        for (size_t i = 0; i < ks->n; i++)
                free(ks->keys[i]);
        free(ks->keys);
}

typedef struct {
        key_set counted;
        user_counts users;
        month_counts months;
        report_section *attempts, *per_user, *per_month;
} blocked_state;

static int blocked_init(tg_report *r) {
        blocked_state *st = calloc(1, sizeof(*st));
        if (!st)
                return -ENOMEM;
        r->state = st;
        st->attempts = report_section_new(r, "attempts", W("Blocked carry-in attempts", "ブロックした持込み"),
                                          blocked_columns, ELEMENTSOF(blocked_columns));
        st->attempts->sort = true;
        st->attempts->host_column = 1;
        st->per_user = report_section_new(r, "per_user", W("Per user", "利用者別"), blocked_user_columns,
                                          ELEMENTSOF(blocked_user_columns));
        st->per_month = report_section_new(r, "per_month", W("Attempts per month", "月別の件数"), month_attempt_columns,
                                           ELEMENTSOF(month_attempt_columns));
        st->per_month->chart_label = 0;
        st->per_month->chart_value = 1;
        return months_init(r, &st->months);
}

static int blocked_add(tg_report *r, const tg_report_record *rec) {
        blocked_state *st = r->state;
        bool attach = strcmp(rec->type, "usb.attach") == 0, detach = strcmp(rec->type, "usb.detach") == 0;
        char key[3 * TG_REPORT_VALUE_MAX];
        const char *device = report_get(rec, "device");
        int k;

        if (!device || (!attach && !detach && strcmp(rec->type, "usb.decision") != 0))
                return 0;
        snprintf(key, sizeof(key), "%.40s/%.40s/%.*s", val_or_empty(rec->host_id), val_or_empty(rec->boot_id),
                 TG_REPORT_VALUE_MAX, device);
        if (attach || detach) {
                key_set_remove(&st->counted, key);
                return 0;
        }
        const char *decision = val_or_empty(report_get(rec, "decision"));
        if ((strcmp(decision, "blocked") != 0 && strcmp(decision, "storage-blocked") != 0) ||
            !tg_usage_decision_is_storage(decision, report_get(rec, "interfaces")) ||
            key_set_has(&st->counted, key, NULL))
                return 0;
        k = key_set_add(&st->counted, key);
        if (k < 0 || !in_period(r, rec->time_usec))
                return k;
        cell_buf c[11];
        const char *cells[] = {
                when(rec->time_usec, c[0]),
                report_escape(rec->host_id, c[1]),
                report_escape(rec->department, c[2]),
                report_value(rec, "user", c[3]),
                report_value(rec, "device", c[4]),
                report_value(rec, "vid", c[5]),
                report_value(rec, "pid", c[6]),
                report_value(rec, "serial", c[7]),
                report_value(rec, "manufacturer", c[8]),
                report_value(rec, "product", c[9]),
                report_escape(decision, c[10]),
        };
        k = report_section_add(st->attempts, rec->time_usec, rec->seq, cells);
        if (k < 0)
                return k;
        user_count *u = user_counts_get(&st->users, cells[3], cells[2], &k);
        if (!u)
                return k;
        u->n[0]++;
        month_count *m = months_find(&st->months, rec->time_usec);
        if (m)
                m->a++;
        return 0;
}

static int blocked_finish(tg_report *r) {
        blocked_state *st = r->state;
        int k = 0;
        for (size_t i = 0; i < st->users.n && k == 0; i++) {
                cell_buf c;
                const char *cells[] = {st->users.u[i].user, st->users.u[i].department, num(st->users.u[i].n[0], c)};
                k = report_section_add(st->per_user, 0, 0, cells);
        }
        for (size_t i = 0; i < st->months.n && k == 0; i++) {
                cell_buf c;
                const char *cells[] = {st->months.m[i].month, num(st->months.m[i].a, c)};
                k = report_section_add(st->per_month, 0, 0, cells);
        }
        return k;
}

static void blocked_free(tg_report *r) {
        blocked_state *st = r->state;
        if (!st)
                return;
        key_set_free(&st->counted);
        user_counts_free(&st->users);
        free(st->months.m);
        free(st);
}

/* ---- MFA failures and lockouts ---- */

static const report_column mfa_columns[] = {
        COL("time", "Time", "日時"),
        COL("host_id", "Terminal", "端末"),
        COL("terminal_department", "Terminal dept.", "端末の部署"),
        COL("event", "Event", "事象"),
        COL("user", "User", "利用者"),
        COL("service", "Service", "サービス"),
        COL("rhost", "Remote host", "接続元"),
        COL("tty", "TTY", "端末回線"),
        COL("detail", "Detail", "詳細"),
};

static const report_column mfa_user_columns[] = {
        COL("user", "User", "利用者"),
        COL("terminal_department", "Terminal dept.", "端末の部署"),
        NUM("failures", "Failures", "失敗"),
        NUM("lockouts", "Lockouts", "ロック"),
        NUM("refused_locked", "Refused while locked", "ロック中の拒否"),
};

static const char *const mfa_events[] = {"mfa.failure", "mfa.lockout", "mfa.refused-locked"};

typedef struct {
        user_counts users;
        report_section *events, *per_user;
} mfa_state;

static int mfa_init(tg_report *r) {
        mfa_state *st = calloc(1, sizeof(*st));
        if (!st)
                return -ENOMEM;
        r->state = st;
        st->events = report_section_new(r, "events", W("MFA failures and lockouts", "多要素認証の失敗とロック"),
                                        mfa_columns, ELEMENTSOF(mfa_columns));
        st->events->sort = true;
        st->events->host_column = 1;
        st->per_user = report_section_new(r, "per_user", W("Per user", "利用者別"), mfa_user_columns,
                                          ELEMENTSOF(mfa_user_columns));
        return 0;
}

static int mfa_add(tg_report *r, const tg_report_record *rec) {
        mfa_state *st = r->state;
        size_t which = ELEMENTSOF(mfa_events);
        int k;
        for (size_t i = 0; i < ELEMENTSOF(mfa_events); i++)
                if (strcmp(rec->type, mfa_events[i]) == 0)
                        which = i;
        if (which == ELEMENTSOF(mfa_events) || !in_period(r, rec->time_usec))
                return 0;
        cell_buf c[9];
        const char *cells[] = {
                when(rec->time_usec, c[0]),           report_escape(rec->host_id, c[1]),
                report_escape(rec->department, c[2]), report_escape(rec->type, c[3]),
                report_value(rec, "user", c[4]),      report_value(rec, "service", c[5]),
                report_value(rec, "rhost", c[6]),     report_value(rec, "tty", c[7]),
                report_value(rec, "detail", c[8]),
        };
        k = report_section_add(st->events, rec->time_usec, rec->seq, cells);
        if (k < 0)
                return k;
        user_count *u = user_counts_get(&st->users, cells[4], cells[2], &k);
        if (!u)
                return k;
        u->n[which]++;
        return 0;
}

static int mfa_finish(tg_report *r) {
        mfa_state *st = r->state;
        int k = 0;
        for (size_t i = 0; i < st->users.n && k == 0; i++) {
                const user_count *u = &st->users.u[i];
                cell_buf c[3];
                const char *cells[] = {u->user, u->department, num(u->n[0], c[0]), num(u->n[1], c[1]),
                                       num(u->n[2], c[2])};
                k = report_section_add(st->per_user, 0, 0, cells);
        }
        return k;
}

static void mfa_free(tg_report *r) {
        mfa_state *st = r->state;
        if (!st)
                return;
        user_counts_free(&st->users);
        free(st);
}

/* ---- host health ---- */

static const report_column host_columns[] = {
        COL("host_id", "Terminal", "端末"),
        COL("hostname", "Host name", "ホスト名"),
        COL("terminal_department", "Terminal dept.", "端末の部署"),
        COL("status", "Status", "状態"),
        NUM("records", "Records", "記録数"),
        NUM("last_seq", "Last seq", "最終番号"),
        COL("last_seen", "Last record", "最終記録"),
        COL("last_checkpoint", "Last checkpoint", "最終チェックポイント"),
        NUM("gaps", "Gaps", "欠番箇所"),
        NUM("missing", "Missing records", "欠落件数"),
        COL("first_bad_seq", "First bad seq", "最初の不正番号"),
        COL("detail", "Detail", "詳細"),
};

typedef struct {
        report_section *hosts;
        uint64_t n;
} hosts_state;

static int hosts_init(tg_report *r) {
        hosts_state *st = calloc(1, sizeof(*st));
        if (!st)
                return -ENOMEM;
        r->state = st;
        st->hosts = report_section_new(r, "hosts", W("Terminals", "端末"), host_columns, ELEMENTSOF(host_columns));
        st->hosts->sort = true;
        st->hosts->host_column = 0;
        return 0;
}

static int hosts_add(tg_report *r, const tg_report_host *h) {
        hosts_state *st = r->state;
        char status[128] = "";
        cell_buf c[12];
        static const char *const names[] = {"tampered", "gapped", "silent", "clock-unsynchronised", "revoked"};
        bool flags[] = {h->tampered, h->gaps > 0, h->silent, h->clock_unsynchronised, h->revoked};

        if (st->n >= TG_REPORT_HOSTS_MAX)
                return -E2BIG;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (flags[i])
                        snprintf(status + strlen(status), sizeof(status) - strlen(status), "%s%s", *status ? " " : "",
                                 names[i]);
        if (!*status)
                snprintf(status, sizeof(status), "ok");
        if (h->tampered)
                num(h->first_bad_seq, c[10]);
        else
                c[10][0] = 0;
        const char *cells[] = {
                report_escape(h->host_id, c[0]),
                report_escape(h->hostname, c[1]),
                report_escape(h->department, c[2]),
                status,
                num(h->records, c[4]),
                num(h->last_seq, c[5]),
                when(h->last_seen_usec, c[6]),
                when(h->last_checkpoint_usec, c[7]),
                num(h->gaps, c[8]),
                num(h->missing, c[9]),
                c[10],
                report_escape(h->detail, c[11]),
        };
        st->n++;
        return report_section_add(st->hosts, 0, 0, cells);
}

static void hosts_free(tg_report *r) {
        free(r->state);
}

#define TERMINAL_DEPT W("the terminal's department, set at its enrolment", "端末の部署（端末の登録時に設定したもの）")

static const report_kind_ops usage_ops = {
        .title = W("Usage register of removable media", "外部記録媒体 使用簿"),
        .grouping =
                W("the medium's department in the media register when it was used (empty: not registered "
                  "then); the terminal's department as set at its enrolment is shown beside it",
                  "媒体の部署は使用時点の管理一覧表（媒体の登録）による（空欄はその時点で未登録）。端末の部署（端末の"
                  "登録時に設定）も併記"),
        .init = usage_init,
        .add_record = usage_add,
        .finish = usage_finish,
        .free = usage_free,
};

static const report_kind_ops media_ops = {
        .title = W("Media register", "外部記録媒体 管理一覧表"),
        .grouping = W("the medium's department in the media register", "管理一覧表（媒体の登録）の部署"),
        .init = media_init,
        .add_record = media_add,
        .finish = media_finish,
        .free = media_free,
};

static const report_kind_ops exceptions_ops = {
        .title = W("Write exceptions", "書込み例外"),
        .grouping = W("the medium's department in the media register when the exception was granted",
                      "例外付与時点の管理一覧表（媒体の登録）の部署"),
        .init = exceptions_init,
        .add_record = exceptions_add,
        .finish = exceptions_finish,
        .free = exceptions_free,
};

static const report_kind_ops blocked_ops = {
        .title = W("Blocked carry-in attempts", "持込みのブロック"),
        .grouping = TERMINAL_DEPT,
        .init = blocked_init,
        .add_record = blocked_add,
        .finish = blocked_finish,
        .free = blocked_free,
};

static const report_kind_ops mfa_ops = {
        .title = W("MFA failures and lockouts", "多要素認証の失敗とロック"),
        .grouping = TERMINAL_DEPT,
        .init = mfa_init,
        .add_record = mfa_add,
        .finish = mfa_finish,
        .free = mfa_free,
};

static const report_kind_ops hosts_ops = {
        .title = W("Terminal health", "端末の健全性"),
        .grouping = TERMINAL_DEPT,
        .init = hosts_init,
        .add_host = hosts_add,
        .free = hosts_free,
};

const report_kind_ops *const report_kinds[_TG_REPORT_KIND_MAX] = {
        [TG_REPORT_USAGE] = &usage_ops,     [TG_REPORT_MEDIA] = &media_ops, [TG_REPORT_EXCEPTIONS] = &exceptions_ops,
        [TG_REPORT_BLOCKED] = &blocked_ops, [TG_REPORT_MFA] = &mfa_ops,     [TG_REPORT_HOSTS] = &hosts_ops,
};
