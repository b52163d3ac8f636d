/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "daemon.h"
#include "termguard/notice.h"

/* Notices for the staff member, shown by the session helper of the session they concern
 * (termguard-session, control command session-notify). A helper's connection is kept open and
 * written without ever waiting: each helper has a small queue, and when it is full the oldest
 * notice gives way (the next one the helper reads says how many it missed). Nothing that
 * happens to a helper holds up a decision, a lock or the event loop. */

/* How many notices wait for one helper that does not read. */
#define NOTIFY_QUEUE_MAX 8
/* Helpers followed at once (one per session; a new one of a session replaces the old) and
 * subscriptions waiting for logind's answer. */
#define NOTIFY_HELPERS_MAX 256
#define NOTIFY_PENDING_MAX 16
/* Any local user can ask: one user's requests may not take every place that waits. */
#define NOTIFY_PENDING_PER_USER_MAX 4

/* Takes fd, a control connection whose session-notify request for session came from uid and
 * pid and whose uid owns the session (the caller checked). logind is asked which session pid
 * is in; the ok reply (then notices) or an error reply goes to fd once it answers. fd is the
 * module's either way (closed on failure). notify_only: the helper said it measures no idle
 * time (Wayland). */
int notify_adopt(Manager *m, int fd, const char *session, uid_t uid, pid_t pid, bool notify_only);

/* Is the helper taking the notices of session one that measures no idle time? While it is,
 * the session's idle reports are not believed (idle-lock.c). */
bool notify_session_notify_only(Manager *m, const char *session);

/* Queues n for the helper of session, if one of uid is subscribed; never waits. Returns true
 * when a helper took it (queued or written; whether the desktop shows it is the helper's). */
bool notify_session(Manager *m, const char *session, uid_t uid, const tg_notice *n);

/* The session ended: its helper's connection is closed. */
void notify_session_ended(Manager *m, const char *session);

void notify_stop(Manager *m);
/* Helpers subscribed and confirmed (for status and tests). */
unsigned notify_helpers(Manager *m);
