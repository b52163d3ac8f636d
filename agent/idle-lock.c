/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The idle lock. Follows logind's user sessions (agent/logind.c), keeps one timer at the
 * earliest deadline of them all (lib/idle.c computes each), asks logind to lock a session
 * left idle, waits for LockedHint, and logs off a session that could not be locked after a
 * grace in which the staff member is warned. What it did to each session is kept in the
 * runtime directory, so a restarted daemon keeps the deadlines it had (IdleSinceHint itself
 * is absolute).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "event.h"
#include "idle-lock.h"
#include "logind.h"
#include "notify.h"
#include "pcsc.h"
#include "termguard/account.h"
#include "termguard/escape.h"
#include "termguard/fileio.h"
#include "termguard/json-util.h"
#include "termguard/macro.h"
#include "termguard/timeutil.h"

#define STATE_FILE "idle-lock.json"
#define STATE_FILE_MAX (256 * 1024)
#define GROUPS_MAX 256
/* A console's input time is read again at a deadline unless it was read this recently. */
#define REFRESH_FRESH_USEC (TG_USEC_PER_SEC / 2)

/* Readers whose card is in (or was, until its removal is handled): pcscd follows at most
 * this many readers (PCSC_READERS_MAX), and a reader whose card never leaves takes no more. */
#define CARD_READERS_MAX 16
#define READER_NAME_MAX 512 /* pcsc.c escapes names to at most 120 characters, 4 bytes each */
#define SEAT_ID_MAX 63

/* Where a reader is: the USB device it was found to be when its card went in, since a reader
 * unplugged with its card is gone from the gate's devices when its removal arrives. */
typedef struct {
        char reader[READER_NAME_MAX];
        bool placed; /* false: no single USB device of the gate carries its name's serial */
        uint16_t vid, pid;
        char serial[TG_SERIAL_MAX + 1];
        char device[64];
        char seat[SEAT_ID_MAX + 1];
} CardReader;

/* What termguard did to a session, as saved: restored when logind shows the session again
 * (same id and uid) after a restart. */
typedef struct {
        char id[LOGIND_ID_MAX + 1];
        uid_t uid;
        tg_idle_session st;
} Saved;

typedef struct IdleLock {
        IdleSession *sessions;
        size_t n_sessions;
        sd_event_source *timer;
        Saved *saved;
        size_t n_saved;
        char state_path[PATH_MAX];

        /* Before sleep: the sessions asked to lock, and the time after which sleep goes on
         * whether or not their locks were confirmed. */
        bool sleeping;
        unsigned sleep_asked;
        sd_event_source *sleep_timer;

        bool pcsc_on; /* following IC card readers ([IdleLock] CardReaders=) */
        CardReader readers[CARD_READERS_MAX];
        unsigned next_reader; /* the slot a new reader takes when all are used */
} IdleLock;

static void evaluate(Manager *m);

static uint64_t now_usec(Manager *m) {
        uint64_t t = 0;
        if (sd_event_now(m->event, CLOCK_REALTIME, &t) < 0) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                t = (uint64_t) ts.tv_sec * TG_USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
        }
        return t;
}

static void format_usec(uint64_t t, char *buf, size_t size) {
        if (t == 0) {
                snprintf(buf, size, "%s", "");
                return;
        }
        tg_format_iso8601((int64_t) (t / TG_USEC_PER_SEC), buf, size);
}

static bool is_privileged(Manager *m, const LogindSession *info) {
        _cleanup_free_ char *copy = NULL;
        gid_t groups[GROUPS_MAX];
        int n = GROUPS_MAX;
        tg_account a;
        char *save = NULL;

        if (m->cfg.mfa_everyone)
                return true; /* a My Number terminal: everyone on it */
        if (!m->cfg.idle_privileged_groups[0])
                return false;
        /* A user or group that cannot be looked up gets the shorter time: fail closed. */
        if (tg_account_by_uid(info->uid, &a) < 0 || getgrouplist(a.name, a.gid, groups, &n) < 0)
                return true;
        copy = strdup(m->cfg.idle_privileged_groups);
        if (!copy)
                return true;
        for (char *g = strtok_r(copy, " ", &save); g; g = strtok_r(NULL, " ", &save)) {
                gid_t gid;
                int r = tg_group_gid(g, &gid);
                if (r < 0)
                        return true;
                if (r == 0)
                        continue;
                for (int i = 0; i < n; i++)
                        if (groups[i] == gid)
                                return true;
        }
        return false;
}

static tg_idle_policy policy_of(Manager *m, const IdleSession *s) {
        return (tg_idle_policy){
                .lock_after = (uint64_t) (s->privileged ? m->cfg.idle_privileged_lock_after : m->cfg.idle_lock_after) *
                              TG_USEC_PER_SEC,
                .warn_before = (uint64_t) m->cfg.idle_warn_before * TG_USEC_PER_SEC,
                .confirm_timeout = (uint64_t) m->cfg.idle_confirm_timeout * TG_USEC_PER_SEC,
                .logoff_grace = (uint64_t) m->cfg.idle_logoff_grace * TG_USEC_PER_SEC,
        };
}

uint64_t idle_lock_deadline(Manager *m, const IdleSession *s) {
        tg_idle_policy p = policy_of(m, s);
        return tg_idle_lock_deadline(&s->st, &p);
}

/* ---- saved state ---- */

static json_object *session_state_json(const char *id, uid_t uid, const tg_idle_session *st) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(id));
        json_object_object_add(o, "uid", json_object_new_int64(uid));
        json_object_object_add(o, "phase", json_object_new_string(tg_idle_phase_to_string(st->phase)));
        json_object_object_add(o, "first_seen", json_object_new_int64((int64_t) st->first_seen));
        json_object_object_add(o, "not_before", json_object_new_int64((int64_t) st->not_before));
        json_object_object_add(o, "warned_for", json_object_new_int64((int64_t) st->warned_for));
        json_object_object_add(o, "lock_requested_at", json_object_new_int64((int64_t) st->lock_requested_at));
        json_object_object_add(o, "logoff_at", json_object_new_int64((int64_t) st->logoff_at));
        /* A restarted daemon keeps the deadline of a session whose helper was killed. */
        json_object_object_add(o, "helper_input", json_object_new_int64((int64_t) st->helper_input));
        json_object_object_add(o, "helper_report_at", json_object_new_int64((int64_t) st->helper_report_at));
        return o;
}

