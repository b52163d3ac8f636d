/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The usage register (使用簿) of removable storage: one row per use of a medium (attach to
 * detach), with who, what was decided and how many files were written, and totals per medium
 * and per user. Built from journal records in journal order, whether they come from the local
 * journal or the central store. The records it reads (docs/journal-format.md lists the
 * fields): usb.attach, usb.decision, usb.detach (device, vid, pid, serial, label, user,
 * decision, exception, interfaces) and media.file-written records naming the device. The
 * audit reports (termguard/report.h) build their usage register on it. */

#define TG_USAGE_TEXT_MAX 128 /* longer values are cut (they are for display) */
#define TG_USAGE_USES_MAX 1000000

typedef struct {
        char medium[TG_USAGE_TEXT_MAX]; /* the label, or "VID:PID SERIAL" of an unregistered one */
        char label[TG_USAGE_TEXT_MAX];
        char vid[8], pid[8];
        char serial[TG_USAGE_TEXT_MAX];
        char user[TG_USAGE_TEXT_MAX];       /* the seat user at the decision ("" nobody) */
        char decision[24];                  /* read-only, read-write, storage-blocked, blocked, partial */
        char exception[TG_USAGE_TEXT_MAX];  /* the write exception that admitted it, "" none */
        char host_id[40];                   /* the terminal, "" unknown */
        char department[TG_USAGE_TEXT_MAX]; /* the terminal's, set at enrolment; "" unknown */
        int64_t attached_usec;              /* UTC */
        int64_t detached_usec;              /* 0: still attached at the end of the records */
        uint64_t files_written;
        /* internal: the device while attached */
        char boot_device[3 * TG_USAGE_TEXT_MAX];
        bool open, storage;
} tg_usage_use;

typedef struct {
        char key[TG_USAGE_TEXT_MAX]; /* medium or user */
        uint64_t uses, blocked, files_written;
        int64_t first_usec, last_usec;
} tg_usage_total;

typedef struct {
        int64_t from_usec, to_usec; /* the period, [from, to) */
        tg_usage_use *uses;
        size_t n_uses, alloc;
        size_t *open; /* indexes of the open uses: few, however many uses there were */
        size_t n_open, open_alloc;
} tg_usage_report;

/* One record, as the journal reader gives it. */
typedef struct {
        int64_t time_usec;
        const char *host_id;    /* text, NULL for the local journal: device names are per host */
        const char *department; /* the terminal's; NULL unknown */
        const char *boot_id;    /* text, to tell device names of different boots apart */
        const char *type;
        const char *const *keys;
        const char *const *values;
        size_t n_fields;
} tg_usage_record;

void tg_usage_report_init(tg_usage_report *r, int64_t from_usec, int64_t to_usec);
void tg_usage_report_clear(tg_usage_report *r);
/* Feeds one record; records at or after the period's end are ignored. -E2BIG past
 * TG_USAGE_USES_MAX uses, -ENOMEM. */
int tg_usage_report_add(tg_usage_report *r, const tg_usage_record *rec);
/* Drops the uses that are not of storage or lie outside the period; call once after the
 * last record. */
void tg_usage_report_finish(tg_usage_report *r);
/* Whether a decision concerns storage: read-only, read-write, storage-blocked, partial, or
 * any other (blocked) when the device has a storage or still-image (MTP/PTP) interface. */
bool tg_usage_decision_is_storage(const char *decision, const char *interfaces);
/* Totals per medium (by_user false) or per user, sorted by key; *ret malloc'ed. */
int tg_usage_report_totals(const tg_usage_report *r, bool by_user, tg_usage_total **ret, size_t *ret_n);
