/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The system bus and logind. The connection waits for the bus socket to appear (sd-bus's
 * watch-bind: inotify, no polling) and starts over when the bus goes away; once connected it
 * waits for logind's name. Sessions are read with asynchronous calls and followed through
 * logind's signals. What changed goes up to the idle lock through LogindCallbacks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <systemd/sd-bus.h>

#include "event.h"
#include "logind.h"
#include "termguard/escape.h"
#include "termguard/macro.h"

#define LOGIND_NAME "org.freedesktop.login1"
#define LOGIND_PATH "/org/freedesktop/login1"
#define LOGIND_MANAGER_IFACE "org.freedesktop.login1.Manager"
#define LOGIND_SESSION_IFACE "org.freedesktop.login1.Session"
#define SESSION_PATH_PREFIX "/org/freedesktop/login1/session/"
#define DEFAULT_SYSTEM_BUS "unix:path=/run/dbus/system_bus_socket"

typedef struct Logind {
        sd_bus *bus;
        LogindState state;
        LogindCallbacks cb;
        sd_event_source *reconnect;
        int sleep_fd;         /* logind's delay inhibitor for sleep, -1 when not held */
        bool inhibiting;      /* an Inhibit call is on its way */
        unsigned pid_queries; /* GetSessionByPID calls on their way */
} Logind;

/* A pending call: whose reply it is. Freed with its slot. */
typedef struct {
        Manager *m;
        sd_bus *bus;
        char id[LOGIND_ID_MAX + 1];
        char path[LOGIND_PATH_MAX + 1];
        char method[16];
} Pending;

static int connect_bus(Manager *m);

const char *logind_state_to_string(LogindState s) {
        switch (s) {
        case LOGIND_NO_BUS: return "waiting for the system bus";
        case LOGIND_NO_LOGIND: return "waiting for logind";
        case LOGIND_ATTACHED: return "attached";
        }
        return "unknown";
}

LogindState logind_state(Manager *m) {
        return m->logind ? m->logind->state : LOGIND_NO_BUS;
}

static void set_state(Manager *m, LogindState s, const char *why) {
        Logind *l = m->logind;
        if (l->state == s)
                return;
        l->state = s;
        if (s != LOGIND_ATTACHED) {
                logind_release_sleep(m);
                l->inhibiting = false;
        }
        l->cb.state_changed(m, s, why);
}

/* Session ids are short and plain ("3", "c1"); anything else is not logind's. */
static bool valid_id(const char *id) {
        size_t n = strlen(id);
        if (n == 0 || n > LOGIND_ID_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
                      (id[i] >= '0' && id[i] <= '9') || id[i] == '_' || id[i] == '-'))
                        return false;
        return true;
}

static bool valid_session_path(const char *p) {
        return strncmp(p, SESSION_PATH_PREFIX, STRLEN(SESSION_PATH_PREFIX)) == 0 && strlen(p) <= LOGIND_PATH_MAX &&
               sd_bus_object_path_is_valid(p);
}

/* A string property into a bounded field, escaped (logind passes on what PAM was given: a
 * TTY or user name is shown and recorded, never trusted). A session with odd strings is
 * still followed and locked. */
static int read_string(sd_bus_message *msg, char *field, size_t size) {
        const char *s;
        int r = sd_bus_message_read(msg, "s", &s);
        if (r < 0)
                return r;
        tg_escape(s, strlen(s), size / 4, field, size);
        return 0;
}