/* Saved after every change of a session's phase. A failure is logged: the lock itself goes
 * on, only a restart would count the grace again. */
static void save_state(Manager *m) {
        IdleLock *il = m->idle;
        _cleanup_json_ json_object *root = json_object_new_object();
        json_object *a = json_object_new_array();
        const char *text;
        int r;

        json_object_object_add(root, "sessions", a);
        for (IdleSession *s = il->sessions; s; s = s->next)
                json_object_array_add(a, session_state_json(s->info.id, s->info.uid, &s->st));
        for (size_t i = 0; i < il->n_saved; i++)
                json_object_array_add(a, session_state_json(il->saved[i].id, il->saved[i].uid, &il->saved[i].st));
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
        r = tg_write_file_atomic(AT_FDCWD, il->state_path, text, strlen(text), geteuid(), getegid(), 0600);
        if (r < 0)
                log_msg(LOG_ERR, "Failed to save the idle lock's state to %s: %s", il->state_path, strerror(-r));
}

static int load_entry(json_object *o, Saved *ret) {
        Saved s = {0};
        const char *phase;
        int64_t uid, v[7];
        /* The last two are optional: files written before the session helper existed lack them. */
        static const char *const keys[7] = {"first_seen", "not_before",   "warned_for",      "lock_requested_at",
                                            "logoff_at",  "helper_input", "helper_report_at"};

        if (tg_json_get_string(o, "id", TG_JSON_REQUIRED, s.id, sizeof(s.id), NULL, 0) < 0 ||
            tg_json_get_int64(o, "uid", TG_JSON_REQUIRED, 0, UINT32_MAX - 1, &uid, NULL, 0) < 0 ||
            tg_json_get_string_ref(o, "phase", TG_JSON_REQUIRED, 32, &phase, NULL, 0) < 0 ||
            tg_idle_phase_from_string(phase, &s.st.phase) < 0)
                return -EBADMSG;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (tg_json_get_int64(o, keys[i], i < 5 ? TG_JSON_REQUIRED : TG_JSON_OPTIONAL, 0, INT64_MAX, &v[i],
                                      NULL, 0) < 0)
                        return -EBADMSG;
        s.uid = (uid_t) uid;
        s.st.first_seen = (uint64_t) v[0];
        s.st.not_before = (uint64_t) v[1];
        s.st.warned_for = (uint64_t) v[2];
        s.st.lock_requested_at = (uint64_t) v[3];
        s.st.logoff_at = (uint64_t) v[4];
        s.st.helper_input = (uint64_t) v[5];
        s.st.helper_report_at = (uint64_t) v[6];
        *ret = s;
        return 0;
}

/* A file that cannot be read is reported and ignored: sessions then count from their
 * IdleSinceHint, and a pending logoff is decided again. The array belongs to m->idle
 * (idle_lock_stop() frees it); gcc 12's analyzer loses it once stored there and reports it as
 * leaked. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas" /* gcc without -fanalyzer */
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
static void load_state(Manager *m) {
        IdleLock *il = m->idle;
        char *buf = malloc(STATE_FILE_MAX + 1);
        _cleanup_json_ json_object *root = NULL;
        json_object *a;
        ssize_t n;

        if (!buf)
                return;
        n = tg_read_file(il->state_path, buf, STATE_FILE_MAX + 1);
        if (n < 0) {
                if (n != -ENOENT)
                        log_msg(LOG_WARNING, "Cannot read %s: %s", il->state_path, strerror((int) -n));
                free(buf);
                return;
        }
        buf[n > STATE_FILE_MAX ? STATE_FILE_MAX : n] = '\0';
        root = n > STATE_FILE_MAX ? NULL : json_tokener_parse(buf);
        free(buf);
        if (!root || !json_object_object_get_ex(root, "sessions", &a) || !json_object_is_type(a, json_type_array)) {
                log_msg(LOG_WARNING, "Ignoring %s: not the idle lock's state", il->state_path);
                return;
        }
        size_t len = json_object_array_length(a), n_saved = 0;
        if (len > IDLE_SESSIONS_MAX)
                len = IDLE_SESSIONS_MAX;
        Saved *saved = calloc(len ? len : 1, sizeof(Saved));
        if (!saved)
                return;
        for (size_t i = 0; i < len; i++)
                if (load_entry(json_object_array_get_idx(a, i), &saved[n_saved]) == 0)
                        n_saved++;
                else
                        log_msg(LOG_WARNING, "Ignoring entry %zu of %s: malformed", i, il->state_path);
        free(il->saved); /* replaces what was kept (nothing, at start) */
        il->saved = saved;
        il->n_saved = n_saved;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* Keeps what was done to a session that logind does not show right now (logind gone), at most
 * IDLE_SESSIONS_MAX entries: the oldest goes first. */
static void keep(IdleLock *il, const IdleSession *s) {
        Saved *p;
        if (il->n_saved >= IDLE_SESSIONS_MAX) {
                memmove(il->saved, il->saved + 1, (il->n_saved - 1) * sizeof(Saved));
                il->n_saved--;
        }
        p = realloc(il->saved, (il->n_saved + 1) * sizeof(Saved));
        if (!p)
                return;
        il->saved = p;
        il->saved[il->n_saved] = (Saved){.uid = s->info.uid, .st = s->st};
        snprintf(il->saved[il->n_saved].id, sizeof(il->saved[0].id), "%s", s->info.id);
        il->n_saved++;
}

static bool restore(IdleLock *il, IdleSession *s) {
        for (size_t i = 0; i < il->n_saved; i++)
                if (strcmp(il->saved[i].id, s->info.id) == 0 && il->saved[i].uid == s->info.uid) {
                        s->st = il->saved[i].st;
                        il->saved[i] = il->saved[--il->n_saved];
                        return true;
                }
        return false;
}

/* ---- telling the staff member ---- */

/* A text console or terminal of the session: "tty3", "/dev/tty3", "pts/2", "/dev/pts/2". An X
 * display (":0") or anything else has no console to write to. */
static int console_path(const char *tty, char *buf, size_t size) {
        const char *t = strncmp(tty, "/dev/", 5) == 0 ? tty + 5 : tty;
        const char *digits;

        if (strncmp(t, "tty", 3) == 0)
                digits = t + 3;
        else if (strncmp(t, "pts/", 4) == 0)
                digits = t + 4;
        else
                return -ENOENT;
        if (!*digits || strspn(digits, "0123456789") != strlen(digits) || strlen(digits) > 5)
                return -ENOENT;
        snprintf(buf, size, "/dev/%s", t);
        return 0;
}

/* Writes text to the session's terminal, if it has one. A terminal that is gone or full is
 * not waited for. Returns true when the text was written. */
static bool console_message(const IdleSession *s, const char *text) {
        char path[sizeof(s->info.tty) + 8];
        struct stat st;
        _cleanup_close_ int fd = -EBADF;

        if (console_path(s->info.tty, path, sizeof(path)) < 0)
                return false;
        fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_uid != s->info.uid) {
                log_msg(LOG_INFO, "Session %s: no console message on %s", s->info.id, path);
                return false;
        }
        if (write(fd, text, strlen(text)) < 0) {
                log_msg(LOG_INFO, "Session %s: console message on %s failed: %m", s->info.id, path);
                return false;
        }
        return true;
}

