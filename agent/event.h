/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Structured events (journald, and stderr unless stderr is the journal) and log lines. Safe
 * from worker threads: one record, one line, never interleaved. */

/* Pairs of key and already-escaped value, terminated by NULL. The types are the events table
 * of docs/admin-guide.md. */
void event_emit(const char *type, int priority, const char *message, ...) __attribute__((sentinel));
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A step that cuts storage off (unmount, deauthorize, or queuing the deauthorization) failed
 * with -error: logged with its reason and recorded as storage.cut-off-failed. device and
 * target are sysfs paths or names. */
void event_cut_off_failed(const char *device, const char *target, const char *step, int error, const char *why);