/* One entry of a session's a{sv}: the properties termguard uses, others skipped. */
static int read_property(sd_bus_message *msg, LogindSession *s, bool *idle_seen) {
        const char *name;
        int b, r;

        r = sd_bus_message_enter_container(msg, SD_BUS_TYPE_DICT_ENTRY, "sv");
        if (r <= 0)
                return r;
        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
#define VARIANT(sig, read_stmt)                                                                                        \
        do {                                                                                                           \
                r = sd_bus_message_enter_container(msg, SD_BUS_TYPE_VARIANT, sig);                                     \
                if (r < 0)                                                                                             \
                        return r;                                                                                      \
                r = (read_stmt);                                                                                       \
                if (r < 0)                                                                                             \
                        return r;                                                                                      \
                r = sd_bus_message_exit_container(msg);                                                                \
        } while (0)
        if (strcmp(name, "Name") == 0)
                VARIANT("s", read_string(msg, s->user, sizeof(s->user)));
        else if (strcmp(name, "Class") == 0)
                VARIANT("s", read_string(msg, s->class_, sizeof(s->class_)));
        else if (strcmp(name, "Type") == 0)
                VARIANT("s", read_string(msg, s->type, sizeof(s->type)));
        else if (strcmp(name, "TTY") == 0)
                VARIANT("s", read_string(msg, s->tty, sizeof(s->tty)));
        else if (strcmp(name, "User") == 0) {
                uint32_t uid;
                const char *path;
                VARIANT("(uo)", sd_bus_message_read(msg, "(uo)", &uid, &path));
                s->uid = (uid_t) uid;
        } else if (strcmp(name, "Seat") == 0) {
                const char *seat, *path;
                VARIANT("(so)", sd_bus_message_read(msg, "(so)", &seat, &path));
                if (r >= 0 && strlen(seat) < sizeof(s->seat) &&
                    (!*seat || tg_valid_text(seat, sizeof(s->seat) - 1, false)))
                        memcpy(s->seat, seat, strlen(seat) + 1);
        } else if (strcmp(name, "Remote") == 0) {
                VARIANT("b", sd_bus_message_read(msg, "b", &b));
                s->remote = b;
        } else if (strcmp(name, "Active") == 0) {
                VARIANT("b", sd_bus_message_read(msg, "b", &b));
                s->active = b;
        } else if (strcmp(name, "IdleHint") == 0) {
                VARIANT("b", sd_bus_message_read(msg, "b", &b));
                s->idle_hint = b;
                *idle_seen = true;
        } else if (strcmp(name, "LockedHint") == 0) {
                VARIANT("b", sd_bus_message_read(msg, "b", &b));
                s->locked_hint = b;
        } else if (strcmp(name, "IdleSinceHint") == 0) {
                uint64_t t;
                VARIANT("t", sd_bus_message_read(msg, "t", &t));
                s->idle_since = t;
                *idle_seen = true;
        } else
                r = sd_bus_message_skip(msg, "v");
#undef VARIANT
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(msg);
        return r < 0 ? r : 1;
}

static int read_properties(sd_bus_message *msg, LogindSession *s, bool *idle_seen) {
        int r = sd_bus_message_enter_container(msg, SD_BUS_TYPE_ARRAY, "{sv}");
        if (r < 0)
                return r;
        while ((r = read_property(msg, s, idle_seen)) > 0)
                ;
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}

/* The id is the last element of the path, as logind escapes it (plain ids need no escaping). */
static int id_from_path(const char *path, char *id, size_t size) {
        _cleanup_free_ char *e = NULL;
        int r = sd_bus_path_decode(path, "/org/freedesktop/login1/session", &e);
        if (r <= 0 || !e || strlen(e) >= size || !valid_id(e))
                return -EBADMSG;
        memcpy(id, e, strlen(e) + 1);
        return 0;
}

static int pending_new(Manager *m, const char *id, const char *path, const char *method, Pending **ret) {
        Pending *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->m = m;
        p->bus = m->logind->bus;
        snprintf(p->id, sizeof(p->id), "%s", id);
        snprintf(p->path, sizeof(p->path), "%s", path);
        snprintf(p->method, sizeof(p->method), "%s", method);
        *ret = p;
        return 0;
}

/* The slot belongs to the bus from now on and frees p with it. */
static void pending_attach(sd_bus_slot *slot, Pending *p) {
        (void) sd_bus_slot_set_destroy_callback(slot, free);
        (void) sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        (void) p;
}