static void local_clock(uint64_t t, char *buf, size_t size) {
        time_t sec = (time_t) (t / TG_USEC_PER_SEC);
        struct tm tm;
        if (!localtime_r(&sec, &tm) || strftime(buf, size, "%H:%M:%S", &tm) == 0)
                snprintf(buf, size, "?");
}

/* ---- records ---- */

static void emit(const char *type, int priority, const char *message, const IdleSession *s, const char *k1,
                 const char *v1, const char *k2, const char *v2) {
        char user[TG_USER_MAX * 4 + 8], tty[256];
        tg_escape_str(s->info.user, user, sizeof(user));
        tg_escape_str(s->info.tty, tty, sizeof(tty));
        event_emit(type, priority, message, "session", s->info.id, "user", user, "seat", s->info.seat, "tty", tty, k1,
                   v1, k2, v2, NULL);
}

/* ---- acting ---- */

static void act(Manager *m, IdleSession *s, tg_idle_action a, uint64_t now) {
        tg_idle_policy p = policy_of(m, s);
        char t1[TG_ISO8601_MAX], clock[16], text[640];
        uint64_t deadline = tg_idle_lock_deadline(&s->st, &p);
        bool on_console, notified;
        tg_notice notice;
        int r;

        switch (a) {
        case TG_IDLE_DO_WARN:
                format_usec(deadline, t1, sizeof(t1));
                emit(IDLE_EV_WARNING, LOG_INFO, "Session idle: it will be locked soon", s, "deadline", t1, NULL, NULL);
                local_clock(deadline, clock, sizeof(clock));
                snprintf(text, sizeof(text),
                         "\r\n*** termguard: 操作がないため、このセッションは %s にロックされます。\r\n"
                         "*** termguard: This session will be locked at %s for inactivity.\r\n",
                         clock, clock);
                console_message(s, text);
                notice = (tg_notice){.kind = TG_NOTICE_IDLE_WARNING};
                notice.seconds =
                        deadline > now ? (int64_t) ((deadline - now + TG_USEC_PER_SEC / 2) / TG_USEC_PER_SEC) : 0;
                if (notice.seconds > TG_NOTICE_SECONDS_MAX)
                        notice.seconds = TG_NOTICE_SECONDS_MAX;
                notify_session(m, s->info.id, s->info.uid, &notice);
                break;
        case TG_IDLE_DO_LOCK:
                format_usec(deadline, t1, sizeof(t1));
                emit(IDLE_EV_LOCK_REQUESTED, LOG_NOTICE, "Idle session: lock requested", s, "reason", IDLE_REASON_IDLE,
                     "deadline", t1);
                r = logind_call(m, s->info.id, s->info.path, "Lock");
                if (r < 0)
                        log_msg(LOG_ERR, "Cannot ask logind to lock session %s: %s", s->info.id, strerror(-r));
                break;
        case TG_IDLE_DO_LOCK_FAILED:
                /* The staff member is told before the record is written, so that the record can
                 * say how: on the session's terminal, through its helper, both or neither. */
                local_clock(now + p.logoff_grace, clock, sizeof(clock));
                snprintf(text, sizeof(text),
                         "\r\n*** termguard: このセッションはロックできません。操作がなければ %s にログオフします。\r\n"
                         "*** termguard: This session cannot be locked. Unless it is used, it will be logged off at "
                         "%s.\r\n",
                         clock, clock);
                on_console = console_message(s, text);
                notice = (tg_notice){.kind = TG_NOTICE_LOGOFF_WARNING};
                notice.seconds = (int64_t) ((p.logoff_grace + TG_USEC_PER_SEC / 2) / TG_USEC_PER_SEC);
                if (notice.seconds > TG_NOTICE_SECONDS_MAX)
                        notice.seconds = TG_NOTICE_SECONDS_MAX;
                notified = notify_session(m, s->info.id, s->info.uid, &notice);
                format_usec(now + p.logoff_grace, t1, sizeof(t1));
                emit(IDLE_EV_LOCK_FAILED, LOG_WARNING, "Session not locked in time: it will be logged off", s,
                     "logoff_at", t1, "warned",
                     on_console && notified ? "console notification"
                     : on_console           ? "console"
                     : notified             ? "notification"
                                            : "none");
                break;
        case TG_IDLE_DO_LOGOFF:
                r = logind_call(m, s->info.id, s->info.path, "Terminate");
                if (r < 0)
                        emit(IDLE_EV_LOGOFF_FAILED, LOG_ERR, "Idle session could not be logged off", s, "error",
                             strerror(-r), NULL, NULL);
                break;
        case TG_IDLE_DO_CANCEL:
                emit(IDLE_EV_LOGOFF_CANCELLED, LOG_NOTICE, "Session used again: logoff called off", s, NULL, NULL, NULL,
                     NULL);
                break;
        case TG_IDLE_DO_NOTHING:
        default: return;
        }
        tg_idle_apply(&s->st, &p, a, now);
}

/* Console sessions: logind signals no input, so the input time is read again when a deadline
 * comes, and the deadline is judged on what it says. */
