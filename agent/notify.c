/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Notices for staff, through the helper of their session (agent/notify.h). A helper asks with
 * session-notify on the control socket; its connection is kept once logind confirms that the
 * asking process is in the session it names (as for its idle reports: the uid by the caller,
 * the session of the pid by logind, the process by its start time). From then on the daemon
 * only writes to it, never blocking: a notice that cannot be written now waits in the
 * helper's queue, and a full queue drops its oldest notice and counts it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "event.h"
#include "logind.h"
#include "notify.h"
#include "termguard/control-proto.h"
#include "termguard/fileio.h"
#include "termguard/json-util.h"
#include "termguard/macro.h"

/* A subscription logind has not confirmed by then is dropped (logind went away meanwhile). */
#define PENDING_TIMEOUT_USEC (10 * 1000000ULL)
/* The kernel's buffer for one helper's notices (it doubles this): a few dozen notices. A helper
 * that leaves more unread does not read, and its queue then drops the oldest. */
#define HELPER_SNDBUF 8192
/* What a helper may send after its request (nothing is expected): read and thrown away. */
#define DISCARD_CHUNK 512

typedef struct Helper {
        struct Notify *nt;
        struct Helper *next;
        uint64_t serial; /* names it to logind's answer, which may come after it is gone */
        int fd;
        sd_event_source *io, *timer;
        char session[LOGIND_ID_MAX + 1];
        uid_t uid;
        pid_t pid;
        uint64_t start_time;
        bool confirmed;
        bool notify_only; /* measures no idle time: the session's idle reports are not its */
        tg_notice queue[NOTIFY_QUEUE_MAX];
        size_t head, n;
        char *out; /* the line being written: the reply, or the notice at head */
        size_t out_len, out_off;
        bool out_is_notice;
        uint64_t out_dropped; /* the drops the line being written tells of */
        uint64_t dropped;     /* notices dropped and not yet told of */
} Helper;

typedef struct Notify {
        Manager *m;
        Helper *helpers;
        unsigned n_helpers, n_pending;
        uint64_t next_serial;
} Notify;

static Notify *notify_get(Manager *m) {
        if (!m->notify) {
                m->notify = calloc(1, sizeof(Notify));
                if (m->notify)
                        m->notify->m = m;
        }
        return m->notify;
}

static void helper_free(Helper *h) {
        Notify *nt;

        if (!h)
                return;
        nt = h->nt;
        for (Helper **p = &nt->helpers; *p; p = &(*p)->next)
                if (*p == h) {
                        *p = h->next;
                        break;
                }
        if (h->confirmed)
                nt->n_helpers--;
        else
                nt->n_pending--;
        sd_event_source_unref(h->io);
        sd_event_source_unref(h->timer);
        if (h->fd >= 0)
                close(h->fd);
        free(h->out);
        free(h);
}

/* The next line to write: the notice at the head of the queue, carrying the count of those
 * dropped before it. A notice that does not encode (a bug) is dropped and counted. */
static int next_line(Helper *h) {
        while (!h->out && h->n > 0) {
                tg_notice n = h->queue[h->head];
                char *line = NULL;

                n.dropped = h->dropped > TG_NOTICE_DROPPED_MAX ? TG_NOTICE_DROPPED_MAX : h->dropped;
                h->out_dropped = n.dropped;
                if (tg_notice_encode(&n, &line) < 0) {
                        log_msg(LOG_ERR, "Session %s: a %s notice does not encode; dropped", h->session,
                                tg_notice_kind_to_string(n.kind));
                        h->head = (h->head + 1) % NOTIFY_QUEUE_MAX;
                        h->n--;
                        h->dropped++;
                        continue;
                }
                h->out = line;
                h->out_len = strlen(line);
                h->out_off = 0;
                h->out_is_notice = true;
        }
        return h->out ? 1 : 0;
}

/* Writes what can be written now; waits for EPOLLOUT for the rest. Returns -errno when the
 * helper is gone (the caller frees it). */