static bool current(const Pending *p) {
        return p->m->logind && p->m->logind->bus == p->bus;
}

static int on_get_all(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error _unused_) {
        Pending *p = userdata;
        LogindSession s = {0};
        bool idle_seen = false;
        int r;

        if (!current(p))
                return 0;
        if (sd_bus_message_is_method_error(reply, NULL)) {
                /* Gone between the signal and the call (SessionRemoved follows or came), or
                 * logind is in trouble. */
                log_msg(LOG_DEBUG, "Cannot read session %s: %s", p->id, sd_bus_message_get_error(reply)->message);
                p->m->logind->cb.refresh_failed(p->m, p->id);
                return 0;
        }
        snprintf(s.id, sizeof(s.id), "%s", p->id);
        snprintf(s.path, sizeof(s.path), "%s", p->path);
        r = read_properties(reply, &s, &idle_seen);
        if (r < 0) {
                log_msg(LOG_WARNING, "Session %s: logind's properties could not be read: %s", p->id, strerror(-r));
                p->m->logind->cb.refresh_failed(p->m, p->id);
                return 0;
        }
        p->m->logind->cb.session_changed(p->m, &s);
        return 0;
}

int logind_refresh(Manager *m, const char *id, const char *path) {
        Logind *l = m->logind;
        sd_bus_slot *slot = NULL;
        Pending *p;
        int r;

        if (!l || l->state != LOGIND_ATTACHED)
                return -ENOTCONN;
        r = pending_new(m, id, path, "GetAll", &p);
        if (r < 0)
                return r;
        r = sd_bus_call_method_async(l->bus, &slot, LOGIND_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                                     on_get_all, p, "s", LOGIND_SESSION_IFACE);
        if (r < 0) {
                free(p);
                return r;
        }
        pending_attach(slot, p);
        return 0;
}

static int on_call(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error _unused_) {
        Pending *p = userdata;
        const sd_bus_error *e;

        if (!current(p))
                return 0;
        e = sd_bus_message_get_error(reply);
        p->m->logind->cb.call_done(p->m, p->id, p->method, e ? -sd_bus_error_get_errno(e) ?: -EIO : 0,
                                   e ? (e->message ? e->message : e->name) : "");
        return 0;
}

int logind_call(Manager *m, const char *id, const char *path, const char *method) {
        Logind *l = m->logind;
        sd_bus_slot *slot = NULL;
        Pending *p;
        int r;

        if (!l || l->state != LOGIND_ATTACHED)
                return -ENOTCONN;
        r = pending_new(m, id, path, method, &p);
        if (r < 0)
                return r;
        r = sd_bus_call_method_async(l->bus, &slot, LOGIND_NAME, path, LOGIND_SESSION_IFACE, method, on_call, p, "");
        if (r < 0) {
                free(p);
                return r;
        }
        pending_attach(slot, p);
        return 0;
}

typedef struct {
        Manager *m;
        sd_bus *bus;
        LogindPidDone done;
        void *userdata;
} PidQuery;

static void pid_query_free(void *userdata) {
        PidQuery *q = userdata;
        if (q->m->logind && q->m->logind->pid_queries > 0)
                q->m->logind->pid_queries--;
        free(q->userdata);
        free(q);
}

static int on_session_by_pid(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error _unused_) {
        PidQuery *q = userdata;
        const sd_bus_error *e;
        const char *path;
        char id[LOGIND_ID_MAX + 1];

        if (!q->m->logind || q->m->logind->bus != q->bus)
                return 0;
        e = sd_bus_message_get_error(reply);
        if (e) {
                q->done(q->m, q->userdata, -sd_bus_error_get_errno(e) ?: -EIO, e->message ? e->message : e->name, NULL);
                return 0;
        }
        if (sd_bus_message_read(reply, "o", &path) < 0 || id_from_path(path, id, sizeof(id)) < 0) {
                q->done(q->m, q->userdata, -EBADMSG, "logind's answer is not a session", NULL);
                return 0;
        }
        q->done(q->m, q->userdata, 0, "", id);
        return 0;
}

