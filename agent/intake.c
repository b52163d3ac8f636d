/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The intake of records from other programs (pam_termguard.so, termguard-mfa-verify,
 * termguardctl): the record socket and the spool. See intake.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "event.h"
#include "intake.h"
#include "socket-server.h"
#include "termguard/account.h"
#include "termguard/escape.h"
#include "termguard/fileio.h"
#include "termguard/macro.h"
#include "termguard/record.h"

#define INTAKE_CONNECTIONS_MAX 64
#define INTAKE_CONNECTIONS_PER_USER_MAX 4 /* for users other than root */
#define INTAKE_TIMEOUT_USEC (2 * 1000000ULL)
/* A user may hand in this many records in a window; beyond, they are refused (and counted in
 * one record.refused a window): nobody fills the journal from a shell. */
#define USER_RECORDS_PER_WINDOW 30
#define USER_WINDOW_USEC (60 * 1000000ULL)
/* ... and this many a day: 30 a minute all day long would still fill the journal. A screen
 * locker's failures are a handful a day; a user past this is refused until the day is over. */
#define USER_RECORDS_PER_DAY 500
#define USER_DAY_USEC (24 * 3600 * 1000000ULL)
/* A user's record is at most this long: a screen locker's failure names the user, the service
 * and a short detail. The rest of TG_RECORD_WIRE_MAX is for root's producers. */
#define USER_RECORD_WIRE_MAX 2048
#define REFUSED_SLOTS 32
/* Ids of records taken in over the socket: a producer that gave up waiting spooled the same
 * record, which is then not taken in twice. */
#define RECENT_IDS 256
#define SPOOL_FILE_MAX TG_RECORD_WIRE_MAX
/* Counting the spool for status stops here: a number that large says enough. */
#define SPOOL_COUNT_MAX 100000

typedef struct Intake {
        Manager *m;
        SocketServer *server;
        char recent[RECENT_IDS][TG_RECORD_ID_LEN + 1];
        unsigned next_recent;
        struct {
                uid_t uid;
                uint64_t window_start, day_start;
                unsigned accepted, refused, accepted_today;
                unsigned held_back; /* refusals not yet on the record */
        } users[REFUSED_SLOTS];
        unsigned next_user;
        /* The spool directory, watched (inotify): a record spooled while termguardd runs (it
         * answered too late, or its journal was full) is taken in at once, once per burst. */
        sd_event_source *spool_watch, *spool_take_in;
} Intake;

static uint64_t now_usec(Intake *in) {
        uint64_t now = 0;
        (void) sd_event_now(in->m->event, CLOCK_MONOTONIC, &now);
        return now;
}

static int64_t realtime_usec(Intake *in) {
        uint64_t now = 0;
        (void) sd_event_now(in->m->event, CLOCK_REALTIME, &now);
        return now > (uint64_t) TG_RECORD_TIME_MAX ? TG_RECORD_TIME_MAX : (int64_t) now;
}

static bool seen_recently(const Intake *in, const char *id) {
        for (size_t i = 0; i < RECENT_IDS; i++)
                if (strcmp(in->recent[i], id) == 0)
                        return true;
        return false;
}

static void remember(Intake *in, const char *id) {
        memcpy(in->recent[in->next_recent++ % RECENT_IDS], id, TG_RECORD_ID_LEN + 1);
}

/* The sender's command name and systemd unit (from its cgroup), escaped; "" when the process
 * is gone. The process waits for our answer, so its pid still names it. */