static bool needs_refresh(const IdleSession *s, tg_idle_action a, uint64_t now) {
        return s->st.idle_since_is_input && (a == TG_IDLE_DO_WARN || a == TG_IDLE_DO_LOCK || a == TG_IDLE_DO_LOGOFF) &&
               s->refreshed_at + REFRESH_FRESH_USEC < now;
}

static int on_timer(sd_event_source *source _unused_, uint64_t usec _unused_, void *userdata) {
        evaluate(userdata);
        return 0;
}

static void arm(Manager *m, uint64_t next) {
        IdleLock *il = m->idle;
        int r;

        if (next == 0) {
                if (il->timer)
                        sd_event_source_set_enabled(il->timer, SD_EVENT_OFF);
                return;
        }
        if (!il->timer) {
                r = sd_event_add_time(m->event, &il->timer, CLOCK_REALTIME, next, 0, on_timer, m);
                if (r < 0) {
                        log_msg(LOG_ERR, "Failed to arm the idle lock's timer: %s", strerror(-r));
                        return;
                }
        } else
                sd_event_source_set_time(il->timer, next);
        sd_event_source_set_enabled(il->timer, SD_EVENT_ONESHOT);
}

/* Is the session's idle time its helper's to measure? Not on Wayland, where an X client sees
 * no input but other X clients': logind's session type says so (the daemon's own knowledge,
 * which no process of the session can change), and so does a helper that took the session's
 * notices as notify-only. There only logind's IdleHint counts; a report is not believed. */
static bool helper_measures_idle(Manager *m, const IdleSession *s) {
        return strcmp(s->info.type, "wayland") != 0 && !notify_session_notify_only(m, s->info.id);
}

/* The session helper of a session without IdleHint stopped reporting (killed, crashed, the X
 * server gone): recorded once. The lock needs nothing more: the deadline stays where the last
 * report put it. A notify-only helper sends no reports: none missing is recorded for it.
 * Returns when to look again (0: never). */
static uint64_t helper_check(Manager *m, IdleSession *s, const tg_idle_policy *p, uint64_t now) {
        uint64_t gone = tg_idle_helper_gone_at(&s->st, p);
        char t[TG_ISO8601_MAX];

        if (!gone || s->helper_gone || s->st.idle_hint || s->st.phase == TG_IDLE_LOGGED_OFF ||
            !helper_measures_idle(m, s))
                return 0;
        if (now < gone)
                return gone;
        s->helper_gone = true;
        format_usec(tg_idle_lock_deadline(&s->st, p), t, sizeof(t));
        emit(IDLE_EV_HELPER_GONE, LOG_WARNING,
             "Session helper stopped reporting: locked at the deadline of its last report", s, "deadline", t, NULL,
             NULL);
        return 0;
}

/* Everything that is due, for every session; then one timer at the earliest next time. */
static void evaluate(Manager *m) {
        IdleLock *il = m->idle;
        uint64_t now = now_usec(m), earliest = 0;
        bool changed = false;

        if (logind_state(m) != LOGIND_ATTACHED) {
                arm(m, 0);
                return;
        }
        for (IdleSession *s = il->sessions; s; s = s->next) {
                tg_idle_policy p = policy_of(m, s);
                uint64_t next = 0;
                for (unsigned guard = 0; guard < 8; guard++) {
                        tg_idle_action a = tg_idle_step(&s->st, &p, now, &next);
                        if (a == TG_IDLE_DO_NOTHING)
                                break;
                        if (needs_refresh(s, a, now)) {
                                if (!s->refreshing && logind_refresh(m, s->info.id, s->info.path) >= 0)
                                        s->refreshing = true;
                                if (s->refreshing) {
                                        next = 0; /* the reply evaluates again */
                                        break;
                                }
                        }
                        act(m, s, a, now);
                        changed = true;
                }
                if (next && (earliest == 0 || next < earliest))
                        earliest = next;
                next = helper_check(m, s, &p, now);
                if (next && (earliest == 0 || next < earliest))
                        earliest = next;
        }
        if (changed)
                save_state(m);
        arm(m, earliest);
}

/* Asks logind to lock s now (an administrator, sleep): recorded with the reason. */
static void lock_now(Manager *m, IdleSession *s, const char *reason, const char *actor, uint64_t now) {
        tg_idle_policy p = policy_of(m, s);
        int r;

        emit(IDLE_EV_LOCK_REQUESTED, LOG_NOTICE,
             strcmp(reason, IDLE_REASON_ADMIN) == 0 ? "Lock requested by an administrator"
                                                    : "Lock requested before sleep",
             s, "reason", reason, actor ? "actor" : NULL, actor);
        r = logind_call(m, s->info.id, s->info.path, "Lock");
        if (r < 0)
                log_msg(LOG_ERR, "Cannot ask logind to lock session %s: %s", s->info.id, strerror(-r));
        tg_idle_apply(&s->st, &p, TG_IDLE_DO_LOCK, now);
}

/* Can s be locked (again)? Not when it is locked, or on its way out. */
static bool lockable(const IdleSession *s) {
        return !s->st.locked_hint && s->st.phase != TG_IDLE_LOGGED_OFF && s->st.phase != TG_IDLE_LOGOFF_PENDING;
}

/* ---- sleep ---- */

/* Sleep goes on: every session asked is locked, or ConfirmTimeout is over. */
static void sleep_release(Manager *m) {
        IdleLock *il = m->idle;
        unsigned locked = 0;
        char asked[16], n_locked[16];

        if (!il->sleeping || !logind_holds_sleep(m))
                return;
        for (IdleSession *s = il->sessions; s; s = s->next)
                if (s->st.locked_hint)
                        locked++;
        snprintf(asked, sizeof(asked), "%u", il->sleep_asked);
        snprintf(n_locked, sizeof(n_locked), "%u", locked);
        event_emit(IDLE_EV_SUSPEND_LOCK, locked == il->n_sessions ? LOG_NOTICE : LOG_WARNING,
                   locked == il->n_sessions ? "Every session locked before sleep"
                                            : "Sleep goes on with sessions not confirmed locked",
                   "asked", asked, "locked", n_locked, NULL);
        il->sleep_timer = sd_event_source_disable_unref(il->sleep_timer);
        logind_release_sleep(m);
}

