/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon.h"

/* The system bus and logind: connects once the bus is there (termguardd starts before D-Bus at
 * boot, and D-Bus may restart), follows logind's sessions and asks logind to lock and to
 * terminate them. Everything is asynchronous: a slow logind never holds up the event loop. */

#define LOGIND_ID_MAX 64
#define LOGIND_PATH_MAX 192

/* A session as logind describes it. Strings are escaped (tg_escape) and bounded when read. */
typedef struct {
        char id[LOGIND_ID_MAX + 1];
        char path[LOGIND_PATH_MAX + 1];
        uid_t uid;
        char user[TG_USER_MAX * 4 + 8];
        char class_[64];
        char type[64];
        char seat[64];
        char tty[64];
        bool remote;
        bool active; /* the seat's foreground session */
        bool idle_hint;
        uint64_t idle_since; /* IdleSinceHint, µs CLOCK_REALTIME */
        bool locked_hint;
} LogindSession;

typedef enum {
        LOGIND_NO_BUS,    /* waiting for the system bus */
        LOGIND_NO_LOGIND, /* on the bus, waiting for logind */
        LOGIND_ATTACHED,
} LogindState;

typedef struct {
        void (*state_changed)(Manager *m, LogindState state, const char *why);
        /* A session appeared or its properties changed (the whole session, updated). */
        void (*session_changed)(Manager *m, const LogindSession *s);
        void (*session_removed)(Manager *m, const char *id);
        /* Reading a session's properties failed (logind_refresh); session_removed may follow. */
        void (*refresh_failed)(Manager *m, const char *id);
        /* A Lock or Terminate call for session id returned; error is 0 or a negative errno,
         * with logind's error text in why. */
        void (*call_done)(Manager *m, const char *id, const char *method, int error, const char *why);
        /* logind's PrepareForSleep: start true before suspend or hibernate (while termguard's
         * delay inhibitor holds it back), false after resume. */
        void (*prepare_for_sleep)(Manager *m, bool start);
} LogindCallbacks;

int logind_start(Manager *m, const LogindCallbacks *cb);
void logind_stop(Manager *m);
LogindState logind_state(Manager *m);
const char *logind_state_to_string(LogindState s);
/* Reads the session's properties again (session_changed follows). */
int logind_refresh(Manager *m, const char *id, const char *path);
/* Takes logind's delay inhibitor for sleep (asynchronously; again after every resume and
 * reattach) and releases it: sleep goes on once released. */
void logind_inhibit_sleep(Manager *m);
void logind_release_sleep(Manager *m);
bool logind_holds_sleep(Manager *m);
/* Asks logind which session process pid is in (Manager.GetSessionByPID). done gets the
 * session's id, or a negative errno with logind's text in why; userdata is free()d after done,
 * or with the bus when no answer comes. -EBUSY while LOGIND_PID_QUERIES_MAX are on their way
 * (any local user can make the daemon ask); on failure userdata stays the caller's. */
#define LOGIND_PID_QUERIES_MAX 64
typedef void (*LogindPidDone)(Manager *m, void *userdata, int error, const char *why, const char *id);
int logind_session_of_pid(Manager *m, pid_t pid, LogindPidDone done, void *userdata);

/* Calls Session.Lock or Session.Terminate on the session at path (call_done follows). */
int logind_call(Manager *m, const char *id, const char *path, const char *method);
