/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Structured events (journald, and stderr unless stderr is the journal) and log lines. Safe
 * from worker threads: one record, one line, never interleaved. */

/* Pairs of key and already-escaped value, terminated by NULL. The types are the events table
 * of docs/admin-guide.md. */
void event_emit(const char *type, int priority, const char *message, ...) __attribute__((sentinel));
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