static bool all_locked(IdleLock *il) {
        for (IdleSession *s = il->sessions; s; s = s->next)
                if (!s->st.locked_hint && s->st.phase != TG_IDLE_LOGGED_OFF)
                        return false;
        return true;
}

static int on_sleep_timeout(sd_event_source *source _unused_, uint64_t usec _unused_, void *userdata) {
        sleep_release(userdata);
        return 0;
}

static void on_prepare_for_sleep(Manager *m, bool start) {
        IdleLock *il = m->idle;
        uint64_t now = now_usec(m);
        int r;

        if (!start) {
                il->sleeping = false;
                il->sleep_timer = sd_event_source_disable_unref(il->sleep_timer);
                logind_inhibit_sleep(m); /* for the next sleep */
                evaluate(m);
                return;
        }
        il->sleeping = true;
        il->sleep_asked = 0;
        for (IdleSession *s = il->sessions; s; s = s->next)
                if (lockable(s)) {
                        lock_now(m, s, IDLE_REASON_SUSPEND, NULL, now);
                        il->sleep_asked++;
                }
        save_state(m);
        evaluate(m); /* the confirmations' deadlines */
        if (all_locked(il)) {
                sleep_release(m);
                return;
        }
        r = sd_event_add_time_relative(m->event, &il->sleep_timer, CLOCK_MONOTONIC,
                                       (uint64_t) m->cfg.idle_confirm_timeout * TG_USEC_PER_SEC, 0, on_sleep_timeout,
                                       m);
        if (r < 0) {
                log_msg(LOG_ERR, "Cannot wait for the locks before sleep: %s", strerror(-r));
                sleep_release(m);
        }
}

/* ---- logind's news ---- */

static IdleSession *find(IdleLock *il, const char *id) {
        for (IdleSession *s = il->sessions; s; s = s->next)
                if (strcmp(s->info.id, id) == 0)
                        return s;
        return NULL;
}

static void drop(Manager *m, const char *id) {
        IdleLock *il = m->idle;
        for (IdleSession **p = &il->sessions; *p; p = &(*p)->next)
                if (strcmp((*p)->info.id, id) == 0) {
                        IdleSession *s = *p;
                        *p = s->next;
                        free(s);
                        il->n_sessions--;
                        return;
                }
}

static void on_state_changed(Manager *m, LogindState state, const char *why) {
        char esc[256];
        tg_escape_str(why ? why : "", esc, sizeof(esc));
        if (state == LOGIND_ATTACHED)
                event_emit(IDLE_EV_ATTACHED, LOG_INFO, "Idle lock attached to logind", NULL);
        else
                event_emit(IDLE_EV_UNAVAILABLE, LOG_WARNING,
                           "Idle lock waiting: no session is locked until logind is reachable", "state",
                           logind_state_to_string(state), "why", esc, NULL);
        if (state != LOGIND_ATTACHED) {
                /* Sessions are read again when logind is back; what was done to them is kept. */
                IdleLock *il = m->idle;
                il->sleeping = false;
                il->sleep_timer = sd_event_source_disable_unref(il->sleep_timer);
                bool any = il->sessions != NULL;
                while (il->sessions) {
                        IdleSession *s = il->sessions;
                        keep(il, s);
                        il->sessions = s->next;
                        free(s);
                }
                il->n_sessions = 0;
                if (any)
                        save_state(m);
        }
        evaluate(m);
}

static void on_session_changed(Manager *m, const LogindSession *info) {
        IdleLock *il = m->idle;
        IdleSession *s = find(il, info->id);
        uint64_t now = now_usec(m);
        bool is_new = false;

        /* Greeters, lock screens and background sessions have no user at the desk. */
        if (strcmp(info->class_, "user") != 0) {
                if (s)
                        drop(m, info->id);
                return;
        }
        if (!s) {
                if (il->n_sessions >= IDLE_SESSIONS_MAX) {
                        log_msg(LOG_ERR, "More than %d sessions: session %s is not followed", IDLE_SESSIONS_MAX,
                                info->id);
                        return;
                }
                s = calloc(1, sizeof(*s));
                if (!s)
                        return;
                s->st.first_seen = now;
                s->next = il->sessions;
                il->sessions = s;
                il->n_sessions++;
                is_new = true;
        }
        s->info = *info;
        s->refreshing = false;
        s->refreshed_at = now;
        if (is_new) {
                s->privileged = is_privileged(m, info);
                if (restore(il, s))
                        log_msg(LOG_INFO, "Session %s: state restored (%s)", info->id,
                                tg_idle_phase_to_string(s->st.phase));
        }
        s->st.idle_hint = info->idle_hint;
        s->st.idle_since = info->idle_since;
        /* logind takes a text console's idle time from its terminal and sends no signal. */
        s->st.idle_since_is_input = strcmp(info->type, "tty") == 0;
        if (s->st.locked_hint != info->locked_hint || is_new) {
                tg_idle_phase before = s->st.phase;
                if (tg_idle_locked_changed(&s->st, info->locked_hint, now) && info->locked_hint &&
                    (before == TG_IDLE_LOCK_REQUESTED || before == TG_IDLE_LOGOFF_PENDING))
                        emit(IDLE_EV_LOCK_CONFIRMED, LOG_NOTICE, "Session locked (confirmed by logind)", s, NULL, NULL,
                             NULL, NULL);
                save_state(m);
        }
        if (il->sleeping && all_locked(il))
                sleep_release(m);
        evaluate(m);
}

/* The session could not be read again: judge it on what is known (a console whose input time
 * cannot be read is locked at its deadline). */
static void on_refresh_failed(Manager *m, const char *id) {
        IdleSession *s = find(m->idle, id);
        if (!s || !s->refreshing)
                return;
        s->refreshing = false;
        s->refreshed_at = now_usec(m);
        evaluate(m);
}

static void on_session_removed(Manager *m, const char *id) {
        IdleLock *il = m->idle;
        notify_session_ended(m, id);
        drop(m, id);
        for (size_t i = 0; i < il->n_saved; i++)
                if (strcmp(il->saved[i].id, id) == 0)
                        il->saved[i--] = il->saved[--il->n_saved];
        save_state(m);
        evaluate(m);
}