int logind_session_of_pid(Manager *m, pid_t pid, LogindPidDone done, void *userdata) {
        Logind *l = m->logind;
        sd_bus_slot *slot = NULL;
        PidQuery *q;
        int r;

        if (!l || l->state != LOGIND_ATTACHED)
                return -ENOTCONN;
        if (pid <= 0)
                return -EINVAL;
        if (l->pid_queries >= LOGIND_PID_QUERIES_MAX)
                return -EBUSY;
        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (PidQuery){.m = m, .bus = l->bus, .done = done};
        r = sd_bus_call_method_async(l->bus, &slot, LOGIND_NAME, LOGIND_PATH, LOGIND_MANAGER_IFACE, "GetSessionByPID",
                                     on_session_by_pid, q, "u", (uint32_t) pid);
        if (r < 0) {
                free(q);
                return r;
        }
        /* From here the slot owns q and the caller's userdata. */
        q->userdata = userdata;
        l->pid_queries++;
        (void) sd_bus_slot_set_destroy_callback(slot, pid_query_free);
        (void) sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        return 0;
}

static int on_inhibit(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error _unused_) {
        Pending *p = userdata;
        Logind *l;
        int fd, r;

        if (!current(p))
                return 0;
        l = p->m->logind;
        l->inhibiting = false;
        if (sd_bus_message_is_method_error(reply, NULL)) {
                event_emit("idle.unavailable", LOG_WARNING,
                           "No delay inhibitor for sleep: sessions may not be locked before suspend", "state",
                           logind_state_to_string(l->state), "why", sd_bus_message_get_error(reply)->message, NULL);
                return 0;
        }
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0 || l->sleep_fd >= 0)
                return 0;
        /* the message owns fd: keep a copy */
        l->sleep_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (l->sleep_fd < 0)
                log_msg(LOG_ERR, "Cannot keep logind's inhibitor: %m");
        return 0;
}

void logind_inhibit_sleep(Manager *m) {
        Logind *l = m->logind;
        sd_bus_slot *slot = NULL;
        Pending *p;
        int r;

        if (!l || l->state != LOGIND_ATTACHED || l->sleep_fd >= 0 || l->inhibiting)
                return;
        r = pending_new(m, "", LOGIND_PATH, "Inhibit", &p);
        if (r < 0)
                return;
        r = sd_bus_call_method_async(l->bus, &slot, LOGIND_NAME, LOGIND_PATH, LOGIND_MANAGER_IFACE, "Inhibit",
                                     on_inhibit, p, "ssss", "sleep", "termguard", "Locking every session before sleep",
                                     "delay");
        if (r < 0) {
                free(p);
                log_msg(LOG_ERR, "Cannot ask logind for a sleep inhibitor: %s", strerror(-r));
                return;
        }
        pending_attach(slot, p);
        l->inhibiting = true;
}

void logind_release_sleep(Manager *m) {
        Logind *l = m->logind;
        if (l && l->sleep_fd >= 0) {
                close(l->sleep_fd);
                l->sleep_fd = -1;
        }
}

bool logind_holds_sleep(Manager *m) {
        return m->logind && m->logind->sleep_fd >= 0;
}

static int on_prepare_for_sleep(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error _unused_) {
        Manager *m = userdata;
        int start;
        if (sd_bus_message_read(msg, "b", &start) < 0 || m->logind->state != LOGIND_ATTACHED)
                return 0;
        m->logind->cb.prepare_for_sleep(m, start);
        return 0;
}

static void session_seen(Manager *m, const char *id, const char *path) {
        int r = logind_refresh(m, id, path);
        if (r < 0)
                log_msg(LOG_WARNING, "Cannot ask logind about session %s: %s", id, strerror(-r));
}