static void describe_sender(pid_t pid, tg_record_sender *s) {
        char path[64], buf[512];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/comm", (int) pid);
        n = tg_read_file(path, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        tg_escape(buf, strlen(buf), 15, s->comm, sizeof(s->comm));
        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
        n = tg_read_file(path, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        /* cgroup v2: "0::/system.slice/ssh.service"; the last component names the unit */
        char *line = strstr(buf, "0::");
        if (line) {
                line[strcspn(line, "\n")] = '\0';
                char *unit = strrchr(line, '/');
                unit = unit ? unit + 1 : line + 3;
                tg_escape(unit, strlen(unit), 31, s->unit, sizeof(s->unit));
        }
}

/* The counters of uid in the current window (a new window once the last is over). */
static size_t user_slot(Intake *in, uid_t uid) {
        uint64_t now = now_usec(in);
        size_t i;

        for (i = 0; i < REFUSED_SLOTS; i++)
                if (in->users[i].window_start && in->users[i].uid == uid)
                        break;
        if (i == REFUSED_SLOTS) {
                i = in->next_user++ % REFUSED_SLOTS;
                in->users[i].uid = uid;
                in->users[i].window_start = in->users[i].day_start = 0;
                in->users[i].held_back = in->users[i].accepted_today = 0;
        }
        if (!in->users[i].day_start || now - in->users[i].day_start >= USER_DAY_USEC) {
                in->users[i].day_start = now ? now : 1;
                in->users[i].accepted_today = 0;
        }
        if (!in->users[i].window_start || now - in->users[i].window_start >= USER_WINDOW_USEC) {
                in->users[i].window_start = now ? now : 1;
                in->users[i].accepted = in->users[i].refused = 0;
        }
        return i;
}

/* One record.refused per user and window, with how many it stands for: refusals cannot flood
 * the journal either. The first refusal of a window is recorded at once; the count of the
 * ones after it goes with the first of the next window. */
static void refused(Intake *in, uid_t uid, const char *claimed, const char *reason) {
        char count[16], esc[128];
        size_t i = user_slot(in, uid);

        if (in->users[i].refused++ > 0) {
                in->users[i].held_back++;
                return;
        }
        tg_escape(claimed, strlen(claimed), 40, esc, sizeof(esc));
        snprintf(count, sizeof(count), "%u", in->users[i].held_back + 1);
        in->users[i].held_back = 0;
        log_msg(LOG_WARNING, "Refused a record from uid %u: %s", (unsigned) uid, reason);
        event_emit("record.refused", LOG_WARNING, "Refused a record handed to termguardd", "claimed_type", esc,
                   "reason", reason, "refusals", count, NULL);
}

/* Whether a user other than root may hand in one more record in this window and this day. */
static bool user_within_rate(Intake *in, uid_t uid) {
        size_t i = user_slot(in, uid);
        if (in->users[i].accepted >= USER_RECORDS_PER_WINDOW || in->users[i].accepted_today >= USER_RECORDS_PER_DAY)
                return false;
        in->users[i].accepted++;
        in->users[i].accepted_today++;
        return true;
}

/* A record from a user other than root speaks only of that user: a screen locker reports its
 * own user's failure. Naming another account would put failures (and lockout alerts) on a
 * colleague's name. Returns NULL or why not. */
static const char *user_record_problem(const tg_record *rec, uid_t uid) {
        static const char *const names[] = {"user", "actor"};
        tg_account a;

        if (tg_account_by_uid(uid, &a) < 0)
                return "the sender's uid has no account";
        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                const char *v = tg_record_get(rec, names[k]);
                if (v && *v && strcmp(v, a.name) != 0)
                        return k == 0 ? "field \"user\" is not the sender's account"
                                      : "field \"actor\" is not the sender's account";
        }
        return NULL;
}

static void answer(ServerConnection *c, const char *text) {
        /* SOCK_SEQPACKET: one answer, whole or not at all; a peer that left gets none. */
        (void) send(c->fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void take_record(Intake *in, ServerConnection *c, const char *buf, size_t len) {
        tg_record rec;
        char err[256], reply[320];
        uid_t uid = c->cred.uid;
        tg_event_senders sender = uid == 0 ? TG_SENDER_ROOT : TG_SENDER_USER;
        int r;

        if (tg_record_decode(buf, len, false, &rec, err, sizeof(err)) < 0) {
                refused(in, uid, "", err);
                snprintf(reply, sizeof(reply), "refused %s\n", err);
                answer(c, reply);
                return;
        }
        if (!tg_event_sender_may(rec.event, sender)) {
                snprintf(err, sizeof(err), "%s may not be submitted by uid %u", rec.event->type, (unsigned) uid);
                refused(in, uid, rec.event->type, err);
                snprintf(reply, sizeof(reply), "refused %s\n", err);
                answer(c, reply);
                tg_record_done(&rec);
                return;
        }
        if (uid != 0) {
                const char *problem = len > USER_RECORD_WIRE_MAX ? "record longer than a user may send"
                                                                 : user_record_problem(&rec, uid);
                bool refuse = true;
                if (problem)
                        snprintf(err, sizeof(err), "%s (uid %u)", problem, (unsigned) uid);
                else if (!user_within_rate(in, uid))
                        snprintf(err, sizeof(err), "more than %d records a minute or %d a day from uid %u",
                                 USER_RECORDS_PER_WINDOW, USER_RECORDS_PER_DAY, (unsigned) uid);
                else
                        refuse = false;
                if (refuse) {
                        refused(in, uid, rec.event->type, err);
                        snprintf(reply, sizeof(reply), "refused %s\n", err);
                        answer(c, reply);
                        tg_record_done(&rec);
                        return;
                }
                /* It arrives as it is made: termguardd's clock, not the user's word, says when. */
                rec.time = realtime_usec(in);
        }
        if (seen_recently(in, rec.id)) {
                /* The producer gave up waiting and spooled it, and the spool was taken in
                 * first: it is on the record once already. */
                answer(c, "ok\n");
                tg_record_done(&rec);
                return;
        }
        rec.sender = (tg_record_sender){.via = TG_RECORD_VIA_SOCKET, .uid = uid, .pid = c->cred.pid};
        describe_sender(c->cred.pid, &rec.sender);
        r = event_record(&rec);
        if (r < 0)
                /* No answer: a root producer spools the record, a user's gets the error. */
                log_msg(LOG_ERR, "Could not record %s from uid %u: %s", rec.event->type, (unsigned) uid, strerror(-r));
        else {
                remember(in, rec.id);
                answer(c, "ok\n");
        }
        tg_record_done(&rec);
}

static void connection_io(ServerConnection *c, void *userdata) {
        Intake *in = userdata;
        _cleanup_free_ char *buf = malloc(TG_RECORD_WIRE_MAX + 1);
        ssize_t n;

        if (!buf) {
                socket_server_close(c);
                return;
        }
        /* MSG_TRUNC: the real length of a record too long for the buffer, which is refused. */
        n = recv(c->fd, buf, TG_RECORD_WIRE_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n > 0 && (size_t) n > TG_RECORD_WIRE_MAX) {
                refused(in, c->cred.uid, "", "record too long");
                answer(c, "refused record too long\n");
        } else if (n > 0)
                take_record(in, c, buf, (size_t) n);
        socket_server_close(c);
}

/* Root's producers (logins) always get in while there is room at all. */
static bool connection_admit(ServerConnection *c, void *userdata _unused_) {
        return c->cred.uid == 0;
}

static const SocketServerProtocol intake_protocol = {
        .name = TG_RECORD_SOCKET,
        .type = SOCK_SEQPACKET,
        .backlog = 64,
        .size = sizeof(ServerConnection),
        .max = INTAKE_CONNECTIONS_MAX,
        .max_unprivileged = INTAKE_CONNECTIONS_MAX,
        .max_per_user = INTAKE_CONNECTIONS_PER_USER_MAX,
        .timeout_usec = INTAKE_TIMEOUT_USEC,
        .admit = connection_admit,
        .io = connection_io,
};

static int spool_take_in(sd_event_source *s, void *userdata);

/* Whether the journal may take records in now: while it was never created or cannot be
 * written, each would fail again (the spool waits for the start or reload that opens it). */
static bool journal_usable(void) {
        event_journal_info j;
        event_journal_status(&j);
        return j.state != EVENT_JOURNAL_NOT_INITIALISED && j.state != EVENT_JOURNAL_UNWRITABLE;
}

static int spool_changed(sd_event_source *s _unused_, const struct inotify_event *ev, void *userdata) {
        Intake *in = userdata;

        /* The directory went (removed or moved by hand): watched again once it is made anew. */
        if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
                in->spool_watch = sd_event_source_disable_unref(in->spool_watch);
                return sd_event_source_set_enabled(in->spool_take_in, SD_EVENT_ONESHOT);
        }
        /* Only files with a spool name; what the take-in itself sets aside (bad-*) is none. */
        if (ev->len == 0 || !tg_record_spool_name_valid(ev->name))
                return 0;
        return sd_event_source_set_enabled(in->spool_take_in, SD_EVENT_ONESHOT);
}

/* Makes the spool (root:root 0700, as producers would) and watches it for files moved in:
 * producers write a spool file under a temporary name and rename it (IN_MOVED_TO); a file
 * written in place is taken once it is closed (IN_CLOSE_WRITE). Without a watch the spool is
 * taken in at start and reload only (logged). */
static int spool_watch_arm(Intake *in) {
        char path[PATH_MAX], err[512];
        _cleanup_close_ int dfd = -EBADF;
        int r;

        dfd = tg_record_spool_open(in->m->cfg.state_dir, true, err, sizeof(err));
        if (dfd < 0) {
                log_msg(LOG_WARNING, "The spool is not watched: %s; it is taken in at start and reload", err);
                return dfd;
        }
        snprintf(path, sizeof(path), "%s/%s", in->m->cfg.state_dir, TG_RECORD_SPOOL);
        r = sd_event_add_inotify(in->m->event, &in->spool_watch, path,
                                 IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |
                                         IN_DONT_FOLLOW,
                                 spool_changed, in);
        if (r < 0)
                log_msg(LOG_WARNING, "The spool %s is not watched: %s; it is taken in at start and reload", path,
                        strerror(-r));
        return r;
}

static void spool_watch_start(Intake *in) {
        /* One take-in after a burst of changes: a deferred source, armed by the watch, run
         * once the loop has handled what is pending (other records first). */
        if (sd_event_add_defer(in->m->event, &in->spool_take_in, spool_take_in, in) < 0)
                return;
        (void) sd_event_source_set_enabled(in->spool_take_in, SD_EVENT_OFF);
        (void) spool_watch_arm(in);
}

int intake_start(Manager *m) {
        Intake *in = calloc(1, sizeof(*in));
        int r;

        if (!in)
                return -ENOMEM;
        in->m = m;
        /* Anyone may connect: what each sender may submit is decided per record. */
        r = socket_server_start(m->event, m->cfg.runtime_dir, &intake_protocol, in, &in->server);
        if (r < 0) {
                free(in);
                return r;
        }
        m->intake = in;
        spool_watch_start(in);
        return 0;
}

void intake_stop(Manager *m) {
        Intake *in = m->intake;

        if (!in)
                return;
        socket_server_stop(in->server);
        sd_event_source_disable_unref(in->spool_watch);
        sd_event_source_disable_unref(in->spool_take_in);
        free(in);
        m->intake = NULL;
}

static int name_order(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int spool_entry(const struct dirent *de) {
        return tg_record_spool_name_valid(de->d_name);
}

/* A spool file nobody but root could have written: a regular file of root's, mode 0600, one
 * link. Read whole, bounded. */
static ssize_t read_spool_file(int dfd, const char *name, char *buf, size_t size) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        struct stat st;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077) || st.st_nlink != 1)
                return -EPERM;
        if ((size_t) st.st_size >= size)
                return -EFBIG;
        return tg_read_full(fd, buf, size);
}