static void on_call_done(Manager *m, const char *id, const char *method, int error, const char *why) {
        IdleSession *s = find(m->idle, id);
        char esc[256];

        if (!s)
                return;
        tg_escape_str(why, esc, sizeof(esc));
        if (strcmp(method, "Terminate") == 0) {
                if (error < 0)
                        emit(IDLE_EV_LOGOFF_FAILED, LOG_ERR, "Idle session could not be logged off", s, "error", esc,
                             NULL, NULL);
                else
                        emit(IDLE_EV_LOGGED_OFF, LOG_NOTICE, "Session logged off: it could not be locked", s, NULL,
                             NULL, NULL, NULL);
                return;
        }
        /* Lock refused: no need to wait for a LockedHint that cannot come. */
        if (error < 0 && s->st.phase == TG_IDLE_LOCK_REQUESTED) {
                tg_idle_policy p = policy_of(m, s);
                log_msg(LOG_WARNING, "logind refused to lock session %s: %s", id, esc);
                s->st.lock_requested_at =
                        p.confirm_timeout < s->st.lock_requested_at ? s->st.lock_requested_at - p.confirm_timeout : 0;
                evaluate(m);
        }
}

static const LogindCallbacks callbacks = {
        .state_changed = on_state_changed,
        .session_changed = on_session_changed,
        .session_removed = on_session_removed,
        .refresh_failed = on_refresh_failed,
        .call_done = on_call_done,
        .prepare_for_sleep = on_prepare_for_sleep,
};

/* ---- the session helper ---- */

/* Longer than the helper's retry (TG_IDLE_REPORT_RETRY_USEC): a refused helper that keeps
 * trying makes one record a minute. */
#define HELPER_REFUSED_RECORD_INTERVAL_USEC (60 * TG_USEC_PER_SEC)

#define WHY_NOT_MEASURED "the session's idle time is logind's, not its helper's (Wayland or a notify-only helper)"

/* A report on its way through logind: who sent it, and what it said. */
typedef struct {
        char session[LOGIND_ID_MAX + 1];
        uid_t uid;
        pid_t pid;
        uint64_t start_time; /* the peer's start time: the pid was not reused meanwhile */
        uint64_t idle_ms;
        uint64_t at; /* when the report came */
} HelperReport;

/* Refused reports are recorded at most once per session, sender uid and interval: any local
 * user can send them, and they must not push other records past the journal's rate limit. */
static void helper_refused(Manager *m, IdleSession *s, uid_t uid, pid_t pid, const char *why) {
        uint64_t now = now_usec(m);
        char u[16], p[16], esc[256];

        if (s->helper_refused_at && s->helper_refused_uid == uid &&
            now - s->helper_refused_at < HELPER_REFUSED_RECORD_INTERVAL_USEC) {
                log_msg(LOG_INFO, "Session %s: another idle report refused (%s)", s->info.id, why);
                return;
        }
        s->helper_refused_at = now;
        s->helper_refused_uid = uid;
        snprintf(u, sizeof(u), "%u", (unsigned) uid);
        snprintf(p, sizeof(p), "%d", (int) pid);
        tg_escape_str(why, esc, sizeof(esc));
        event_emit(IDLE_EV_HELPER_REFUSED, LOG_WARNING,
                   strcmp(why, WHY_NOT_MEASURED) == 0 ? "Idle report refused: the session's idle time is logind's"
                                                      : "Idle report refused: not from the session it names",
                   "session", s->info.id, "uid", u, "process_id", p, "why", esc, NULL);
}

static void on_helper_pid(Manager *m, void *userdata, int error, const char *why, const char *id) {
        HelperReport *rep = userdata;
        IdleSession *s = m->idle ? find(m->idle, rep->session) : NULL;
        uint64_t start = 0;
        char text[128];

        if (!s || s->info.uid != rep->uid)
                return; /* the session ended meanwhile */
        if (error < 0) {
                snprintf(text, sizeof(text), "logind: %s", why);
                helper_refused(m, s, rep->uid, rep->pid, text);
                return;
        }
        if (strcmp(id, rep->session) != 0) {
                snprintf(text, sizeof(text), "the process is in session %s", id);
                helper_refused(m, s, rep->uid, rep->pid, text);
                return;
        }
        if (tg_proc_start_time(rep->pid, &start) < 0 || start != rep->start_time) {
                helper_refused(m, s, rep->uid, rep->pid, "the process ended before logind answered");
                return;
        }
        if (!helper_measures_idle(m, s)) { /* a notify-only helper came meanwhile */
                helper_refused(m, s, rep->uid, rep->pid, WHY_NOT_MEASURED);
                return;
        }
        tg_idle_helper_report(&s->st, rep->idle_ms, rep->at);
        s->helper_gone = false;
        log_msg(LOG_DEBUG, "Session %s: the helper reports %" PRIu64 " ms idle", s->info.id, rep->idle_ms);
        save_state(m);
        evaluate(m);
}

int idle_lock_helper_check(Manager *m, const char *session, uid_t uid, pid_t pid) {
        IdleSession *s;

        if (!m->idle || logind_state(m) != LOGIND_ATTACHED)
                return -ENOTCONN;
        s = find(m->idle, session);
        if (!s)
                return -ENOENT;
        if (s->info.uid != uid) {
                helper_refused(m, s, uid, pid, "the session belongs to another user");
                return -EPERM;
        }
        return 0;
}

const IdleSession *idle_lock_active_session(Manager *m, const char *seat) {
        if (!m->idle || logind_state(m) != LOGIND_ATTACHED)
                return NULL;
        for (const IdleSession *s = m->idle->sessions; s; s = s->next)
                if (s->info.active && !s->info.remote && strcmp(s->info.seat, seat) == 0)
                        return s;
        return NULL;
}