static int on_list_sessions(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error _unused_) {
        Pending *p = userdata;
        Manager *m = p->m;
        const char *id, *user, *seat, *path;
        uint32_t uid;
        int r;

        if (!current(p))
                return 0;
        if (sd_bus_message_is_method_error(reply, NULL)) {
                /* logind is not there (yet): its name appearing brings us back. */
                set_state(m, LOGIND_NO_LOGIND, sd_bus_message_get_error(reply)->message);
                return 0;
        }
        set_state(m, LOGIND_ATTACHED, "");
        logind_inhibit_sleep(m);
        r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(susso)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(susso)", &id, &uid, &user, &seat, &path)) > 0)
                if (valid_id(id) && valid_session_path(path))
                        session_seen(m, id, path);
        if (r < 0)
                log_msg(LOG_WARNING, "logind's list of sessions could not be read: %s", strerror(-r));
        return 0;
}

static int list_sessions(Manager *m) {
        Logind *l = m->logind;
        sd_bus_slot *slot = NULL;
        Pending *p;
        int r = pending_new(m, "", LOGIND_PATH, "ListSessions", &p);
        if (r < 0)
                return r;
        r = sd_bus_call_method_async(l->bus, &slot, LOGIND_NAME, LOGIND_PATH, LOGIND_MANAGER_IFACE, "ListSessions",
                                     on_list_sessions, p, "");
        if (r < 0) {
                free(p);
                return r;
        }
        pending_attach(slot, p);
        return 0;
}

static int on_session_new(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error _unused_) {
        Manager *m = userdata;
        const char *id, *path;
        if (sd_bus_message_read(msg, "so", &id, &path) < 0 || !valid_id(id) || !valid_session_path(path))
                return 0;
        if (m->logind->state == LOGIND_ATTACHED)
                session_seen(m, id, path);
        return 0;
}

static int on_session_removed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error _unused_) {
        Manager *m = userdata;
        const char *id, *path;
        if (sd_bus_message_read(msg, "so", &id, &path) < 0 || !valid_id(id))
                return 0;
        m->logind->cb.session_removed(m, id);
        return 0;
}

/* PropertiesChanged of a session: logind sends IdleHint, IdleSinceHint and LockedHint as
 * they change; the whole session is read again, so the idle lock always sees a consistent
 * one. */
static int on_properties_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error _unused_) {
        Manager *m = userdata;
        const char *path = sd_bus_message_get_path(msg), *iface;
        char id[LOGIND_ID_MAX + 1];

        if (!path || !valid_session_path(path) || id_from_path(path, id, sizeof(id)) < 0)
                return 0;
        if (sd_bus_message_read(msg, "s", &iface) < 0 || strcmp(iface, LOGIND_SESSION_IFACE) != 0)
                return 0;
        if (m->logind->state == LOGIND_ATTACHED)
                session_seen(m, id, path);
        return 0;
}

static int on_name_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error _unused_) {
        Manager *m = userdata;
        const char *name, *old_owner, *new_owner;
        int r;

        if (sd_bus_message_read(msg, "sss", &name, &old_owner, &new_owner) < 0 || strcmp(name, LOGIND_NAME) != 0)
                return 0;
        if (!*new_owner) {
                set_state(m, LOGIND_NO_LOGIND, "logind left the bus");
                return 0;
        }
        r = list_sessions(m);
        if (r < 0)
                log_msg(LOG_WARNING, "Cannot ask logind for its sessions: %s", strerror(-r));
        return 0;
}

static int on_connected(sd_bus_message *msg _unused_, void *userdata, sd_bus_error *ret_error _unused_) {
        Manager *m = userdata;
        int r;

        /* The state changes with logind's answer: attached, or waiting for logind. */
        r = list_sessions(m);
        if (r < 0)
                log_msg(LOG_WARNING, "Cannot ask logind for its sessions: %s", strerror(-r));
        return 0;
}

static int on_reconnect(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        Manager *m = userdata;
        int r = connect_bus(m);
        if (r < 0)
                log_msg(LOG_ERR, "Cannot connect to the system bus: %s", strerror(-r));
        return 0;
}