static int helper_flush(Helper *h) {
        while (next_line(h) > 0) {
                while (h->out_off < h->out_len) {
                        ssize_t k =
                                send(h->fd, h->out + h->out_off, h->out_len - h->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0 && errno == EAGAIN)
                                return sd_event_source_set_io_events(h->io, EPOLLIN | EPOLLOUT);
                        if (k < 0)
                                return -errno;
                        h->out_off += (size_t) k;
                }
                free(h->out);
                h->out = NULL;
                if (h->out_is_notice) {
                        h->head = (h->head + 1) % NOTIFY_QUEUE_MAX;
                        h->n--;
                        h->dropped -= h->out_dropped;
                }
                h->out_is_notice = false;
                if (!h->confirmed)
                        return -ECONNREFUSED; /* an error reply was the last word */
        }
        return sd_event_source_set_io_events(h->io, EPOLLIN);
}

static int helper_io(sd_event_source *s _unused_, int fd, uint32_t revents, void *userdata) {
        Helper *h = userdata;
        char buf[DISCARD_CHUNK];

        if (revents & EPOLLIN) {
                ssize_t k = read(fd, buf, sizeof(buf));
                if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
                        log_msg(LOG_DEBUG, "Session %s: the helper closed its notice connection", h->session);
                        helper_free(h);
                        return 0;
                }
        }
        if (revents & (EPOLLHUP | EPOLLERR) && !(revents & EPOLLIN)) {
                helper_free(h);
                return 0;
        }
        if (revents & EPOLLOUT && helper_flush(h) < 0)
                helper_free(h);
        return 0;
}

static int pending_timeout(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        Helper *h = userdata;
        log_msg(LOG_INFO, "Session %s: no answer from logind for the helper's notice request", h->session);
        helper_free(h);
        return 0;
}

static Helper *find_confirmed(Notify *nt, const char *session) {
        for (Helper *h = nt->helpers; h; h = h->next)
                if (h->confirmed && strcmp(h->session, session) == 0)
                        return h;
        return NULL;
}

static void reply(Helper *h, json_object *o) {
        char *text = NULL;
        int r = tg_ctl_reply_encode(TG_CTL_SESSION_NOTIFY, o, &text);

        json_object_put(o);
        if (r < 0) {
                log_msg(LOG_ERR, "Failed to encode the session-notify reply: %s", strerror(-r));
                return;
        }
        free(h->out);
        h->out = text;
        h->out_len = strlen(text);
        h->out_off = 0;
        h->out_is_notice = false;
}

typedef struct {
        uint64_t serial;
} PidQuery;

static void on_pid(Manager *m, void *userdata, int error, const char *why, const char *id) {
        const PidQuery *q = userdata;
        Notify *nt = m->notify;
        Helper *h = NULL, *old;
        uint64_t start;
        char text[160];

        for (Helper *i = nt ? nt->helpers : NULL; i; i = i->next)
                if (!i->confirmed && i->serial == q->serial)
                        h = i;
        if (!h)
                return; /* gone meanwhile */
        if (error < 0)
                snprintf(text, sizeof(text), "logind: %s", why);
        else if (strcmp(id, h->session) != 0)
                snprintf(text, sizeof(text), "the process is in session %s", id);
        else if (tg_proc_start_time(h->pid, &start) < 0 || start != h->start_time)
                snprintf(text, sizeof(text), "the process ended before logind answered");
        else
                text[0] = '\0';
        if (text[0]) {
                log_msg(LOG_WARNING, "Session %s: notice request of uid %u, process %d refused: %s", h->session,
                        (unsigned) h->uid, (int) h->pid, text);
                reply(h, tg_ctl_reply_error(TG_CTL_ERR_PERMISSION_DENIED, "not a process of session %s", h->session));
                if (helper_flush(h) < 0 || !h->out)
                        helper_free(h);
                return;
        }
        /* A refused one keeps its timer: it is gone at the latest then, read or not. */
        h->timer = sd_event_source_unref(h->timer);
        /* One helper per session: the newer one is the one the desktop runs now. */
        old = find_confirmed(nt, h->session);
        if (old)
                helper_free(old);
        h->confirmed = true;
        nt->n_pending--;
        nt->n_helpers++;
        log_msg(LOG_INFO, "Session %s: the helper (process %d) takes notices%s", h->session, (int) h->pid,
                h->notify_only ? " (notify-only: its idle time is logind's)" : "");
        reply(h, tg_ctl_reply_ok());
        if (helper_flush(h) < 0)
                helper_free(h);
}

