/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "termguard/record.h"

/* Structured events (journald, and stderr unless stderr is the journal) and log lines. Safe
 * from worker threads: one record, one line, never interleaved. */

/* Pairs of key and already-escaped value, terminated by NULL. The types are the events table
 * of docs/admin-guide.md. */
void event_emit(const char *type, int priority, const char *message, ...) __attribute__((sentinel));

/* The daemon's one recorder: every record, its own (event_emit) and those handed in by other
 * programs (intake.c), goes here: into the journal, then mirrored to journald (MESSAGE_ID,
 * TERMGUARD_* fields, the sender) and, unless stderr is the journal, as one JSON line on
 * stderr. Returns 0 once the record is kept, or a negative errno: a caller that must not act
 * on an unrecorded decision fails closed. */
int event_record(const tg_record *rec);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A step that cuts storage off (unmount, deauthorize, or queuing the deauthorization) failed
 * with -error: logged with its reason and recorded as storage.cut-off-failed. device and
 * target are sysfs paths or names. */
void event_cut_off_failed(const char *device, const char *target, const char *step, int error, const char *why);