/* The bus went away (D-Bus restarted or stopped): start over, waiting for its socket. Not
 * from within the bus's own dispatch: a deferred event source does it. */
static int on_disconnected(sd_bus_message *msg _unused_, void *userdata, sd_bus_error *ret_error _unused_) {
        Manager *m = userdata;
        Logind *l = m->logind;

        set_state(m, LOGIND_NO_BUS, "the system bus went away");
        if (!l->reconnect &&
            sd_event_add_time_relative(m->event, &l->reconnect, CLOCK_MONOTONIC, 0, 0, on_reconnect, m) < 0)
                log_msg(LOG_ERR, "Cannot reconnect to the system bus");
        else if (l->reconnect)
                sd_event_source_set_enabled(l->reconnect, SD_EVENT_ONESHOT);
        return 0;
}

static int add_match(Manager *m, const char *path, const char *iface, const char *member, sd_bus_message_handler_t cb) {
        return sd_bus_match_signal_async(m->logind->bus, NULL, LOGIND_NAME, path, iface, member, cb, NULL, m);
}

static int connect_bus(Manager *m) {
        Logind *l = m->logind;
        const char *address = getenv("DBUS_SYSTEM_BUS_ADDRESS");
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        l->bus = sd_bus_flush_close_unref(l->bus);
        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, address && *address ? address : DEFAULT_SYSTEM_BUS);
        if (r < 0)
                return r;
        /* Wait for the socket to appear (inotify) instead of failing: at boot termguardd starts
         * before D-Bus. The Connected signal says when the bus answers. */
        if ((r = sd_bus_set_bus_client(bus, 1)) < 0 || (r = sd_bus_set_watch_bind(bus, 1)) < 0 ||
            (r = sd_bus_set_connected_signal(bus, 1)) < 0 || (r = sd_bus_attach_event(bus, m->event, 0)) < 0)
                return r;
        /* Local signals first; the bus's own matches once it is started (they are queued
         * until it answers). */
        if ((r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus.Local", NULL, "org.freedesktop.DBus.Local",
                                     "Connected", on_connected, m)) < 0 ||
            (r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus.Local", NULL, "org.freedesktop.DBus.Local",
                                     "Disconnected", on_disconnected, m)) < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r;
        l->bus = bus;
        if ((r = sd_bus_match_signal_async(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                           "org.freedesktop.DBus", "NameOwnerChanged", on_name_owner_changed, NULL,
                                           m)) < 0 ||
            (r = add_match(m, LOGIND_PATH, LOGIND_MANAGER_IFACE, "SessionNew", on_session_new)) < 0 ||
            (r = add_match(m, LOGIND_PATH, LOGIND_MANAGER_IFACE, "SessionRemoved", on_session_removed)) < 0 ||
            (r = add_match(m, LOGIND_PATH, LOGIND_MANAGER_IFACE, "PrepareForSleep", on_prepare_for_sleep)) < 0 ||
            (r = add_match(m, NULL, "org.freedesktop.DBus.Properties", "PropertiesChanged", on_properties_changed)) <
                    0) {
                l->bus = NULL;
                return r;
        }
        TAKE_PTR(bus);
        return 0;
}

int logind_start(Manager *m, const LogindCallbacks *cb) {
        Logind *l = calloc(1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        l->cb = *cb;
        l->state = LOGIND_NO_BUS;
        l->sleep_fd = -1;
        m->logind = l;
        r = connect_bus(m);
        if (r < 0) {
                free(l);
                m->logind = NULL;
                return r;
        }
        return 0;
}

void logind_stop(Manager *m) {
        Logind *l = m->logind;
        if (!l)
                return;
        l->reconnect = sd_event_source_unref(l->reconnect);
        logind_release_sleep(m);
        l->bus = sd_bus_flush_close_unref(l->bus);
        free(l);
        m->logind = NULL;
}
