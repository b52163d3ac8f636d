/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include "termguard/journal.h"
#include "termguard/record.h"

/* Structured events (journald, and stderr unless stderr is the journal) and log lines. Safe
 * from worker threads: one record, one line, never interleaved. */

/* Pairs of key and already-escaped value, terminated by NULL; type and keys are the event
 * catalogue's (lib/event-catalogue.c). Returns event_record()'s result: a caller about to act
 * on a decision checks it (the record is durable first, or the decision does not take effect). */
int event_emit(const char *type, int priority, const char *message, ...) __attribute__((sentinel));

/* The daemon's one recorder: every record, its own (event_emit) and those handed in by other
 * programs (intake.c), goes here: into the journal, then mirrored to journald (MESSAGE_ID,
 * TERMGUARD_* fields, the sender) and, unless stderr is the journal, as one JSON line on
 * stderr. Returns 0 once the record is kept, or a negative errno: a caller that must not act
 * on an unrecorded decision fails closed. */
int event_record(const tg_record *rec);

/* The audit journal in STATE_DIR/journal (created by "termguardctl journal init"). Never
 * created: event_record() fails (-ENOKEY) for every record, which is still mirrored to
 * journald: storage decisions fail closed, root producers spool (said at every start and
 * reload as journal.unwritable, and shown in status). Not writable: the same (-EIO). Full:
 * event_record() fails for everything but the reserve's records (mfa.*, journal.*, clock.*),
 * recorded once as journal.full. */
typedef enum {
        EVENT_JOURNAL_OK,
        EVENT_JOURNAL_NEAR_CAP,
        EVENT_JOURNAL_FULL,
        EVENT_JOURNAL_UNWRITABLE,
        EVENT_JOURNAL_NOT_INITIALISED,
} event_journal_state;

typedef struct {
        event_journal_state state;
        uint64_t used_bytes, max_bytes, next_seq;
        uint64_t forwarded_seq; /* every record up to it is in the central store; 0: none */
} event_journal_info;

/* Opens the journal; when it is open already, nothing (a reload opens one that was created
 * since: "termguardctl journal init", then "systemctl reload termguardd"). auditor_group
 * ([Journal] AuditorGroup=) may read the records; "" or a group that does not exist: root
 * only (logged). */
int event_journal_open(const char *state_dir, uint64_t max_bytes, const char *auditor_group);
#define EVENT_JOURNAL_NOT_INITIALISED_REASON "the audit journal was never created (termguardctl journal init)"
/* Why event_record() failed, in words for a decision's reason. */
const char *event_journal_unusable_reason(void);
/* The forwarder committed every record up to seq centrally: the mark that retention keeps
 * records for. Never moves back. -ERANGE past the last record, -ENOKEY without a journal.
 * The mark and the next seq after the call in ret_*. */
int event_journal_mark_forwarded(uint64_t seq, uint64_t *ret_forwarded, uint64_t *ret_next);
/* One bounded step of retention (retention.c): closed segments whose records are all
 * forwarded go when older than max_age_usec (< 0: never by age) and, while the journal is near
 * its cap, oldest first whatever their age until it is well below it; at most max_segments.
 * The journal.pruned record is mirrored to journald; room made at the cap lets storage
 * decisions be recorded again. -ENOKEY without a journal; *ret is filled also on an error. */
int event_journal_prune(int64_t max_age_usec, unsigned max_segments, tg_journal_prune_result *ret);
/* An eventfd that becomes readable when the journal comes near its cap or to it; -EBADF
 * before event_journal_open(). */
int event_journal_pressure_fd(void);
/* The oldest record kept: its seq and when its segment was started (µs). -ENOKEY without a
 * journal. */
int event_journal_oldest(uint64_t *ret_seq, int64_t *ret_usec);
/* A journal.checkpoint (durable), mirrored to journald with the chain head to keep off the
 * host. */
int event_journal_checkpoint(void);
void event_journal_close(void);
void event_journal_status(event_journal_info *ret);
const char *event_journal_state_to_string(event_journal_state s);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A step that cuts storage off (unmount, deauthorize, or queuing the deauthorization) failed
 * with -error: logged with its reason and recorded as storage.cut-off-failed. device and
 * target are sysfs paths or names. */
void event_cut_off_failed(const char *device, const char *target, const char *step, int error, const char *why);