int idle_lock_helper_report(Manager *m, const char *session, uint64_t idle_ms, uid_t uid, pid_t pid,
                            uint64_t *ret_interval) {
        IdleLock *il = m->idle;
        IdleSession *s;
        HelperReport *rep;
        tg_idle_policy p;
        int r;

        r = idle_lock_helper_check(m, session, uid, pid);
        if (r < 0)
                return r;
        s = find(il, session);
        if (!helper_measures_idle(m, s)) {
                helper_refused(m, s, uid, pid, WHY_NOT_MEASURED);
                return -EOPNOTSUPP;
        }
        rep = calloc(1, sizeof(*rep));
        if (!rep)
                return -ENOMEM;
        *rep = (HelperReport){.uid = uid, .pid = pid, .idle_ms = idle_ms, .at = now_usec(m)};
        snprintf(rep->session, sizeof(rep->session), "%s", session);
        r = tg_proc_start_time(pid, &rep->start_time);
        if (r >= 0)
                r = logind_session_of_pid(m, pid, on_helper_pid, rep);
        if (r < 0) {
                free(rep);
                return r;
        }
        p = policy_of(m, s);
        *ret_interval = tg_idle_report_interval(&p);
        return 0;
}

/* ---- IC cards ---- */

static bool has_smartcard_interface(const Device *d) {
        for (size_t i = 0; d->descriptors_ok && i < d->desc.n_interfaces; i++)
                if (d->desc.interfaces[i].cls == 0x0b)
                        return true;
        return false;
}