/* A spool file that cannot be a record is kept aside (its name no longer a spool name, so it
 * is read once) for the administrator, and refused on the record. */
static void set_aside(Manager *m, int dfd, const char *name, const char *why) {
        char aside[300];
        snprintf(aside, sizeof(aside), "bad-%s", name);
        if (renameat(dfd, name, dfd, aside) < 0)
                log_msg(LOG_ERR, "Failed to set aside spool file %s: %m", name);
        refused(m->intake, 0, "", why);
}

int intake_spool(Manager *m) {
        _cleanup_close_ int dfd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct dirent **names = NULL;
        char err[512], count[16];
        int n, taken = 0, skipped = 0, r = 0;

        dfd = tg_record_spool_open(m->cfg.state_dir, false, err, sizeof(err));
        if (dfd == -ENOENT)
                return 0;
        if (dfd < 0) {
                log_msg(LOG_ERR, "Cannot take in the spool: %s", err);
                event_emit("spool.taken-in", LOG_ERR, "The spool could not be read", "records", "0", "error", err,
                           NULL);
                return dfd;
        }
        buf = malloc(SPOOL_FILE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        n = scandirat(dfd, ".", &names, spool_entry, name_order);
        if (n < 0) {
                r = -errno;
                log_msg(LOG_ERR, "Cannot list the spool: %s", strerror(-r));
                return r;
        }
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                tg_record rec;
                ssize_t len = r < 0 ? 0 : read_spool_file(dfd, name, buf, SPOOL_FILE_MAX + 1);

                if (r < 0)
                        ; /* a record could not be kept: the rest waits, in order, for the next time */
                else if (len < 0) {
                        snprintf(err, sizeof(err), "spool file %s: %s", name,
                                 len == -EPERM ? "not a root-only regular file" : strerror((int) -len));
                        set_aside(m, dfd, name, err);
                } else if (tg_record_decode(buf, (size_t) len, true, &rec, err, sizeof(err)) < 0) {
                        set_aside(m, dfd, name, err);
                } else if (!rec.has_sender || rec.sender.uid != 0 || !tg_event_sender_may(rec.event, TG_SENDER_ROOT)) {
                        snprintf(err, sizeof(err), "spool file %s: %s is not a root producer's record", name,
                                 rec.event->type);
                        tg_record_done(&rec);
                        set_aside(m, dfd, name, err);
                } else {
                        if (seen_recently(m->intake, rec.id))
                                skipped++; /* recorded from the socket already */
                        else
                                r = event_record(&rec);
                        if (r >= 0) {
                                taken += !seen_recently(m->intake, rec.id);
                                remember(m->intake, rec.id);
                                /* Only once recorded: a crash before this takes it in again. */
                                if (unlinkat(dfd, name, 0) < 0)
                                        log_msg(LOG_ERR, "Failed to delete spool file %s: %m", name);
                        }
                        tg_record_done(&rec);
                }
                free(names[i]);
        }
        free(names);
        if (n > 0 && fsync(dfd) < 0)
                log_msg(LOG_ERR, "Failed to sync the spool directory: %m");
        if (taken > 0 || r < 0) {
                snprintf(count, sizeof(count), "%d", taken);
                event_emit("spool.taken-in", r < 0 ? LOG_ERR : LOG_NOTICE,
                           "Records spooled while termguardd did not answer were taken in", "records", count, "error",
                           r < 0 ? strerror(-r) : NULL, NULL);
        }
        if (skipped > 0)
                log_msg(LOG_INFO, "%d spooled records had been recorded already", skipped);
        return r < 0 ? r : taken;
}

static int spool_take_in(sd_event_source *s _unused_, void *userdata) {
        Intake *in = userdata;

        if (!in->spool_watch)
                (void) spool_watch_arm(in); /* logged there */
        if (journal_usable())
                (void) intake_spool(in->m); /* logged there */
        return 0;
}

static int count_entry(const struct dirent *de) {
        return tg_record_spool_name_valid(de->d_name);
}

int intake_spool_waiting(Manager *m) {
        _cleanup_close_ int dfd = -EBADF;
        DIR *d;
        struct dirent *de;
        char err[512];
        int n = 0;

        dfd = tg_record_spool_open(m->cfg.state_dir, false, err, sizeof(err));
        if (dfd == -ENOENT)
                return 0;
        if (dfd < 0)
                return dfd;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        dfd = -EBADF; /* closedir closes it */
        while (n < SPOOL_COUNT_MAX && (de = readdir(d)))
                n += count_entry(de);
        closedir(d);
        return n;
}
