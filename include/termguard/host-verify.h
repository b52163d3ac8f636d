/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "termguard/journal.h"

/* Central verification of one terminal: its records as the central store holds them (one row
 * each: the record's exact bytes and the columns stored beside them), fed in seq order, events
 * and checkpoints together. Built on the journal's own verifier (tg_journal_chain): chain
 * links, every MAC when the host's escrowed seed is given, gaps in seq, truncation against the
 * newest head the host is known to have reached; and on top of it what only the centre can
 * see: columns that no longer say what the raw bytes say, conflicting records sent under one
 * seq, silence (no checkpoint for too long), records stamped by an unsynchronised clock.
 *
 * Everything a row holds is hostile: the database's administrators can write any of it. */

/* Silence: termguardd writes a checkpoint every [Journal] CheckpointInterval (5 minutes by
 * default) and at every stop, and the forwarder ships it within a batch. An hour is twelve
 * checkpoints missed: far past a late batch or a restart of the centre, soon enough that a
 * terminal unplugged from the network in the morning shows the same morning. Terminals
 * switched off for the night are silent too; the finding says since when, and the
 * administrator judges (--silent-after sets it). */
#define TG_HOST_VERIFY_SILENT_AFTER_USEC (60LL * 60 * 1000000)

typedef enum {
        TG_HOST_FINDING_JOURNAL,  /* the chain's finding: .journal says which */
        TG_HOST_FINDING_COLUMNS,  /* a stored column differs from the raw bytes: .column */
        TG_HOST_FINDING_CONFLICT, /* another record was sent under a stored seq */
        TG_HOST_FINDING_SILENT,   /* no checkpoint for longer than silent_after */
        TG_HOST_FINDING_CLOCK,    /* a note: records stamped by an unsynchronised clock */
        _TG_HOST_FINDING_MAX,
} tg_host_finding_kind;

typedef struct {
        tg_host_finding_kind kind;
        tg_journal_problem_kind journal; /* JOURNAL */
        bool note;                       /* says something, but the host is intact */
        uint64_t seq;                    /* the row where it shows; 0: none */
        uint64_t expected;               /* JOURNAL gap, reorder, truncation: the seq expected */
        const char *column;              /* COLUMNS: the first column that differs */
        int64_t since_usec;              /* SILENT: the newest checkpoint, 0: none ever */
} tg_host_finding;

/* A short stable name ("mac", "gap", "columns", "silent"...) and an English sentence. */
const char *tg_host_finding_name(const tg_host_finding *f);
const char *tg_host_finding_text(const tg_host_finding *f);

typedef struct {
        const uint8_t *host_id; /* TG_JOURNAL_ID_SIZE; every record must carry it */
        const uint8_t *seed;    /* the escrowed seed: NULL checks chain links only */
        /* The newest head the host is known to have reached (e.g. its newest heartbeat): the
         * stream ending before it is truncation, another MAC there a rollback. */
        bool have_head;
        uint64_t head_seq;
        uint8_t head_mac[TG_JOURNAL_MAC_SIZE];
        /* The rows start after start_seq (tg_journal_verify_options' start): the centre's
         * retention dropped the records up to it (start_mac: the MAC of the record at
         * start_seq), or they were verified before (start_key: K_start_seq). Rows at or below
         * start_seq are not to be fed. */
        bool have_start;
        uint64_t start_seq;
        uint8_t start_mac[TG_JOURNAL_MAC_SIZE];
        const uint8_t *start_key;
        /* The highest seq the centre recorded storing for the host (its hosts row): the rows
         * ending before it is truncation (rows deleted at the end). 0: not checked. */
        uint64_t known_last_seq;
        int64_t now_usec;          /* for silence; 0: not checked */
        int64_t silent_after_usec; /* 0: TG_HOST_VERIFY_SILENT_AFTER_USEC */
        int64_t enrolled_usec;     /* a host without any checkpoint is silent from then */
        /* The newest heartbeat's arrival as the centre recorded it; 0: the newest checkpoint
         * record's own time (the host's clock) is used. */
        int64_t last_heartbeat_usec;
        /* Called for each finding in seq order, silence last; may be NULL. */
        void (*report)(const tg_host_finding *f, void *userdata);
        void *userdata;
} tg_host_verify_options;

/* One row as stored. Strings are NUL-terminated as read from the database. */
typedef struct {
        uint64_t seq;
        const uint8_t *boot_id; /* TG_JOURNAL_ID_SIZE */
        int64_t time_usec;
        int clock, priority;
        int64_t uid, pid;
        const char *type, *comm, *unit; /* comm, unit: "" or NULL when none */
        const char *fields_json;        /* [["key","value"],...] in record order */
        const uint8_t *prev_mac, *mac;  /* TG_JOURNAL_MAC_SIZE */
        const void *raw;
        size_t raw_len;
} tg_host_row;

typedef struct {
        uint64_t records; /* rows fed */
        uint64_t first_seq, last_seq;
        int64_t last_seen_usec;       /* time of the newest record */
        int64_t last_checkpoint_usec; /* see last_heartbeat_usec; 0: none */
        uint64_t problems;            /* findings that are not notes */
        uint64_t notes;
        bool macs_checked;
        /* MAC, corrupt, reorder, rollback, host, columns, conflict; a broken link too, but not
         * the one right after missing records (that is the gap's) */
        bool tampered;
        uint64_t first_bad_seq;
        uint64_t gaps, missing; /* gaps in seq (truncation and lost records included), seqs in them */
        uint64_t conflicts;
        bool silent;
        uint64_t clock_unsynchronised; /* records stamped so */
        tg_host_finding first;         /* the first problem, valid if problems > 0 */
} tg_host_verify_result;

typedef struct tg_host_verify tg_host_verify;

int tg_host_verify_new(const tg_host_verify_options *opt, tg_host_verify **ret);
void tg_host_verify_free(tg_host_verify *v);
/* Feeds the next row. Returns 1 with the decoded record in *ret_rec (may be NULL; valid until
 * the next call), 0 when the raw bytes are no record (reported), -EINVAL. */
int tg_host_verify_feed(tg_host_verify *v, const tg_host_row *row, const tg_journal_record **ret_rec);
/* A conflicting record the centre kept under seq (its conflicts table). */
void tg_host_verify_conflict(tg_host_verify *v, uint64_t seq);
/* Ends the host: truncation, silence; the result. */
void tg_host_verify_end(tg_host_verify *v, tg_host_verify_result *ret);
/* After tg_host_verify_end: where the host's verified chain stands (tg_journal_chain_state),
 * for the next verification to start there. False when a finding other than silence was made
 * or the state is not known (no seed). */
bool tg_host_verify_state(const tg_host_verify *v, uint64_t *ret_seq, uint8_t ret_mac[TG_JOURNAL_MAC_SIZE],
                          uint8_t ret_key[TG_JOURNAL_MAC_SIZE]);