int notify_adopt(Manager *m, int fd, const char *session, uid_t uid, pid_t pid, bool notify_only) {
        _cleanup_close_ int owned = fd;
        Notify *nt = notify_get(m);
        _cleanup_free_ PidQuery *q = NULL;
        Helper *h;
        uint64_t now;
        unsigned mine = 0;
        int r;

        if (!nt)
                return -ENOMEM;
        for (Helper *i = nt->helpers; i; i = i->next)
                if (!i->confirmed && i->uid == uid)
                        mine++;
        if (nt->n_pending >= NOTIFY_PENDING_MAX || mine >= NOTIFY_PENDING_PER_USER_MAX ||
            nt->n_helpers >= NOTIFY_HELPERS_MAX)
                return -EBUSY;
        if (strlen(session) > LOGIND_ID_MAX)
                return -EINVAL;
        h = calloc(1, sizeof(*h));
        q = calloc(1, sizeof(*q));
        if (!h || !q) {
                free(h);
                return -ENOMEM;
        }
        *h = (Helper){.nt = nt,
                      .fd = TAKE_FD(owned),
                      .uid = uid,
                      .pid = pid,
                      .serial = ++nt->next_serial,
                      .notify_only = notify_only};
        snprintf(h->session, sizeof(h->session), "%s", session);
        h->next = nt->helpers;
        nt->helpers = h;
        nt->n_pending++;
        q->serial = h->serial;
        if (setsockopt(h->fd, SOL_SOCKET, SO_SNDBUF, &(int){HELPER_SNDBUF}, sizeof(int)) < 0)
                log_msg(LOG_DEBUG, "Session %s: cannot bound the helper's buffer: %m", session);
        r = tg_proc_start_time(pid, &h->start_time);
        if (r >= 0)
                r = sd_event_add_io(m->event, &h->io, h->fd, EPOLLIN, helper_io, h);
        if (r >= 0)
                r = sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        if (r >= 0)
                r = sd_event_add_time(m->event, &h->timer, CLOCK_MONOTONIC, now + PENDING_TIMEOUT_USEC, 0,
                                      pending_timeout, h);
        if (r >= 0)
                r = logind_session_of_pid(m, pid, on_pid, q);
        if (r < 0) {
                helper_free(h);
                return r;
        }
        TAKE_PTR(q); /* logind's now */
        return 0;
}

bool notify_session(Manager *m, const char *session, uid_t uid, const tg_notice *n) {
        Notify *nt = m->notify;
        Helper *h = nt && session ? find_confirmed(nt, session) : NULL;

        if (!h || h->uid != uid) {
                log_msg(LOG_DEBUG, "Session %s: no helper to show a %s notice", session ? session : "-",
                        tg_notice_kind_to_string(n->kind));
                return false;
        }
        if (h->n == NOTIFY_QUEUE_MAX) {
                /* The notice being written stays whole: the next one gives way. */
                size_t victim = h->out && h->out_is_notice ? (h->head + 1) % NOTIFY_QUEUE_MAX : h->head;
                if (victim != h->head)
                        for (size_t i = victim; (i + 1) % NOTIFY_QUEUE_MAX != (h->head + h->n) % NOTIFY_QUEUE_MAX;
                             i = (i + 1) % NOTIFY_QUEUE_MAX)
                                h->queue[i] = h->queue[(i + 1) % NOTIFY_QUEUE_MAX];
                else
                        h->head = (h->head + 1) % NOTIFY_QUEUE_MAX;
                h->n--;
                if (h->dropped++ == 0)
                        log_msg(LOG_NOTICE, "Session %s: the helper does not read its notices; dropping the oldest",
                                h->session);
        }
        h->queue[(h->head + h->n) % NOTIFY_QUEUE_MAX] = *n;
        h->n++;
        if (helper_flush(h) < 0) {
                helper_free(h);
                return false;
        }
        return true;
}

void notify_session_ended(Manager *m, const char *session) {
        Notify *nt = m->notify;
        Helper *next;

        for (Helper *h = nt ? nt->helpers : NULL; h; h = next) {
                next = h->next;
                if (strcmp(h->session, session) == 0)
                        helper_free(h);
        }
}

bool notify_session_notify_only(Manager *m, const char *session) {
        const Helper *h = m->notify ? find_confirmed(m->notify, session) : NULL;
        return h && h->notify_only;
}

unsigned notify_helpers(Manager *m) {
        return m->notify ? m->notify->n_helpers : 0;
}

void notify_stop(Manager *m) {
        Notify *nt = m->notify;

        if (!nt)
                return;
        while (nt->helpers)
                helper_free(nt->helpers);
        free(nt);
        m->notify = NULL;
}