/* logind's seat of a device: udev's ID_SEAT, seat0 without one (as logind). */
static void device_seat(Manager *m, const Device *d, char *buf, size_t size) {
        struct udev_device *u = m->udev ? udev_device_new_from_syspath(m->udev, d->syspath) : NULL;
        const char *seat = u ? udev_device_get_property_value(u, "ID_SEAT") : NULL;

        if (!seat || !*seat || strlen(seat) > SEAT_ID_MAX ||
            strspn(seat, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(seat))
                seat = "seat0";
        snprintf(buf, size, "%s", seat);
        udev_device_unref(u);
}

/* The USB device a reader is: pcsc-lite names a USB reader with its serial number in
 * parentheses, and the gate knows the devices present. Exactly one smart-card device whose
 * serial the name carries, or the reader stays unplaced (a reader without a serial, a virtual
 * one, two devices claiming one serial). */
static void place_reader(Manager *m, CardReader *r) {
        const Device *found = NULL;

        r->placed = false;
        for (const Device *d = m->devices; d; d = d->next) {
                if (!has_smartcard_interface(d) || !tg_token_reader_names_serial(r->reader, d->serial))
                        continue;
                if (found)
                        return; /* ambiguous */
                found = d;
        }
        if (!found)
                return;
        r->placed = true;
        r->vid = found->desc.vid;
        r->pid = found->desc.pid;
        snprintf(r->serial, sizeof(r->serial), "%s", found->serial);
        snprintf(r->device, sizeof(r->device), "%s", found->sysname);
        device_seat(m, found, r->seat, sizeof(r->seat));
}

static CardReader *find_reader(IdleLock *il, const char *reader) {
        for (size_t i = 0; i < CARD_READERS_MAX; i++)
                if (il->readers[i].reader[0] && strcmp(il->readers[i].reader, reader) == 0)
                        return &il->readers[i];
        return NULL;
}

static bool card_reader_followed(Manager *m, const char *reader) {
        const char *want = m->cfg.idle_card_readers;
        return want[0] && (strcmp(want, "*") == 0 || strncmp(reader, want, strlen(want)) == 0);
}

/* A card went in: where its reader is, kept for the card's removal. */
static void on_card_inserted(Manager *m, const char *reader) {
        IdleLock *il = m->idle;
        CardReader *r = find_reader(il, reader);

        if (!r) {
                r = &il->readers[il->next_reader];
                il->next_reader = (il->next_reader + 1) % CARD_READERS_MAX;
        }
        *r = (CardReader){0};
        snprintf(r->reader, sizeof(r->reader), "%s", reader);
        place_reader(m, r);
        log_msg(LOG_INFO, "IC card inserted in %s (%s%s)", reader,
                r->placed ? "USB device " : "not placed on a USB device", r->placed ? r->device : "");
}

/* Locks the sessions a card removal concerns; returns how many were asked. owner_uid is the
 * reader's owner or (uid_t) -1; seat the reader's seat or NULL for every seat. */
static unsigned lock_for_card(Manager *m, uid_t owner_uid, const char *seat) {
        uint64_t now = now_usec(m);
        unsigned n = 0;

        for (IdleSession *s = m->idle->sessions; s; s = s->next) {
                bool concerned = owner_uid != (uid_t) -1 ? s->info.uid == owner_uid
                                                         : s->info.seat[0] && !s->info.remote &&
                                                                   (!seat || strcmp(s->info.seat, seat) == 0);
                if (concerned && lockable(s)) {
                        lock_now(m, s, IDLE_REASON_CARD, NULL, now);
                        n++;
                }
        }
        return n;
}

/* A card left a reader: the person it belongs to is leaving. A reader of the token registry
 * with an owner locks that owner's sessions; a reader without an owner locks the local
 * sessions of the seat it is attached to; a reader termguard cannot place on one USB device
 * locks every local session on a seat (the terminal's readers; remote sessions have nobody
 * here): fail closed. */
static void on_card_removed(Manager *m, const char *reader) {
        IdleLock *il = m->idle;
        CardReader *r = find_reader(il, reader), here = {0};
        const tg_token *t = NULL;
        const char *scope = "terminal";
        uid_t owner_uid = (uid_t) -1;
        unsigned n = 0;
        char count[16], why[160] = "";

        if (!card_reader_followed(m, reader)) {
                log_msg(LOG_INFO, "IC card removed from %s, a reader not in CardReaders=: nothing locked", reader);
                return;
        }
        if (!r) { /* the card was in before the reader was followed, and no insertion came */
                snprintf(here.reader, sizeof(here.reader), "%s", reader);
                place_reader(m, &here);
                r = &here;
        }
        if (r->placed) {
                t = tg_token_match(&m->tokens, r->vid, r->pid, r->serial);
                scope = "seat";
                if (t && t->owner[0]) {
                        tg_account a;
                        int e = tg_account_by_name(t->owner, &a);
                        if (e >= 0) {
                                owner_uid = a.uid;
                                scope = "owner";
                        } else /* fail closed: the seat's sessions */
                                snprintf(why, sizeof(why), "owner %s cannot be looked up: %s", t->owner, strerror(-e));
                }
        }
        if (logind_state(m) == LOGIND_ATTACHED)
                n = lock_for_card(m, owner_uid, strcmp(scope, "seat") == 0 ? r->seat : NULL);
        snprintf(count, sizeof(count), "%u", n);
        event_emit(IDLE_EV_CARD_LOCK, LOG_NOTICE,
                   logind_state(m) != LOGIND_ATTACHED ? "IC card removed, but the idle lock is not attached to logind"
                   : strcmp(scope, "owner") == 0      ? "IC card removed: its owner's sessions locked"
                   : strcmp(scope, "seat") == 0       ? "IC card removed: the sessions of the reader's seat locked"
                                                      : "IC card removed: the terminal's local sessions locked",
                   "reader", reader, "scope", scope, "token", t ? t->label : "", "owner", t ? t->owner : "", "device",
                   r->placed ? r->device : "", "seat", r->placed ? r->seat : "", "sessions", count, "error", why, NULL);
        if (r != &here)
                *r = (CardReader){0};
        if (n) {
                save_state(m);
                evaluate(m);
        }
}

static void on_card_changed(Manager *m, const char *reader, bool present) {
        if (present)
                on_card_inserted(m, reader);
        else
                on_card_removed(m, reader);
}

/* Readers are followed only when CardReaders= names some: without pcscd the thread would
 * retry for nothing. */
static void card_readers_apply(Manager *m) {
        IdleLock *il = m->idle;
        bool want = m->cfg.idle_card_readers[0] != '\0';
        int r;

        if (want == il->pcsc_on)
                return;
        if (!want) {
                pcsc_stop(m);
                il->pcsc_on = false;
                return;
        }
        r = pcsc_start(m, on_card_changed);
        if (r < 0)
                log_msg(LOG_ERR, "Cannot follow IC card readers: %s", strerror(-r));
        il->pcsc_on = r >= 0;
}

/* ---- the API ---- */

int idle_lock_start(Manager *m) {
        IdleLock *il = calloc(1, sizeof(*il));
        int r;

        if (!il)
                return -ENOMEM;
        m->idle = il;
        snprintf(il->state_path, sizeof(il->state_path), "%s/%s", m->cfg.runtime_dir, STATE_FILE);
        load_state(m);
        card_readers_apply(m);
        r = logind_start(m, &callbacks);
        if (r < 0) {
                event_emit(IDLE_EV_UNAVAILABLE, LOG_WARNING,
                           "Idle lock waiting: no session is locked until logind is reachable", "state",
                           logind_state_to_string(LOGIND_NO_BUS), "why", strerror(-r), NULL);
                return 0; /* the rest of the agent runs */
        }
        if (logind_state(m) != LOGIND_ATTACHED)
                event_emit(IDLE_EV_UNAVAILABLE, LOG_WARNING,
                           "Idle lock waiting: no session is locked until logind is reachable", "state",
                           logind_state_to_string(logind_state(m)), "why", "connecting", NULL);
        return 0;
}

void idle_lock_stop(Manager *m) {
        IdleLock *il = m->idle;
        if (!il)
                return;
        if (il->pcsc_on)
                pcsc_stop(m);
        logind_stop(m);
        il->timer = sd_event_source_unref(il->timer);
        il->sleep_timer = sd_event_source_disable_unref(il->sleep_timer);
        while (il->sessions) {
                IdleSession *s = il->sessions;
                il->sessions = s->next;
                free(s);
        }
        free(il->saved);
        free(il);
        m->idle = NULL;
}

void idle_lock_apply(Manager *m) {
        if (!m->idle)
                return;
        for (IdleSession *s = m->idle->sessions; s; s = s->next)
                s->privileged = is_privileged(m, &s->info);
        card_readers_apply(m);
        evaluate(m);
}

const IdleSession *idle_lock_sessions(Manager *m) {
        return m->idle ? m->idle->sessions : NULL;
}

LogindState idle_lock_state(Manager *m) {
        return logind_state(m);
}

int idle_lock_request(Manager *m, const char *id, const char *actor) {
        IdleLock *il = m->idle;
        uint64_t now = now_usec(m);
        int n = 0;

        if (!il || logind_state(m) != LOGIND_ATTACHED)
                return -ENOTCONN;
        if (id && !find(il, id))
                return -ENOENT;
        for (IdleSession *s = il->sessions; s; s = s->next) {
                if (id && strcmp(s->info.id, id) != 0)
                        continue;
                if (!lockable(s))
                        continue;
                lock_now(m, s, IDLE_REASON_ADMIN, actor, now);
                n++;
        }
        save_state(m);
        evaluate(m);
        return n;
}

void idle_lock_token_removed(Manager *m, uint16_t vid, uint16_t pid, const char *serial, const char *device) {
        IdleLock *il = m->idle;
        const tg_token *t = tg_token_match(&m->tokens, vid, pid, serial);
        uint64_t now;
        tg_account a;
        unsigned n = 0;
        char count[16], esc[TG_SERIAL_MAX * 4 + 8];
        int r;

        if (!t || !t->owner[0])
                return;
        r = tg_account_by_name(t->owner, &a);
        if (r < 0) {
                event_emit(IDLE_EV_TOKEN_LOCK, LOG_ERR, "Owner of a removed token cannot be looked up: nothing locked",
                           "token", t->label, "owner", t->owner, "device", device, "error", strerror(-r), NULL);
                return;
        }
        if (il && logind_state(m) == LOGIND_ATTACHED) {
                now = now_usec(m);
                for (IdleSession *s = il->sessions; s; s = s->next)
                        if (s->info.uid == a.uid && lockable(s)) {
                                lock_now(m, s, IDLE_REASON_TOKEN, NULL, now);
                                n++;
                        }
        }
        snprintf(count, sizeof(count), "%u", n);
        tg_escape_str(serial ? serial : "", esc, sizeof(esc));
        event_emit(IDLE_EV_TOKEN_LOCK, LOG_NOTICE,
                   logind_state(m) == LOGIND_ATTACHED ? "Token removed: its owner's sessions locked"
                                                      : "Token removed, but the idle lock is not attached to logind",
                   "token", t->label, "owner", t->owner, "device", device, "serial", esc, "sessions", count, NULL);
        if (n) {
                save_state(m);
                evaluate(m);
        }
}
