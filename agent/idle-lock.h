/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "daemon.h"
#include "logind.h"
#include "termguard/idle.h"

/* The idle lock: locks logind sessions left idle for the policy's time, confirms the lock
 * through LockedHint and logs off what cannot be locked. One timer at the earliest deadline
 * of all sessions (lib/idle.c says which). */

/* The idle lock's event types, in one place (docs/admin-guide.md, events). */
#define IDLE_EV_ATTACHED "idle.attached"
#define IDLE_EV_UNAVAILABLE "idle.unavailable"
#define IDLE_EV_WARNING "idle.warning"
#define IDLE_EV_LOCK_REQUESTED "idle.lock-requested"
#define IDLE_EV_LOCK_CONFIRMED "idle.lock-confirmed"
#define IDLE_EV_LOCK_FAILED "idle.lock-failed"
#define IDLE_EV_LOGOFF_CANCELLED "idle.logoff-cancelled"
#define IDLE_EV_LOGGED_OFF "idle.logged-off"
#define IDLE_EV_LOGOFF_FAILED "idle.logoff-failed"
#define IDLE_EV_SUSPEND_LOCK "idle.suspend-lock"
#define IDLE_EV_TOKEN_LOCK "idle.token-lock"
#define IDLE_EV_CARD_LOCK "idle.card-lock"
#define IDLE_EV_HELPER_REFUSED "idle.helper-refused"
#define IDLE_EV_HELPER_GONE "idle.helper-gone"

#define IDLE_SESSIONS_MAX 256

/* Why a lock was asked for: the lock-requested record's "reason". */
#define IDLE_REASON_IDLE "idle"
#define IDLE_REASON_ADMIN "admin"
#define IDLE_REASON_SUSPEND "suspend"
#define IDLE_REASON_TOKEN "token-removed"
#define IDLE_REASON_CARD "card-removed"

typedef struct IdleSession {
        LogindSession info;
        tg_idle_session st;
        bool privileged;
        bool refreshing;            /* a console session's input time is being read again */
        uint64_t refreshed_at;      /* when it was last read */
        bool helper_gone;           /* idle.helper-gone recorded since the last report */
        uint64_t helper_refused_at; /* the last idle.helper-refused record for the session */
        uid_t helper_refused_uid;   /* and whose report it refused */
        struct IdleSession *next;
} IdleSession;

int idle_lock_start(Manager *m);
void idle_lock_stop(Manager *m);
/* After a reload: the policy of every session again, then the deadlines. */
void idle_lock_apply(Manager *m);

/* The sessions followed (user sessions only), NULL-terminated list. */
const IdleSession *idle_lock_sessions(Manager *m);
LogindState idle_lock_state(Manager *m);
/* The session's lock deadline under the policy (µs, 0: none). */
uint64_t idle_lock_deadline(Manager *m, const IdleSession *s);

/* Locks session id, or every user session when id is NULL, for an administrator (actor).
 * Returns the number of sessions asked to lock, -ENOENT when id is not a followed session,
 * -ENOTCONN when logind is not attached. */
int idle_lock_request(Manager *m, const char *id, const char *actor);

/* A session helper (termguard-session, control command session-idle) reports idle_ms of input
 * idle time for session, from the peer uid and pid (SO_PEERCRED). The session must be a
 * followed user session of uid; then logind is asked which session pid is in, and the report
 * counts only if it is this one (idle.helper-refused otherwise). ret_interval: how often the
 * helper is to report (µs). -EPERM when uid does not own the session (recorded), -EOPNOTSUPP
 * when the session's idle time is not the helper's to measure (a Wayland session, or its
 * helper took notices as notify-only; recorded), -ENOENT when the session is not followed,
 * -ENOTCONN when logind is not attached, -EBUSY when too many reports wait for logind. */
int idle_lock_helper_report(Manager *m, const char *session, uint64_t idle_ms, uid_t uid, pid_t pid,
                            uint64_t *ret_interval);

/* The checks of idle_lock_helper_report() that need no answer from logind: -ENOTCONN, -ENOENT,
 * -EPERM (recorded) as there; 0 when uid owns the followed session. Which session pid is in
 * is the caller's to ask (logind_session_of_pid). */
int idle_lock_helper_check(Manager *m, const char *session, uid_t uid, pid_t pid);

/* The active local session on seat ("seat0"), the one a USB device plugged in now is for;
 * NULL when none is followed (or logind is not attached). */
const IdleSession *idle_lock_active_session(Manager *m, const char *seat);

/* A USB device left: if it is a registered token with an owner (m->tokens), every session of
 * the owner is locked at once (idle.token-lock). serial: as the device claimed it. */
void idle_lock_token_removed(Manager *m, uint16_t vid, uint16_t pid, const char *serial, const char *device);
